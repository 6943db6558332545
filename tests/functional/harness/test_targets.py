"""Target selection: the same harness drives the local runtime or real AWS (no calls made)."""

from __future__ import annotations

import pytest

from harness import aws, deploy
from harness.runtime import ComposeRuntime, HostRuntime, RuntimeProblem, select_runtime
from harness.runtime.docker import STANDIN_URL_IN_COMPOSE
from harness.settings import Settings


def test_local_clients_use_the_runtime_endpoint_and_test_credentials():
    client = aws.client("stepfunctions", Settings(target="local"))
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client._request_signer._credentials.access_key == "test"


def test_aws_clients_use_the_real_endpoints(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")  # as the Makefile exports
    client = aws.client("events", Settings(target="aws", region="eu-west-1"))
    assert client.meta.endpoint_url == "https://events.eu-west-1.amazonaws.com"


def test_deploy_context_per_target():
    local = Settings(target="local")
    assert deploy.context_args(local, "host", {}) == [
        "-c",
        "stage=local",
        "-c",
        "stack_name=AgentWorkflow",
        "-c",
        "wait_scale=0.1",
    ]
    # the stand-in is a parameter (one synth for every runtime), the compose service in docker
    assert deploy.context_args(local, "docker", {}) == deploy.context_args(local, "host", {})
    assert deploy.parameter_args(local, "host") == [
        "--parameters",
        "AgentCoreEndpoint=http://127.0.0.1:8090",
    ]
    assert deploy.parameter_args(local, "docker") == [
        "--parameters",
        f"AgentCoreEndpoint={STANDIN_URL_IN_COMPOSE}",
    ]
    assert deploy.parameter_args(Settings(target="aws"), "aws") == []
    assert deploy.context_args(
        Settings(target="aws", stack_name="Other-Stack"), "aws", {"max_polls": "5"}
    ) == ["-c", "stage=aws", "-c", "max_polls=5", "-c", "stack_name=Other-Stack"]


def test_the_local_budget_setting_reaches_the_local_stage_only(monkeypatch):
    monkeypatch.setenv("HARNESS_MAX_POLLS", "10")
    local = deploy.context_args(Settings(target="local"), "host", {})
    assert local[-2:] == ["-c", "max_polls=10"]
    # A deploy's own -c max_polls=N wins; AWS never gets it; 0 leaves the stage's default.
    named = deploy.context_args(Settings(target="local"), "host", {"max_polls": "31"})
    assert [arg for arg in named if arg.startswith("max_polls")] == ["max_polls=31"]
    assert "max_polls=10" not in deploy.context_args(Settings(target="aws"), "aws", {})
    monkeypatch.setenv("HARNESS_MAX_POLLS", "0")
    default = deploy.context_args(Settings(target="local"), "host", {})
    assert not [arg for arg in default if arg.startswith("max_polls")]


def test_cdk_cli_and_environment_per_target(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    local, real = Settings(target="local"), Settings(target="aws")
    assert deploy._cli(local).endswith("node_modules/.bin/cdklocal")
    assert deploy._cli(real).endswith("node_modules/.bin/cdk")
    assert deploy.cdk_environment(local)["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:4566"
    real_env = deploy.cdk_environment(real)
    assert real_env.get("AWS_ACCESS_KEY_ID") != "test"
    assert not [name for name in real_env if name.startswith("AWS_ENDPOINT_URL")]


def test_runtime_mode_selection():
    assert isinstance(select_runtime(Settings(runtime_mode="host")), HostRuntime)
    assert isinstance(select_runtime(Settings(runtime_mode="docker")), ComposeRuntime)
    with pytest.raises(RuntimeProblem, match="auto, host or docker"):
        select_runtime(Settings(runtime_mode="podman"))


def test_cli_target_flag_reaches_the_settings(monkeypatch):
    from harness import cli

    seen = {}
    monkeypatch.setitem(
        cli.COMMANDS, "status", lambda args, settings: seen.setdefault("s", settings) and 0
    )
    cli.main(["--target", "aws", "status"])
    assert seen["s"].target == "aws"
    assert not seen["s"].is_local


def test_emulator_selection_swaps_the_emulator_slot():
    local = HostRuntime(Settings(emulator="localstack")).specs()[0]
    assert local.command[-2:] == ["-m", "localstack.runtime.main"]
    assert local.health_url.endswith("/_localstack/health")
    mini = HostRuntime(
        Settings(emulator="ministack", endpoint_url="http://127.0.0.1:4567")
    ).specs()[0]
    assert mini.name == "localstack"
    assert mini.command[-2:] == ["-m", "ministack"]
    assert mini.env["GATEWAY_PORT"] == "4567"
    assert mini.health_url == "http://127.0.0.1:4567/_ministack/health"
    with pytest.raises(RuntimeProblem, match="localstack or ministack"):
        HostRuntime(Settings(emulator="moto")).specs()


def test_the_aws_fingerprint_covers_the_agent_but_not_its_test_doubles(monkeypatch, tmp_path):
    # The aws stage's agent image leaves agent/testing out (AGENT_IMAGE_EXCLUDE): an edit of
    # the scripted model deploys nothing new to AWS; an edit of the agent does.
    agent = tmp_path / "agent"
    (agent / "testing").mkdir(parents=True)
    (agent / "app.py").write_text("served")
    (agent / "testing" / "scripted_model.py").write_text("scripted")
    monkeypatch.setattr(deploy, "REPO_ROOT", tmp_path)
    settings = Settings(target="aws")
    args = deploy.context_args(settings, "aws", {})
    before = deploy.deploy_fingerprint(settings, args)
    (agent / "testing" / "scripted_model.py").write_text("scripted, edited")
    assert deploy.deploy_fingerprint(settings, args) == before
    (agent / "app.py").write_text("served, edited")
    assert deploy.deploy_fingerprint(settings, args) != before
