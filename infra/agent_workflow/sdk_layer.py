"""The invoker's AWS SDK as a Lambda layer: boto3 and its closure exactly as pinned (with
hashes) in requirements/lambda.lock, not whatever the python3.12 runtime ships.

The layer keeps botocore's (and boto3's) data of the services the invoker calls alone
(INVOKER_SERVICES), beside botocore's shared files (endpoints, partitions, retry and default
configuration): all ~400 services' models are ~15 MB of the zip that every deploy uploads and
every new Lambda environment unpacks, locally and in AWS. The packages' code and dist-info stay
as installed (their RECORD still lists the models left out). A functional test creates every
client the invoker's code names from the layer alone (tests/functional/infra/test_sdk_layer.py).

Built on the host with uv (no Docker), for the function's platform, into one zip cached under
``.runtime/cache/lambda-layer/<hash>/`` by the lock's hash: synth and deploy reuse it, and the
asset's hash is that hash, so the layer is rebuilt, uploaded and published again only when the
lock (or the recipe below) changes, never for an edit of the handler.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_LOCK = REPO_ROOT / "requirements" / "lambda.lock"
# The function's runtime and platform: python3.12 on Amazon Linux 2023 (glibc 2.34), x86_64.
# (The SDK's packages are pure Python; the platform only keeps any future pin honest.)
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64
UV_INSTALL = (
    "pip",
    "install",
    "--quiet",
    "--python-version",
    "3.12",
    "--python-platform",
    "x86_64-manylinux_2_34",
    "--only-binary",
    ":all:",
    "--no-deps",  # the lock is the whole closure
    "--require-hashes",
)
# The AWS services whose clients the invoker creates (agent_invoker_lambda/handler.py; its
# bundled contract package creates none): the layer holds their models and no others.
INVOKER_SERVICES = ("bedrock-agentcore",)
# Where botocore and boto3 keep one folder per service (files beside them are shared).
SERVICE_DATA_DIRS = ("botocore/data", "boto3/data")
# Zip entries get one fixed time, so the same lock gives the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def layer_hash() -> str:
    """The layer's identity: the lock, how it is installed and which service data it keeps."""
    sha = hashlib.sha256(" ".join(UV_INSTALL).encode() + b"\0")
    sha.update(" ".join(INVOKER_SERVICES).encode() + b"\0")
    sha.update(inspect.getsource(keep_service_data).encode() + b"\0")
    sha.update(LAMBDA_LOCK.read_bytes())
    return sha.hexdigest()


def pinned_version(package: str) -> str:
    """The lock's version of ``package`` (e.g. boto3)."""
    found = re.search(rf"^{re.escape(package)}==(\S+)", LAMBDA_LOCK.read_text(), re.MULTILINE)
    if not found:
        raise ValueError(f"{package} is not pinned in {LAMBDA_LOCK}")
    return found.group(1)


def cache_root() -> Path:
    """Under the harness's runtime folder (HARNESS_RUNTIME_DIR, default .runtime/)."""
    runtime_dir = Path(os.environ.get("HARNESS_RUNTIME_DIR") or ".runtime")
    return (REPO_ROOT / runtime_dir).resolve() / "cache" / "lambda-layer"


def _uv() -> str:
    beside = Path(sys.executable).with_name("uv")  # the project's .venv has it
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        raise RuntimeError("uv is needed to build the invoker's SDK layer: run `make venv`")
    return found


def keep_service_data(site: Path, services: tuple[str, ...]) -> None:
    """Remove from the installed packages under ``site`` every service's data folder but
    those of ``services`` (each of which must be there: a misspelt name fails the build)."""
    kept = set(services)
    missing = kept - {entry.name for entry in (site / SERVICE_DATA_DIRS[0]).iterdir()}
    if missing:
        raise ValueError(f"botocore {pinned_version('botocore')} has no data for {missing}")
    for data in SERVICE_DATA_DIRS:
        for entry in (site / data).iterdir():
            if entry.is_dir() and entry.name not in kept:
                shutil.rmtree(entry)


def _zip_tree(root: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def build_layer_zip() -> Path:
    """The layer's zip (``python/<packages>``, as Lambda expects), built once per hash."""
    target = cache_root() / layer_hash()[:16] / "layer.zip"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        site = Path(tmp) / "tree" / "python"
        env = {**os.environ}
        env.setdefault("UV_CACHE_DIR", str(cache_root().parent / "uv"))
        subprocess.run(
            [_uv(), *UV_INSTALL, "--target", str(site), "-r", str(LAMBDA_LOCK)],
            check=True,
            env=env,
        )
        shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: host shebangs
        keep_service_data(site, INVOKER_SERVICES)
        _zip_tree(site.parent, Path(tmp) / "layer.zip")
        os.replace(Path(tmp) / "layer.zip", target)  # atomic: a half-built zip is never used
    return target


@jsii.implements(cdk.ILocalBundling)
class _LayerBundling:
    """Puts the cached zip in the asset (CDK uploads a lone zip as it is)."""

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        source = build_layer_zip()
        target = Path(output_dir) / source.name
        try:
            os.link(source, target)
        except OSError:  # another file system
            shutil.copyfile(source, target)
        return True


def sdk_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(LAMBDA_LOCK.parent),  # never read: the bundling makes the asset
        asset_hash=layer_hash(),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("unused"),  # local bundling always succeeds
            # The struct-vs-keywords mismatch of agent_invoker.invoker_code's bundling.
            local=_LayerBundling(),  # type: ignore[arg-type]
            output_type=cdk.BundlingOutput.ARCHIVED,
        ),
    )


class SdkLayer(Construct):
    """boto3 as pinned in requirements/lambda.lock, for python3.12 on x86_64, with the data
    of the invoker's services only."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=sdk_layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=f"boto3 {pinned_version('boto3')} "
            f"(botocore {pinned_version('botocore')}): requirements/lambda.lock; "
            f"service data: {', '.join(INVOKER_SERVICES)}",
        )
