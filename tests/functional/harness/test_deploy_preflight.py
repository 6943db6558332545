"""make deploy-aws checks what it needs before it starts (issue 14, finding 1): with no Docker
engine it stops before any cdk command, naming what is missing and how to get it; with all
of it, the deploy narrows the model's regions to the ones its inference profile routes to."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness import deploy, preflight
from harness.settings import Settings

ARM64_BUILDER = "Name: default\nPlatforms: linux/amd64, linux/arm64\n"
PROFILE = {
    "models": [
        {"modelArn": f"arn:aws:bedrock:{r}::foundation-model/anthropic.claude-sonnet-4"}
        for r in ("us-east-1", "us-east-2", "us-west-2")
    ]
}


class Clients:
    """sts and bedrock as botocore would answer them (what moto does not serve)."""

    def __call__(self, service: str) -> Any:
        return self

    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "123456789012"}

    def get_inference_profile(self, inferenceProfileIdentifier: str) -> dict[str, Any]:  # noqa: N803
        return PROFILE

    def get_foundation_model(self, modelIdentifier: str) -> dict[str, Any]:  # noqa: N803
        return {"modelDetails": {"modelLifecycle": {"status": "ACTIVE"}}}


@pytest.fixture
def cdk_calls(monkeypatch, tmp_path: Path) -> list[list[str]]:
    calls: list[list[str]] = []
    # The cdk commands are recorded, not run: the checkout's lock (which make test's
    # integration lane holds while it deploys) is not theirs to wait for.
    monkeypatch.setattr(deploy, "DEPLOY_LOCK", tmp_path / "deploy.lock")
    monkeypatch.setattr(deploy, "ensure_cdk_cli", lambda settings, report: None)
    monkeypatch.setattr(deploy, "_run", lambda command, settings, what, **_: calls.append(command))
    monkeypatch.setattr(deploy, "_ready_stack_tags", lambda settings, name=None: None)
    monkeypatch.setattr(deploy, "_bootstrapped", lambda settings: True)
    monkeypatch.setattr(deploy.aws, "client", lambda service, settings: Clients())
    return calls


def test_without_a_docker_engine_the_aws_deploy_stops_before_it_starts(cdk_calls, monkeypatch):
    def no_engine(command: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "Cannot connect to the Docker daemon")

    monkeypatch.setattr(preflight, "_run", no_engine)
    monkeypatch.setattr(preflight.shutil, "which", lambda name: f"/usr/bin/{name}")
    with pytest.raises(deploy.DeployError) as refused:
        deploy.deploy(Settings(target="aws"), runtime_mode="aws", report=lambda m: None)
    assert "the Docker engine is not reachable" in str(refused.value)
    assert "systemctl start docker" in str(refused.value)
    assert cdk_calls == []


def test_the_aws_deploy_narrows_the_model_to_its_profiles_regions(cdk_calls, monkeypatch):
    def docker(command: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0, ARM64_BUILDER, "")

    monkeypatch.setattr(preflight, "_run", docker)
    monkeypatch.setattr(preflight.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(preflight.platform, "machine", lambda: "x86_64")
    deploy.deploy(Settings(target="aws"), runtime_mode="aws", report=lambda m: None)
    (command,) = [c for c in cdk_calls if "deploy" in c]
    assert "bedrock_model_regions=us-east-1,us-east-2,us-west-2" in command
    assert "stack_name=AgentWorkflow" in command
