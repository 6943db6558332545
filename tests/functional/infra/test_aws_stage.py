"""The aws stage's review findings and hardening, each held by a template test (issue 14)."""

from __future__ import annotations

import json
import os
import re
import runpy
import signal
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest

from contract import (
    DEFAULT_BEDROCK_MODEL_ID,
    INVOKER_CONNECT_TIMEOUT_SECONDS,
    INVOKER_MAX_ATTEMPTS,
    INVOKER_READ_TIMEOUT_SECONDS,
)
from tests.support import synth_cache
from tests.support.templates import REPO_ROOT, rendered_definition, synthesized


def _resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (resource,) = _resources(template, kind)
    return resource


@pytest.fixture(scope="module")
def aws() -> dict[str, Any]:
    return synthesized("aws")[0]


@pytest.fixture(scope="module")
def local() -> dict[str, Any]:
    return synthesized("local")[0]


def test_the_retained_journal_has_point_in_time_recovery(aws, local):
    table = _one(aws, "AWS::DynamoDB::Table")
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    assert (
        "PointInTimeRecoverySpecification" not in _one(local, "AWS::DynamoDB::Table")["Properties"]
    )


def test_the_aws_state_machine_logs_every_state_and_traces(aws, local):
    machine = _one(aws, "AWS::StepFunctions::StateMachine")["Properties"]
    assert machine["TracingConfiguration"] == {"Enabled": True}
    logging = machine["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False  # the task text stays in the journal
    (group,) = _resources(aws, "AWS::Logs::LogGroup")
    assert group["Properties"]["LogGroupName"].startswith("/aws/vendedlogs/states/")
    assert group["Properties"]["RetentionInDays"] > 0
    local_machine = _one(local, "AWS::StepFunctions::StateMachine")["Properties"]
    assert "LoggingConfiguration" not in local_machine
    assert "TracingConfiguration" not in local_machine


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_an_unanswered_invocation_is_neither_retried_nor_recorded_failed(stage, aws, local):
    """Finding 4: a timeout is not a refusal. The journal decides (the polls), so an agent that
    did start completes, and one that did not ends as a recorded timeout."""
    states = rendered_definition(aws if stage == "aws" else local)["States"]
    invoke = states["InvokeAgent"]
    unanswered = {"AgentInvocationTimeout", "Sandbox.Timedout", "States.Timeout"}
    for retry in invoke["Retry"]:
        assert not unanswered & set(retry["ErrorEquals"])
    first, last = invoke["Catch"][0], invoke["Catch"][-1]
    assert set(first["ErrorEquals"]) == unanswered
    assert first["Next"] == "InitPollCount"
    assert last == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.error",
        "Next": "RecordInvokeFailure",
    }


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_both_stages_deliver_the_whole_event_with_a_dead_letter_queue(stage, aws, local):
    """Finding 5: no input transformer (a missing detail.task cannot make invalid JSON) and
    a dead-letter queue on the target, in the aws stage as locally."""
    template = aws if stage == "aws" else local
    (target,) = _one(template, "AWS::Events::Rule")["Properties"]["Targets"]
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)
    assert "DeadLetterConfig" in target
    assert _resources(template, "AWS::SQS::Queue")


def _runtime(template: dict[str, Any]) -> dict[str, Any]:
    return _one(template, "AWS::BedrockAgentCore::Runtime")["Properties"]


def _role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in _resources(template, "AWS::IAM::Policy")
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _agent_role(template: dict[str, Any]) -> str:
    return _runtime(template)["RoleArn"]["Fn::GetAtt"][0]


def _granting(template: dict[str, Any], role: str, action: str) -> list[dict[str, Any]]:
    return [
        s
        for s in _role_statements(template, role)
        if action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]


def test_the_agent_knows_its_region_from_the_stack(aws):
    """Finding 3: without it DynamoDB has no region and Strands' Bedrock model goes to
    us-west-2, which the role does not allow."""
    variables = _runtime(aws)["EnvironmentVariables"]
    assert variables["AWS_REGION"] == {"Ref": "AWS::Region"}
    assert variables["AWS_DEFAULT_REGION"] == {"Ref": "AWS::Region"}
    assert "RECORD_AWS_CALLS" not in variables
    assert "AGENT_ALLOW_FAULTS" not in variables


def test_the_runtime_name_is_the_stacks(tmp_path):
    """Finding 6: a second stack in the account and region gets its own runtime name, in
    AgentCore's alphabet and length, whatever the stack is called."""
    pattern = (
        botocore.session.get_session()
        .get_service_model("bedrock-agentcore-control")
        .shape_for("AgentRuntimeName")
        .metadata["pattern"]
    )
    names = {}
    for stack_name in ("AgentWorkflow", "agent-workflow-pr-42", "A" + "-long" * 9):
        template, _ = synthesized("aws", stack_name=stack_name)
        names[stack_name] = _runtime(template)["AgentRuntimeName"]
        assert re.fullmatch(pattern, names[stack_name]), names[stack_name]
    assert names["AgentWorkflow"] == "AgentWorkflow_agent"
    assert names["agent-workflow-pr-42"] == "agent_workflow_pr_42_agent"
    assert len(set(names.values())) == len(names)


