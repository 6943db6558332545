"""make deploy-aws's checks before it starts: what the arm64 image build needs, credentials,
and a model Bedrock still serves. Each problem says how to get what is missing."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import Any

import pytest

from harness.preflight import (
    base_model_id,
    credentials_problems,
    image_build_problems,
    model_problems,
)

X86_BUILDER = "Name: default\nDriver: docker\nPlatforms: linux/amd64, linux/amd64/v2, linux/386\n"
EMULATING_BUILDER = X86_BUILDER.replace("linux/386", "linux/386, linux/arm64, linux/arm/v7")


def fake_docker(**results: tuple[int, str]) -> Any:
    """A runner answering `docker <subcommand>` with (exit code, stdout); success by default."""
    calls: list[list[str]] = []

    def run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        calls.append(list(command))
        key = "_".join(command[1:3]).replace("-", "")
        code, out = results.get(key, (0, ""))
        return subprocess.CompletedProcess(list(command), code, out, "" if code == 0 else "boom")

    run.calls = calls  # type: ignore[attr-defined]
    return run


def on_path(name: str) -> str:
    return f"/usr/bin/{name}"


def test_an_x86_machine_with_qemu_for_arm64_may_build_the_image():
    run = fake_docker(buildx_inspect=(0, EMULATING_BUILDER))
    assert image_build_problems(run, machine="x86_64", which=on_path) == []


def test_an_x86_machine_without_binfmt_is_told_how_to_register_qemu():
    run = fake_docker(buildx_inspect=(0, X86_BUILDER))
    (problem,) = image_build_problems(run, machine="x86_64", which=on_path)
    assert "cannot build linux/arm64" in problem.what
    assert "tonistiigi/binfmt --install arm64" in problem.how


def test_an_arm64_machine_builds_natively():
    run = fake_docker(buildx_inspect=(0, X86_BUILDER))
    assert image_build_problems(run, machine="aarch64", which=on_path) == []
    assert ["docker", "buildx", "inspect", "--bootstrap"] not in run.calls


@pytest.mark.parametrize(
    ("results", "which", "expected"),
    [
        ({}, lambda _name: None, "no docker command"),
        ({"info_format": (1, "")}, on_path, "the Docker engine is not reachable"),
        ({"buildx_version": (1, "")}, on_path, "the docker buildx plugin is missing"),
    ],
)
def test_a_missing_docker_part_is_named_with_how_to_get_it(results, which, expected):
    (problem,) = image_build_problems(fake_docker(**results), machine="x86_64", which=which)
    assert problem.what.startswith(expected)
    assert problem.how


class FakeBedrock:
    def __init__(self, profiles: set[str], lifecycle: dict[str, str]) -> None:
        self.profiles, self.lifecycle = profiles, lifecycle

    def get_inference_profile(self, inferenceProfileIdentifier: str) -> dict[str, Any]:  # noqa: N803
        if inferenceProfileIdentifier not in self.profiles:
            raise LookupError("ResourceNotFoundException")
        arns = [f"arn:aws:bedrock:{r}::foundation-model/m" for r in ("us-west-2", "us-east-1")]
        return {"status": "ACTIVE", "models": [{"modelArn": arn} for arn in arns]}

    def get_foundation_model(self, modelIdentifier: str) -> dict[str, Any]:  # noqa: N803
        return {"modelDetails": {"modelLifecycle": {"status": self.lifecycle[modelIdentifier]}}}


def test_the_model_must_exist_in_the_region_and_not_be_legacy():
    model = "us.anthropic.claude-sonnet-4-20250514-v1:0"
    base = "anthropic.claude-sonnet-4-20250514-v1:0"
    assert base_model_id(model) == base
    assert model_problems(FakeBedrock({model}, {base: "ACTIVE"}), model, "us-east-1") == (
        [],
        ["us-east-1", "us-west-2"],
    )
    (legacy,), _ = model_problems(FakeBedrock({model}, {base: "LEGACY"}), model, "us-east-1")
    assert "is LEGACY" in legacy.what
    assert "bedrock_model_id" in legacy.how
    (unknown,), routes = model_problems(FakeBedrock(set(), {}), model, "eu-west-1")
    assert "no inference profile" in unknown.what
    assert routes == []


def test_named_model_regions_must_cover_the_profiles_routes():
    model = "us.anthropic.claude-sonnet-4-20250514-v1:0"
    bedrock = FakeBedrock({model}, {"anthropic.claude-sonnet-4-20250514-v1:0": "ACTIVE"})
    (narrow,), _ = model_problems(bedrock, model, "us-east-1", regions="us-east-1")
    assert "leaves out regions the profile routes to (us-west-2)" in narrow.what
    assert "bedrock_model_regions=us-east-1,us-west-2" in narrow.how
    assert model_problems(bedrock, model, "us-east-1", regions="us-west-2,us-east-1")[0] == []


def test_missing_credentials_are_named():
    class NoCredentials:
        def get_caller_identity(self) -> None:
            raise RuntimeError("Unable to locate credentials")

    (problem,) = credentials_problems(NoCredentials())
    assert "Unable to locate credentials" in problem.what
    assert "aws configure" in problem.how
