"""The aws stage's agent image asset: agent/Dockerfile's production target, built from the
repository root with only the agent (less its test doubles) and the contract in its context."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.settings import REPO_ROOT
from tests.support import synth_cache
from tests.support.templates import Synthesized


def _product_files(folder: str) -> set[str]:
    """The files of the repository folder that the production image needs."""
    return {
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / folder).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix != ".pyc"
        and "testing" not in path.relative_to(REPO_ROOT).parts
    }


@pytest.fixture(scope="module")
def image_asset(tmp_path_factory) -> tuple[dict, Path]:
    synthesized = Synthesized("aws", tmp_path_factory.mktemp("cdk-aws"))
    (image,) = synthesized.assets["dockerImages"].values()
    return image["source"], synthesized.outdir / image["source"]["directory"]


def test_the_image_is_the_production_target_for_arm64(image_asset):
    source, _ = image_asset
    assert source["dockerFile"] == "agent/Dockerfile"
    assert source["dockerBuildTarget"] == "production"
    assert source["platform"] == "linux/arm64"


def test_the_build_context_holds_the_agent_and_the_contract_only(image_asset):
    _, context = image_asset
    staged = {path.relative_to(context).as_posix() for path in context.rglob("*") if path.is_file()}
    assert staged == {".dockerignore"} | _product_files("agent") | _product_files("contract")
    assert "agent/testing/scripted_model.py" not in staged
    assert not any(name.startswith("harness/") for name in staged)
    assert {"agent/Dockerfile", "agent/requirements.txt", "contract/__init__.py"} <= staged


def test_what_the_synths_key_leaves_out_is_not_in_the_context(image_asset):
    # tests/support/synth_cache.py keys synths without these folders: no synth may read them.
    _, context = image_asset
    staged = [path.relative_to(context).as_posix() for path in context.rglob("*")]
    for left_out in synth_cache.LEFT_OUT:
        assert left_out.is_dir()
        folder = left_out.relative_to(REPO_ROOT).as_posix()
        assert not [name for name in staged if name == folder or name.startswith(f"{folder}/")]
