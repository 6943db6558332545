"""botocore's data files parsed once per test process: the functional tier's plug-in (loaded by
its conftest) gives every botocore session one data loader per data path.

Each session parses botocore's JSON (endpoints, partitions, each service's model and endpoint
rules) the first time one of its clients needs it, and moto starts every test with no default
boto3 session: every test's first client parsed them all again (the agent tests and the harness
tests on moto, 89 tests: 13.8 and 12.7 CPU-s before, 8.0 and 7.8 after). The files are
botocore's own, read-only and the same for the whole run; a session still makes its own
clients, credentials and endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator

import botocore.session
import pytest

from tests.support.helpers import plugin_module_with_stand_in_hooks

__all__ = ["botocore_data_parsed_once"]


@pytest.fixture(scope="session", autouse=True)
def botocore_data_parsed_once() -> Iterator[None]:
    """One loader per data path for every session of the run, made as the LocalStack plug-in
    makes it (footprint.shared_loader_factory: each session also adds boto3's data folder to
    its loader's search paths, which a shared loader then holds once, not once per test)."""
    with pytest.MonkeyPatch.context() as loading:  # LocalStack's hooks stood in, then not
        footprint = plugin_module_with_stand_in_hooks(loading, "footprint")
    with pytest.MonkeyPatch.context() as patch:
        shared = footprint.shared_loader_factory(botocore.session.create_loader)
        patch.setattr(botocore.session, "create_loader", shared)
        yield
