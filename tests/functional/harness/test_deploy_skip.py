"""A deploy is skipped only when the target holds this checkout's stack at this fingerprint, as
the stack's own ``harness:fingerprint`` tag says (issue 12): no file on disk decides (moto)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import boto3
import pytest

from harness import deploy
from harness.settings import REPO_ROOT, Settings

TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


@pytest.fixture
def cdk_calls(monkeypatch, tmp_path: Path) -> list[list[str]]:
    """The cdk commands a deploy runs (recorded, not run)."""
    calls: list[list[str]] = []
    # The cdk commands are recorded, not run: the checkout's lock (which make test's
    # integration lane holds while it deploys) is not theirs to wait for.
    monkeypatch.setattr(deploy, "DEPLOY_LOCK", tmp_path / "deploy.lock")
    monkeypatch.setattr(deploy, "ensure_cdk_cli", lambda settings, report: None)
    monkeypatch.setattr(deploy, "_run", lambda command, settings, what, **_: calls.append(command))
    # What an AWS deploy needs (Docker, Bedrock) is tested in test_deploy_preflight.py.
    monkeypatch.setattr(deploy, "check_aws_deploy", lambda settings, context, report: {})
    return calls


@pytest.fixture(autouse=True)
def _files_read_once(monkeypatch) -> None:
    """The aws stage's fingerprint covers agent/, which `make test`'s integration lane edits
    for a few seconds (test_checkouts' agent restart): each test reads the files once, so its
    expected fingerprint and the deploy's are of the same files (what is fingerprinted is
    tested apart; here, what the tag decides)."""
    monkeypatch.setattr(deploy, "fingerprint", functools.cache(deploy.fingerprint))


@pytest.fixture
def settings(moto_aws: None, tmp_path: Path) -> Settings:
    return Settings(target="aws", region="us-east-1", runtime_dir=tmp_path / "runtime")


def _deployed(settings: Settings, name: str, **tags: str) -> None:
    boto3.client("cloudformation", region_name=settings.region).create_stack(
        StackName=name,
        TemplateBody=TEMPLATE,
        Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
    )


def _want(settings: Settings) -> str:
    return deploy.deploy_fingerprint(settings, deploy.context_args(settings, "aws", {}))


def _deploy_commands(calls: list[list[str]]) -> list[list[str]]:
    return [command for command in calls if "deploy" in command]


def test_skipped_when_the_stack_carries_this_checkouts_fingerprint(settings, cdk_calls):
    _deployed(settings, settings.stack_name, **{deploy.FINGERPRINT_TAG: _want(settings)})
    result = deploy.deploy(settings, runtime_mode="aws", report=lambda message: None)
    assert result.skipped
    assert cdk_calls == []


def test_another_checkouts_stack_is_deployed_over_and_tagged(settings, cdk_calls):
    # GIVEN the same infra deployed from another checkout (its fingerprint, its path)
    _deployed(
        settings,
        settings.stack_name,
        **{deploy.FINGERPRINT_TAG: "0123456789abcdef", deploy.CHECKOUT_TAG: "/elsewhere/clone"},
    )
    messages: list[str] = []

    # WHEN this checkout deploys
    result = deploy.deploy(settings, runtime_mode="aws", report=messages.append)

    # THEN it deploys, says why, and tags the stack as this checkout's at this fingerprint
    assert not result.skipped
    assert any("another checkout (/elsewhere/clone)" in message for message in messages)
    [command] = _deploy_commands(cdk_calls)
    assert f"{deploy.FINGERPRINT_TAG}={_want(settings)}" in command
    assert f"{deploy.CHECKOUT_TAG}={deploy.tag_value(str(REPO_ROOT))}" in command


def test_no_stack_means_a_deploy_whatever_was_deployed_before(settings, cdk_calls):
    # A stamp file as older harnesses wrote it changes nothing: only the stack counts.
    stamp = settings.runtime_dir / "deployed" / f"{settings.stack_name}-aws.sha"
    stamp.parent.mkdir(parents=True)
    stamp.write_text(_want(settings))
    assert not deploy.deploy(settings, runtime_mode="aws", report=lambda m: None).skipped
    assert len(_deploy_commands(cdk_calls)) == 1


def test_a_stack_without_the_tag_is_deployed(settings, cdk_calls):
    _deployed(settings, settings.stack_name)
    assert not deploy.deploy(settings, runtime_mode="aws", report=lambda m: None).skipped
    assert len(_deploy_commands(cdk_calls)) == 1


def test_forced_deploys_anyway(settings, cdk_calls):
    _deployed(settings, settings.stack_name, **{deploy.FINGERPRINT_TAG: _want(settings)})
    assert not deploy.deploy(
        settings, runtime_mode="aws", force=True, report=lambda m: None
    ).skipped


def test_the_fingerprint_names_the_checkout(monkeypatch):
    settings = Settings(target="local")
    args = deploy.context_args(settings, "host", {})
    here = deploy.deploy_fingerprint(settings, args)
    monkeypatch.setattr(deploy, "REPO_ROOT", Path("/elsewhere/clone"))
    assert deploy.deploy_fingerprint(settings, args) != here


def test_a_new_lambda_lock_is_a_new_fingerprint(monkeypatch, tmp_path):
    # The invoker's SDK layer is built from it: a changed pin must reach the stack.
    settings = Settings(target="local")
    args = deploy.context_args(settings, "host", {})
    here = deploy.deploy_fingerprint(settings, args)
    lock = tmp_path / "lambda.lock"
    lock.write_text(deploy.LAMBDA_LOCK.read_text().replace("boto3==", "boto3==9"))
    monkeypatch.setattr(deploy, "LAMBDA_LOCK", lock)
    assert deploy.deploy_fingerprint(settings, args) != here


def test_tag_values_keep_to_what_cloudformation_accepts():
    assert deploy.tag_value("/home/me/my repo (2)/x~y") == "/home/me/my repo _2_/x_y"
    assert len(deploy.tag_value("/a" * 300)) == 256


@pytest.mark.parametrize("target", ["local", "aws"])
def test_a_local_deploy_makes_no_change_set_and_an_aws_deploy_does(
    target, tmp_path, cdk_calls, monkeypatch
):
    # GIVEN a bootstrapped target with no stack yet, and a kept synth (infra/cdk.out is left
    # alone); no emulator runs here, so the target's answers are given
    settings = Settings(target=target, region="us-east-1", runtime_dir=tmp_path / "runtime")
    monkeypatch.setattr(deploy, "_ready_stack_tags", lambda settings, name=None: None)
    monkeypatch.setattr(deploy, "_stack_ready", lambda settings, name=None: True)
    monkeypatch.setattr(deploy, "_remove_failed_stack", lambda settings, report: None)
    monkeypatch.setattr(deploy.warmup, "start_warming", lambda settings: None)
    kept = ["--app", str(tmp_path / "cdk.out")]
    monkeypatch.setattr(deploy, "_synthesized_app", lambda *args, **kwargs: kept)

    # WHEN it deploys
    mode = "host" if target == "local" else "aws"
    deploy.deploy(settings, runtime_mode=mode, report=lambda message: None)

    # THEN the local deploy creates the stack directly; the aws deploy through a change set
    (command,) = _deploy_commands(cdk_calls)
    method = command[command.index("--method") + 1] if "--method" in command else "change-set"
    assert method == ("direct" if target == "local" else "change-set")
