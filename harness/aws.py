"""One place that builds the harness's AWS clients: LocalStack endpoint and test credentials
locally, the shell's credential chain (profile, environment, SSO...) on AWS.

The clients are botocore's, made by botocore sessions: what boto3 adds to a session (its
resources, S3's transfer methods, its data folder) the harness does not use, and importing
it costs each command ~0.02 CPU-s more (s3transfer, multiprocessing's managers)."""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.loaders import JSONFileLoader, Loader, instance_cache

from harness import recently_used
from harness.settings import Settings

LOCAL_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
# Clients are shared across threads (load tests, the bench publish in parallel): a pool
# wider than botocore's default 10 keeps their connections instead of discarding them.
_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=5,
    read_timeout=60,
    max_pool_connections=32,
)
# On AWS, ignore AWS_ENDPOINT_URL* from the shell (the Makefile exports the local one).
_AWS_CONFIG = _CONFIG.merge(Config(ignore_configured_endpoint_urls=True))


# One session per target makes every client of the process: its loader and endpoint resolver
# parse botocore's JSON data (endpoints, partitions, retry and default settings) once, not per
# client (a `python -m harness trigger --wait` makes four). A botocore session is not safe to
# make clients from in several threads at once (the bench's and the deploy's threads do): one
# at a time.
_MAKING_A_CLIENT = threading.Lock()


class ServiceLoader(Loader):  # type: ignore[misc]  # botocore ships no types
    """botocore's data loader, except that whether it knows a service is answered by that
    service's own folders: botocore lists all ~420 services' folders for it, once per kind of
    file (model, endpoint rules, paginators), ~8 ms of CPU each. A service it does not know
    still gets botocore's own error, naming the services it knows."""

    @instance_cache  # type: ignore[untyped-decorator]
    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        if not self._knows(service_name, type_name):  # botocore's error, or a path's answer
            return super().load_service_model(service_name, type_name, api_version)
        if api_version is None:
            api_version = self.determine_latest_version(service_name, type_name)
        model = self.load_data(os.path.join(service_name, api_version, type_name))
        self._extras_processor.process(
            model, self._find_extras(service_name, type_name, api_version)
        )
        return model

    def _knows(self, service_name: str, type_name: str) -> bool:
        """What ``service_name in list_available_services(type_name)`` answers: a folder of
        the service in a search path has an API version holding the file. A name that is
        not a folder's (``a/../b``) is left to botocore."""
        if service_name in ("", ".", "..") or os.sep in service_name:
            return False
        return any(
            self.file_loader.exists(os.path.join(folder, version, type_name))
            for folder in self._potential_locations(service_name, must_exist=True, is_dir=True)
            for version in os.listdir(folder)
        )


class KeptFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore ships no types
    """botocore's JSON data files, each parsed once per version of the file: what a parse
    gives is kept in ``folder`` as marshal data, which a process reads in a quarter of the
    time. A command's clients need the endpoints and three or four services' models and
    rules: ~40 ms of CPU parsed into botocore's OrderedDicts, ~11 ms read back. The data
    comes back as plain dicts (ordered too), whichever way it was read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        status = os.stat(full_path)
        stamp = (full_path, status.st_size, status.st_mtime_ns)
        kept = self.folder / f"{hashlib.sha256(full_path.encode()).hexdigest()[:32]}.marshal"
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
            kept_stamp, data = marshal.loads(kept.read_bytes())
            if tuple(kept_stamp) == stamp:
                return data
        data = _plain(super()._load_file(full_path, open_method))
        content = marshal.dumps((stamp, data))
        with contextlib.suppress(OSError):  # a cache: a read-only checkout parses each time
            self.folder.mkdir(parents=True, exist_ok=True)
            # Whole or not at all: another process may read it or write it at the same time.
            partial = kept.with_name(f".{kept.name}.{os.getpid()}.{threading.get_ident()}")
            recently_used.put_whole(kept, partial, lambda into: into.write_bytes(content))
        return data


def _plain(value: Any) -> Any:
    """JSON data with plain dicts for botocore's OrderedDicts (marshal keeps only dicts)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def data_folder(settings: Settings) -> Path:
    """Where the parsed botocore data is kept (KeptFileLoader)."""
    return settings.runtime_dir / "cache" / "botocore-data"


def _session(session: botocore.session.Session, data: Path) -> botocore.session.Session:
    """``session`` with a ServiceLoader on botocore's own search paths (AWS_DATA_PATH's),
    keeping what it parses in ``data``."""
    paths = list(session.get_component("data_loader").search_paths)
    loader = ServiceLoader(
        extra_search_paths=paths,
        include_default_search_paths=False,
        file_loader=KeptFileLoader(data),
    )
    session.register_component("data_loader", loader)
    return session


@cache
def _local_session(data: Path) -> botocore.session.Session:
    """A session that ignores the shell's AWS_PROFILE (a profile that does not exist would
    otherwise fail every local call); its clients get the local test credentials."""
    profile_ignored = {"profile": (None, None, None, None)}
    return _session(botocore.session.Session(session_vars=profile_ignored), data)


@cache
def _aws_session(data: Path) -> botocore.session.Session:
    """The shell's session, as boto3's default one is: AWS_PROFILE, the credential chain."""
    return _session(botocore.session.Session(), data)


@cache
def client(service: str, settings: Settings) -> Any:
    """A botocore client for ``service`` on the harness target (local runtime or real AWS)."""
    with _MAKING_A_CLIENT:
        if settings.is_local:
            return _local_session(data_folder(settings)).create_client(
                service,
                endpoint_url=settings.endpoint_url,
                region_name=settings.region,
                config=_CONFIG,
                **LOCAL_CREDENTIALS,
            )
        return _aws_session(data_folder(settings)).create_client(
            service, region_name=settings.region, config=_AWS_CONFIG
        )