def test_stack_name_reaches_the_app(tmp_path, monkeypatch):
    """STACK_NAME -> deploy's -c stack_name=... -> infra/app.py names the stack, and what is
    named after it, with it."""
    real_app = cdk.App
    context = {"stage": "local", "stack_name": "Pr-7"}

    def run_the_app(outdir: Path) -> None:
        monkeypatch.setattr(cdk, "App", lambda: real_app(context=context, outdir=str(outdir)))
        # What the app sets up for its own process (a temporary folder, Ctrl-C) is undone.
        monkeypatch.setenv("TMPDIR", os.environ.get("TMPDIR", tempfile.gettempdir()))
        monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
        monkeypatch.setattr(signal, "signal", lambda *_: None)
        runpy.run_path(str(REPO_ROOT / "infra" / "app.py"), run_name="__main__")

    # Kept by content as the other synths (infra/app.py is one of the key's inputs).
    options = {"context": context, "run": "infra/app.py"}
    synth_cache.kept_synth("local", options, tmp_path, run_the_app, assembly=False)
    template = json.loads((tmp_path / "Pr-7.template.json").read_text())
    function = _one(template, "AWS::Lambda::Function")["Properties"]
    assert function["FunctionName"] == "Pr-7-agent-invoker"


def test_only_agentcore_for_this_account_may_assume_the_agents_role(aws):
    (statement,) = aws["Resources"][_agent_role(aws)]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    source_arn = json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":bedrock-agentcore:" in source_arn
    assert "AWS::AccountId" in source_arn


def test_the_agent_may_start_the_models_marketplace_subscription(aws):
    """Finding 2: the first call to an Anthropic model subscribes the account."""
    role = _agent_role(aws)
    for action in ("aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"):
        assert _granting(aws, role, action), action


def test_the_agent_may_invoke_its_model_only_where_the_profile_routes(aws):
    """Hardening: foundation-model/* in every region narrowed to the model, in the regions its
    inference profile routes to (and the profile itself, in the stack's region)."""
    (statement,) = _granting(aws, _agent_role(aws), "bedrock:InvokeModel")
    resources = [json.dumps(r) for r in statement["Resource"]]
    assert not any("foundation-model/*" in r or "bedrock:*:" in r for r in resources)
    model = "foundation-model/anthropic.claude-sonnet-4-20250514-v1:0"
    for region in ("us-east-1", "us-east-2", "us-west-1", "us-west-2"):
        assert any(f":bedrock:{region}::{model}" in r for r in resources), region
    assert any(
        "inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0" in r for r in resources
    )


def test_the_model_is_a_stack_setting_with_a_check():
    from agent_workflow.config import StageConfig  # infra/ is on the path (tests.support)

    template, _ = synthesized(
        "aws",
        bedrock_model_id="eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        bedrock_model_regions="eu-west-1,eu-central-1",
    )
    runtime = _runtime(template)
    assert runtime["EnvironmentVariables"]["BEDROCK_MODEL_ID"] == (
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    (statement,) = _granting(template, _agent_role(template), "bedrock:InvokeModel")
    regions = {json.dumps(r).split(":bedrock:")[1].split(":")[0] for r in statement["Resource"]}
    assert regions >= {"eu-west-1", "eu-central-1"}
    assert DEFAULT_BEDROCK_MODEL_ID.startswith("us.anthropic.")
    for bad, message in (
        ("claude sonnet", "is not a Bedrock model id"),
        ("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", "set bedrock_model_regions"),
    ):
        with pytest.raises(ValueError, match=message):
            StageConfig.from_context(
                cdk.App(context={"stage": "aws", "bedrock_model_id": bad}).node
            )
    for bad_name in ("1-bad", "A" + "-long" * 10):
        with pytest.raises(ValueError, match="not a CloudFormation stack name"):
            StageConfig.from_context(cdk.App(context={"stage": "aws", "stack_name": bad_name}).node)


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_the_invokers_timeout_fits_its_clients_retry(stage, aws, local):
    """Finding 4: the Lambda outlives every attempt of its client and the wait between them,
    so botocore's retry runs and a read timeout is the handler's to report."""
    function = _one(aws if stage == "aws" else local, "AWS::Lambda::Function")["Properties"]
    per_attempt = INVOKER_CONNECT_TIMEOUT_SECONDS + INVOKER_READ_TIMEOUT_SECONDS
    needed = INVOKER_MAX_ATTEMPTS * per_attempt + (INVOKER_MAX_ATTEMPTS - 1) * 20
    assert INVOKER_MAX_ATTEMPTS >= 2
    assert function["Timeout"] > needed


def test_the_aws_invoker_traces_and_only_the_local_one_records_its_calls(aws, local):
    aws_function = _one(aws, "AWS::Lambda::Function")["Properties"]
    local_function = _one(local, "AWS::Lambda::Function")["Properties"]
    assert aws_function["TracingConfig"] == {"Mode": "Active"}
    assert "RECORD_AWS_CALLS" not in aws_function["Environment"]["Variables"]
    assert local_function["Environment"]["Variables"]["RECORD_AWS_CALLS"] == "1"
