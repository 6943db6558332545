"""The road to AWS, checked offline on every run: cfn-lint (pinned) on both stages' templates
and on the rendered state machine definition, cdk-nag's AwsSolutions and Serverless packs on
the aws stage, and the invoker's request against botocore's bedrock-agentcore model."""

from __future__ import annotations

import importlib.util
import io
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from tests.support import templates
from tests.support.helpers import client_with_test_credentials
from tests.support.templates import (
    REPO_ROOT,
    cfn_lint,
    rendered_definition,
    resolve,
    with_rendered_definition,
)

HANDLER_PATH = REPO_ROOT / "infra/agent_workflow/agent_invoker_lambda/handler.py"
SESSION_ID = "5d0c7a8e-1f2b-4c3d-9e8f-7a6b5c4d3e2f"  # an EventBridge event id


@pytest.fixture(scope="module")
def synthesized() -> dict[str, tuple[dict[str, Any], tuple[Any, ...]]]:
    """Both stages, the aws one with cdk-nag's findings."""
    return {stage: templates.synthesized(stage) for stage in ("local", "aws")}


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_cfn_lint_finds_nothing_in_the_template(stage, synthesized):
    template, _ = synthesized[stage]
    assert cfn_lint(template) == []


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_cfn_lint_finds_nothing_in_the_rendered_state_machine_definition(stage, synthesized):
    template, _ = synthesized[stage]
    definition = rendered_definition(template)
    assert definition["StartAt"] == "ValidateInput"
    assert cfn_lint(with_rendered_definition(template, definition)) == []


def test_cfn_lint_does_check_the_rendered_definition(synthesized):
    """The check is live: a state type the States Language does not have is an error."""
    template, _ = synthesized["local"]
    broken = rendered_definition(template)
    broken["States"]["Success"]["Type"] = "Succeeded"
    (error,) = cfn_lint(with_rendered_definition(template, broken))
    assert error.startswith("E3601 ")
    assert "States/Success/Type" in error


def test_cdk_nag_finds_nothing_unacknowledged_on_the_aws_stage(synthesized):
    _, findings = synthesized["aws"]
    assert [str(f) for f in findings] == []


def test_cdk_nag_does_report_an_unacknowledged_finding():
    """The check is live: the journal table without point-in-time recovery is reported
    (AwsSolutions-DDB3) at the table."""

    def without_recovery(stack: Any) -> None:
        table = stack.node.find_child("Journal").node.find_child("Table").node.default_child
        table.point_in_time_recovery_specification = None

    _, findings = templates.synthesized("aws", edit=without_recovery)
    assert [(f.rule, f.path) for f in findings] == [
        ("AwsSolutions-DDB3", "AgentWorkflow/Journal/Table/Resource")
    ]


# The invoker's call, as botocore's model for bedrock-agentcore says it must be.


def _model_problems(shape: Any, value: Any, where: str) -> list[str]:
    """What botocore's parameter validation leaves unchecked: max lengths and patterns."""
    problems = []
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                problems += _model_problems(member, value[name], f"{where}.{name}")
    elif shape.type_name in ("string", "blob"):
        size = len(value)
        if "max" in shape.metadata and size > shape.metadata["max"]:
            problems.append(f"{where}: {size} > max {shape.metadata['max']}")
        if "min" in shape.metadata and size < shape.metadata["min"]:
            problems.append(f"{where}: {size} < min {shape.metadata['min']}")
        pattern = shape.metadata.get("pattern")
        if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
            problems.append(f"{where}: {value!r} does not match {pattern}")
    return problems


def _control_shape(name: str) -> Any:
    session = botocore.session.get_session()
    return session.get_service_model("bedrock-agentcore-control").shape_for(name)


def _invoker_environment(template: dict[str, Any]) -> dict[str, str]:
    (function,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    )
    return {
        k: str(resolve(v, template))
        for k, v in function["Properties"]["Environment"]["Variables"].items()
    }


def _load_handler(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> Any:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("invoker_handler_model_check", HANDLER_PATH)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_the_invokers_request_fits_the_bedrock_agentcore_model(stage, synthesized, monkeypatch):
    # GIVEN the invoker with the environment each stage's template gives it
    template, _ = synthesized[stage]
    environment = _invoker_environment(template)
    handler = _load_handler(monkeypatch, environment)
    client = client_with_test_credentials("bedrock-agentcore")
    monkeypatch.setattr(handler, "agentcore_client", lambda: client)
    operation = (
        botocore.session.get_session()
        .get_service_model("bedrock-agentcore")
        .operation_model("InvokeAgentRuntime")
    )
    sent: dict[str, Any] = {}

    def capture(params: dict[str, Any], **_: Any) -> None:
        sent.update(params)

    client.meta.events.register("provide-client-params.bedrock-agentcore.*", capture)
    event = {"session_id": SESSION_ID, "detail": {"task": 'Summarise the report "Q3"\n'}}
    # WHEN it starts a session (Stubber runs botocore's own parameter validation)
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke_agent_runtime",
            {
                "response": StreamingBody(io.BytesIO(b"{}"), 2),
                "contentType": "application/json",
                "statusCode": 200,
            },
        )
        result = handler.handler(event, None)
        stubber.assert_no_pending_responses()
    # THEN every parameter is one the model has, within its lengths and patterns
    assert result["accepted"] is True
    assert set(sent) <= set(operation.input_shape.members)
    assert set(operation.input_shape.required_members) <= set(sent)
    assert _model_problems(operation.input_shape, sent, "InvokeAgentRuntime") == []
    assert sent["agentRuntimeArn"] == environment["AGENT_RUNTIME_ARN"]
    if stage == "aws":  # locally it names the stand-in, which takes any ARN
        arn_pattern = _control_shape("AgentRuntimeArn").metadata["pattern"]
        assert re.fullmatch(arn_pattern, sent["agentRuntimeArn"]), sent["agentRuntimeArn"]
    payload = json.loads(sent["payload"])
    assert payload["session_id"] == SESSION_ID
    assert payload["task"] == event["detail"]["task"]
    assert payload["journal_table_name"] == environment["JOURNAL_TABLE_NAME"]


def test_the_model_check_reports_a_session_id_that_is_too_short():
    operation = (
        botocore.session.get_session()
        .get_service_model("bedrock-agentcore")
        .operation_model("InvokeAgentRuntime")
    )
    problems = _model_problems(
        operation.input_shape,
        {"agentRuntimeArn": "arn", "runtimeSessionId": "x" * 32, "payload": b"{}"},
        "InvokeAgentRuntime",
    )
    assert problems == ["InvokeAgentRuntime.runtimeSessionId: 32 < min 33"]


def test_linter_pins_are_in_the_dev_requirements():
    pins = Path(REPO_ROOT / "requirements/dev.in").read_text()
    assert re.search(r"^cfn-lint==\S+$", pins, re.M)
    assert re.search(r"^cdk-nag==\S+$", pins, re.M)
