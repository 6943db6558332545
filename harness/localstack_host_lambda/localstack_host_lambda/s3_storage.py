"""LocalStack's S3 keeps its buckets' folders under ``/tmp/localstack-s3-storage``, a path its
S3 provider hard-codes (``DEFAULT_S3_TMP_DIR``, whatever TMPDIR says): one folder shared by
every host LocalStack on the machine (other checkouts', the tests' own), left behind with a
folder per bucket, where one instance deleting a bucket removes the folder another one writes
its large objects into. Here the provider's module gets the instance's own temporary folder
(the harness sets TMPDIR to it), which `down` removes, as soon as its body has run."""

from __future__ import annotations

import os
import tempfile
from types import ModuleType

from localstack.runtime import hooks

from localstack_host_lambda.footprint import once_loaded

S3_PROVIDER = "localstack.services.s3.provider"


def instance_storage() -> str:
    return os.path.join(tempfile.gettempdir(), "localstack-s3-storage")


def _storage_in_instance(provider: ModuleType) -> None:
    """Before any provider is made (LocalStack makes it at S3's first request)."""
    provider.DEFAULT_S3_TMP_DIR = instance_storage()  # type: ignore[attr-defined]


@hooks.on_runtime_create()
def keep_s3_storage_in_instance() -> None:
    """Before LocalStack loads its S3 provider (on S3's first request)."""
    once_loaded(S3_PROVIDER, _storage_in_instance)
