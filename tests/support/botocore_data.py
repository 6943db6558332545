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

import functools
from collections.abc import Iterator

import botocore.loaders
import botocore.session
import pytest

__all__ = ["botocore_data_parsed_once"]


@functools.cache
def _loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    """The one loader of the data path (AWS_DATA_PATH's value) for the whole process."""
    return botocore.loaders.create_loader(search_path_string)


@pytest.fixture(scope="session", autouse=True)
def botocore_data_parsed_once() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", _loader)
        yield
