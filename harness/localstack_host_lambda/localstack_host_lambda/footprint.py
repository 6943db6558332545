"""Start-up patches that keep LocalStack's host process small (its on_infra_start hooks).

- Threads (a burst leaves ~100 gateway workers) and Python's own allocator leave freed memory
  in glibc's heaps; ``malloc_trim`` hands the free pages back to the system now and then.
- LocalStack keeps every thread it starts with ``start_thread`` (a few per session) and never
  joins them; on Python 3.13 a finished thread's stack stays mapped until it is joined: the
  same loop joins them first (``release_finished_threads``).
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

import contextlib
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


def release_finished_threads(threads: list[Any]) -> None:
    """Join the finished threads in ``threads`` (LocalStack's TMP_THREADS), and forget those
    whose stop at shutdown does nothing (no on_stop callback).

    LocalStack keeps every thread its ``start_thread`` started until it shuts down, never
    joined; on Python 3.13 a finished thread keeps its stack mapped until it is joined or its
    Thread object freed (3.12 detached it at start): a bench run left ~3,000 dead threads'
    stacks, ~32 kB resident each (~100 MB).
    """
    for thread in list(threads):
        if isinstance(thread, threading.Thread) and thread.ident and not thread.is_alive():
            thread.join()
            if getattr(thread, "on_stop", None) is None:
                with contextlib.suppress(ValueError):  # another pass removed it first
                    threads.remove(thread)


@hooks.on_infra_start()
def trim_freed_memory() -> None:
    from localstack.utils.threads import TMP_THREADS

    trim = _malloc_trim()

    def loop() -> None:
        while True:
            time.sleep(TRIM_INTERVAL_SECONDS)
            release_finished_threads(TMP_THREADS)
            if trim is not None:
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
