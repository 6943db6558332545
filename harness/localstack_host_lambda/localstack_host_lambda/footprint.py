"""Start-up patches that keep LocalStack's host process small (its on_infra_start hooks).

- Threads (a burst leaves ~100 gateway workers) and Python's own allocator leave freed memory
  in glibc's heaps; ``malloc_trim`` hands the free pages back to the system now and then.
- Every botocore session LocalStack makes (its internal clients, the S3, DynamoDB and
  CloudFormation providers ...) built its own data loader, and each loader parsed and kept
  its own copy of ``endpoints.json`` (~7 MB of Python objects) and of every service model
  its clients used: seen after a deploy and a session, 5 loaders, 5 copies of the endpoints,
  3 of S3's and SSM's models. ``share_botocore_loaders`` gives sessions one loader per data
  path, so each file is parsed and kept once. (The loaded data is read-only to botocore; one
  session's clients already shared it.)
- botocore parses its JSON data (service models, endpoints, rule sets) into OrderedDicts, which
  take about twice the memory of a dict; a dict keeps the order too (Python 3.7+) and nothing
  reads the data as an OrderedDict. ``load_data_as_dicts``: ~10 MB less for the models and
  endpoints of the services the stack uses.
(Step Functions' per-task clients, which filled LocalStack's client cache, are reused since
``speedups.cache_assumed_roles`` keeps each role's client factory.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable
from typing import Any

from localstack.runtime import hooks

TRIM_INTERVAL_SECONDS = 15.0


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


@hooks.on_infra_start()
def trim_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is None:
        return

    def loop() -> None:
        while True:
            time.sleep(TRIM_INTERVAL_SECONDS)
            trim(0)

    threading.Thread(target=loop, daemon=True, name="malloc-trim").start()


class SearchPaths(list[str]):
    """A loader's search paths where appending a path it has changes nothing: every boto3
    session appends boto3's data folder to its loader's paths, which a shared loader would
    otherwise collect once per session (and search them all on every load)."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def shared_loader_factory(create: Callable[[str | None], Any]) -> Callable[[str | None], Any]:
    """``create`` (botocore's ``create_loader``), returning one loader per search path."""
    loaders: dict[str | None, Any] = {}
    lock = threading.Lock()

    def create_shared(search_path_string: str | None = None) -> Any:
        with lock:
            loader = loaders.get(search_path_string)
            if loader is None:
                loader = loaders[search_path_string] = create(search_path_string)
                loader._search_paths = SearchPaths(loader.search_paths)
            return loader

    return create_shared


@hooks.on_runtime_create()
def share_botocore_loaders() -> None:
    """Before LocalStack makes its first client (on_runtime_create: the earliest hook)."""
    import botocore.session

    # A session looks the name up when it first needs its loader (a lazy component).
    botocore.session.create_loader = shared_loader_factory(botocore.session.create_loader)


@hooks.on_runtime_create()
def load_data_as_dicts() -> None:
    """botocore's JSON files parsed into plain dicts (its loader names OrderedDict as the
    object_pairs_hook, looked up at each load)."""
    import botocore.loaders

    setattr(botocore.loaders, "OrderedDict", dict)  # noqa: B010 - a module's global
