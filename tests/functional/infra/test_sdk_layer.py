"""The invoker's SDK layer: boto3 as requirements/lambda.lock pins it, in a layer of its own
whose asset changes with the lock and only with it (the handler's edit loop never rebuilds or
re-uploads it). The build is cached under .runtime/cache/lambda-layer/ by the lock's hash (the
first synth on a machine builds it with uv, from PyPI)."""

from __future__ import annotations

import re
import sys
import zipfile

import pytest

from harness.settings import REPO_ROOT
from tests.support.templates import Synthesized, returning

sys.path.insert(0, str(REPO_ROOT / "infra"))

from agent_workflow import agent_invoker, sdk_layer

LOCK = REPO_ROOT / "requirements" / "lambda.lock"


def pins() -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", LOCK.read_text(), re.MULTILINE))


@pytest.fixture(scope="module", params=["local", "aws"])
def synthesized(request, tmp_path_factory) -> Synthesized:
    return Synthesized(request.param, tmp_path_factory.mktemp(f"cdk-{request.param}"))


def test_the_invoker_has_the_sdk_layer_for_its_runtime_and_architecture(synthesized):
    function = synthesized.one("AWS::Lambda::Function")["Properties"]
    (layer_id,) = synthesized.resources("AWS::Lambda::LayerVersion")
    assert function["Layers"] == [{"Ref": layer_id}]
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["x86_64"]
    layer = synthesized.one("AWS::Lambda::LayerVersion")["Properties"]
    assert layer["CompatibleRuntimes"] == ["python3.12"]
    assert layer["CompatibleArchitectures"] == ["x86_64"]
    assert f"boto3 {pins()['boto3']}" in layer["Description"]


def test_the_layer_asset_holds_exactly_the_locks_packages_under_python(synthesized):
    staged = synthesized.staged(synthesized.layer_key())
    assert staged.suffix == ".zip"  # uploaded as built: CDK zips nothing at deploy
    with zipfile.ZipFile(staged) as archive:
        names = archive.namelist()
    assert all(name.startswith("python/") for name in names)
    assert "python/boto3/__init__.py" in names
    installed = {
        re.sub(r"[-_.]+", "-", m.group(1)).lower(): m.group(2)
        for m in (re.match(r"python/([^/]+)-([^-/]+)\.dist-info/METADATA$", n) for n in names)
        if m
    }
    assert installed == {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in pins().items()}
    # The function's own zip stays the handler and the contract (a few kilobytes).
    function_zip = synthesized.staged(synthesized.function_key())
    assert sum(p.stat().st_size for p in function_zip.rglob("*") if p.is_file()) < 100_000


def test_the_layer_asset_changes_with_the_lock_and_only_with_it(monkeypatch, tmp_path):
    # GIVEN the stack as it is (the patched synths below are kept under keys naming the patches)
    base = Synthesized("local", tmp_path / "base")
    # WHEN the handler (or the contract) changes, THEN only the function's asset changes
    patched = returning(monkeypatch, agent_invoker, "bundle_hash", "0" * 64)
    edited = Synthesized("local", tmp_path / "edited", patched=patched)
    assert edited.function_key() != base.function_key()
    assert edited.layer_key() == base.layer_key()
    # WHEN the lock changes, THEN the layer's asset changes (a new S3 key: a new version)
    built = sdk_layer.build_layer_zip()
    # No second build: the layer the lock gives, as unpatched (so not named in the key).
    monkeypatch.setattr(sdk_layer, "build_layer_zip", lambda: built)
    patched |= returning(monkeypatch, sdk_layer, "layer_hash", "1" * 64)
    relocked = Synthesized("local", tmp_path / "relocked", patched=patched)
    assert relocked.layer_key() != base.layer_key()


def test_the_layer_hash_is_the_lock_and_the_install_recipe(monkeypatch, tmp_path):
    lock = tmp_path / "lambda.lock"
    lock.write_bytes(LOCK.read_bytes())
    monkeypatch.setattr(sdk_layer, "LAMBDA_LOCK", lock)
    before = sdk_layer.layer_hash()
    assert before == sdk_layer.layer_hash()  # stable
    lock.write_text(LOCK.read_text().replace("urllib3==", "urllib3==9"))
    assert sdk_layer.layer_hash() != before
    lock.write_bytes(LOCK.read_bytes())
    monkeypatch.setattr(sdk_layer, "UV_INSTALL", (*sdk_layer.UV_INSTALL, "--no-compile"))
    assert sdk_layer.layer_hash() != before
