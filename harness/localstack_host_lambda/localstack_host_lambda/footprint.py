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
  path, so each file is parsed and kept once (LocalStack's client factories, whose sessions
  made their loaders before the hooks ran, included), and LocalStack's own spec loader reads
  the files it shares with it through it. (The loaded data is read-only to botocore; one
  session's clients already shared it.)
- botocore parses its JSON data (service models, endpoints, rule sets) into OrderedDicts, which
  take about twice the memory of a dict; a dict keeps the order too (Python 3.7+) and nothing
  reads the data as an OrderedDict. ``load_data_as_dicts``: ~10 MB less for the models and
  endpoints of the services the stack uses.
- LocalStack's SSM provider (moto's SSM backend imports moto's EC2) and its Step Functions
  batch task (moto.batch imports moto's EC2 too) load moto's EC2 models, which read every
  region's instance type offerings at import (~40 MB of Python objects, ~45 MB RSS) that only
  EC2's instance calls read. ``defer_ec2_offerings``: each region's offerings are read when
  first looked up, the same data. (``deferred_packages`` keeps moto's EC2 models from being
  imported at all until something uses them.)
(Step Functions' per-task clients, which filled LocalStack's client cache, are reused since
``speedups.cache_assumed_roles`` keeps each role's client factory.)
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import time
from _collections_abc import dict_items, dict_values
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from botocore.exceptions import DataNotFoundError
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
    create = shared_loader_factory(botocore.session.create_loader)
    botocore.session.create_loader = create
    connect = sys.modules.get("localstack.aws.connect")
    if connect is not None:
        share_factory_loaders([connect.connect_to, connect.connect_externally_to], create)
    spec = sys.modules.get("localstack.aws.spec")
    if spec is not None:
        spec.loader.load_data_with_path = reading_through(spec.loader, create(None))


def share_factory_loaders(factories: Sequence[Any], create: Callable[[str | None], Any]) -> None:
    """LocalStack's two client factories (``connect_to``, ``connect_externally_to``, made when
    ``localstack.aws.connect`` is imported, before the hooks run) made their sessions' loaders
    then: each parsed its own copy of the endpoints and of the models its clients used. Their
    sessions get the shared loader, with the search paths they had added (LocalStack's data
    folder first, boto3's)."""
    for factory in factories:
        session = factory._session  # a boto3 Session
        own = session._loader
        loader = create(session._session.get_config_variable("data_path"))
        for index, path in enumerate(own.search_paths):
            if path not in loader.search_paths:
                loader.search_paths.insert(min(index, len(loader.search_paths)), path)
        session._session.register_component("data_loader", loader)
        session._loader = loader


def reading_through(loader: Any, shared: Any) -> Callable[[str], tuple[Any, str]]:
    """``loader``'s ``load_data_with_path``, taking a file's data from the ``shared`` loader
    (parsed there once, and kept) when both find it in the same place.

    LocalStack's own loader (``localstack.aws.spec.loader``: the specs its parsers and
    serializers use) parsed and kept its own copy of each service's model, beside the copy
    botocore's clients use: ~10 MB of the same objects. It applies LocalStack's patches to a
    copy (``PatchingLoader.load_data``), and its extras are botocore's (applied again, they
    change nothing), so the shared data is read, never changed."""
    own = loader.load_data_with_path

    def load_data_with_path(name: str) -> tuple[Any, str]:
        found = next(
            (p for p in loader._potential_locations(name) if loader.file_loader.exists(p)), None
        )
        if found is not None:
            with contextlib.suppress(DataNotFoundError):
                data, path = shared.load_data_with_path(name)
                if path == found:
                    return data, path
        return own(name)  # type: ignore[no-any-return]

    return load_data_with_path


@hooks.on_runtime_create()
def load_data_as_dicts() -> None:
    """botocore's JSON files parsed into plain dicts (its loader names OrderedDict as the
    object_pairs_hook, looked up at each load)."""
    import botocore.loaders

    setattr(botocore.loaders, "OrderedDict", dict)  # noqa: B010 - a module's global


class DeferredValues(dict[str, Any]):
    """A dict whose values are each loaded when first read (``d[key]``, ``get``, ``values``,
    ``items``); its keys are there from the start."""

    def __init__(self, loaders: dict[str, Callable[[], Any]]) -> None:
        super().__init__(dict.fromkeys(loaders))
        self._loaders = dict(loaders)
        self._lock = threading.Lock()

    def _load(self, key: str) -> None:
        with self._lock:
            load = self._loaders.pop(key, None)
            if load is not None:
                super().__setitem__(key, load())

    def __getitem__(self, key: str) -> Any:
        self._load(key)
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._loaders.pop(key, None)
            super().__setitem__(key, value)

    def get(self, key: str, default: Any = None) -> Any:
        self._load(key)
        return super().get(key, default)

    def values(self) -> dict_values[str, Any]:
        for key in list(self._loaders):
            self._load(key)
        return super().values()

    def items(self) -> dict_items[str, Any]:
        self.values()
        return super().items()


BodyRunner = Callable[[ModuleType], None]


def spec_with_body_wrapped(
    fullname: str, path: Sequence[str] | None, wrap: Callable[[BodyRunner], BodyRunner]
) -> importlib.machinery.ModuleSpec | None:
    """The path finder's spec of ``fullname`` with its module's body run through ``wrap``
    (source modules only: any other spec as found). The start-up hooks' import finders."""
    spec = importlib.machinery.PathFinder.find_spec(fullname, path)
    if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
        return spec
    loader: Any = spec.loader
    loader.exec_module = wrap(loader.exec_module)
    return spec


EC2_INSTANCE_TYPES = "moto.ec2.models.instance_types"
OFFERINGS_FOLDER = "/instance_type_offerings/"


class ModuleBodyWrapped(importlib.abc.MetaPathFinder):
    """Imports the module ``name`` with its body run through ``wrap``
    (spec_with_body_wrapped); any other module as the other finders do."""

    def __init__(self, name: str, wrap: Callable[[BodyRunner], BodyRunner]) -> None:
        self.name = name
        self.wrap = wrap

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return spec_with_body_wrapped(fullname, path, self.wrap)


def once_loaded(name: str, patch: Callable[[ModuleType], None]) -> None:
    """``patch(module)`` for the module ``name``: now if it is loaded, else as soon as its body
    has run (before anything imports from it)."""
    module = sys.modules.get(name)
    if module is not None:
        patch(module)
        return

    def body_then_patch(run_body: BodyRunner) -> BodyRunner:
        def exec_module(module: ModuleType) -> None:
            run_body(module)
            patch(module)

        return exec_module

    sys.meta_path.insert(0, ModuleBodyWrapped(name, body_then_patch))


def _offerings_deferred(run_body: BodyRunner) -> BodyRunner:
    """Moto's EC2 instance types module with its offerings deferred: while its body runs,
    moto's ``load_resource`` gives an empty list for an offerings file (the module tags each
    offering with its location type, a loop over nothing), and afterwards each location
    type's regions become a ``DeferredValues`` that reads the file and tags its offerings
    when the region is first looked up."""

    def exec_module(module: ModuleType) -> None:
        utils: Any = importlib.import_module("moto.utilities.utils")
        load_resource: Callable[[str, str], Any] = utils.load_resource
        files: dict[str, dict[str, str]] = {}  # location type -> region -> file

        def deferring(package: str, resource: str) -> Any:
            if OFFERINGS_FOLDER not in resource:
                return load_resource(package, resource)
            location_type, name = resource.split(OFFERINGS_FOLDER)[1].split("/")
            files.setdefault(location_type, {})[name.split(".")[0]] = resource
            return []

        utils.load_resource = deferring
        try:
            run_body(module)
        finally:
            utils.load_resource = load_resource
        offerings = module.INSTANCE_TYPE_OFFERINGS
        for location_type, regions in files.items():
            offerings[location_type] = DeferredValues(
                {
                    region: _offerings_loader(load_resource, module.__name__, location_type, file)
                    for region, file in regions.items()
                }
            )

    return exec_module


def _offerings_loader(
    load_resource: Callable[[str, str], Any], package: str, location_type: str, resource: str
) -> Callable[[], list[dict[str, Any]]]:
    def load() -> list[dict[str, Any]]:
        offerings: list[dict[str, Any]] = load_resource(package, resource)
        for offering in offerings:  # as the module tags them
            offering["LocationType"] = location_type
        return offerings

    return load


@hooks.on_runtime_create()
def defer_ec2_offerings() -> None:
    """Before LocalStack's providers import moto's EC2 models."""
    if EC2_INSTANCE_TYPES not in sys.modules:
        sys.meta_path.insert(0, ModuleBodyWrapped(EC2_INSTANCE_TYPES, _offerings_deferred))


def _is_service_model(cache_key: tuple[Any, ...]) -> bool:
    """A botocore loader cache entry holding a service's model (not the partitions, nor the
    list of services and their versions, which are small and every client needs)."""
    method, *args = cache_key
    return method == "load_service_model" or (
        method == "load_data_with_path" and str(args[0]).endswith("/service-2")
    )


def forgetting_what_it_loads(get_available_regions: Callable[..., Any]) -> Callable[..., Any]:
    """botocore's ``Session.get_available_regions``, leaving its loader's cache as it found it.

    It loads a service's whole model to read one field (its endpoint prefix); with the loader
    shared, that model stayed cached for the process's life: moto's EC2 models list EC2's
    regions at import (EC2's model, ~7 MB of objects), LocalStack's stores each service's once.
    A client that needs the model loads it again. Only the service models are forgotten (the
    partitions and the list of services stay), and the answers (short lists) are kept: each
    LocalStack store asks for its service's regions, then CloudWatch's in each other partition,
    and loading all of it again for each cost ~2 CPU-s per LocalStack start."""
    answers: dict[tuple[Any, ...], list[str]] = {}

    def get_available_regions_forgetting(self: Any, *args: Any, **kwargs: Any) -> Any:
        question = (*args, *sorted(kwargs.items()))
        if question in answers:
            return list(answers[question])
        cache: dict[Any, Any] = getattr(self.get_component("data_loader"), "_cache", {})
        before = set(cache)
        try:
            regions = get_available_regions(self, *args, **kwargs)
        finally:
            for key in set(cache) - before:
                if _is_service_model(key):
                    cache.pop(key, None)
        answers[question] = list(regions)
        return regions

    return get_available_regions_forgetting


@hooks.on_runtime_create()
def forget_models_loaded_for_regions() -> None:
    """Before LocalStack (and moto) list a service's regions."""
    import botocore.session

    session: Any = botocore.session.Session
    session.get_available_regions = forgetting_what_it_loads(session.get_available_regions)
