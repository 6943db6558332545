"""IAM sufficiency from what the code really calls (issue 14): a local end-to-end session's
AWS calls, each evaluated against the aws stage's policy for its component's role.

LocalStack does not enforce IAM (its ENFORCE_IAM is paid), so this is the check that a grant
the code needs on AWS is not missing. The calls: the state machine's service integrations
(its execution history), the trigger's StartExecution, and (through botocore's event hooks,
``RECORD_AWS_CALLS``, local only) the invoker's and the agent's. The evaluation is moto's IAM
policy engine on the synthesized aws template (tests/support/iam_sufficiency.py). The run's
recording is written to reports/aws-calls.json; the functional tier's copy
(tests/functional/infra/recorded_aws_calls.json) is refreshed from it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from contract.aws_calls import MARKER, parse
from harness.assertions import assert_transitions
from harness.runtime import select_runtime
from harness.settings import REPO_ROOT
from tests.support.iam_sufficiency import Call, calls_from_execution_history, check
from tests.support.templates import synthesized

RECORDING = REPO_ROOT / "reports" / "aws-calls.json"


def _logical_ids(aws_client: Any, stack_name: str) -> dict[str, str]:
    """What the local stack's calls name (physical ids) -> the logical ids both stages share."""
    paginator = aws_client("cloudformation").get_paginator("list_stack_resources")
    names = {}
    for page in paginator.paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            physical = resource.get("PhysicalResourceId")
            if physical:
                names[physical] = resource["LogicalResourceId"]
                if physical.startswith("arn:"):  # also by the name at its end
                    names[physical.split(":")[-1]] = resource["LogicalResourceId"]
    return names


def _named_by(calls: list[Call], logical_ids: dict[str, str]) -> dict[str, str]:
    """The part of ``logical_ids`` the calls name (the recording keeps only that)."""
    values = {v for c in calls for v in c.params.values()}
    return {
        name: logical_id
        for name, logical_id in sorted(logical_ids.items())
        if any(v == name or v.endswith((f":{name}", f"/{name}")) for v in values)
    }


def _output(aws_client: Any, stack_name: str, key: str) -> str:
    (stack,) = aws_client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == key)


def _history(aws_client: Any, execution_arn: str) -> list[dict[str, Any]]:
    paginator = aws_client("stepfunctions").get_paginator("get_execution_history")
    return [e for page in paginator.paginate(executionArn=execution_arn) for e in page["events"]]


def invoker_calls(aws_client: Any, function_name: str, since_ms: int) -> list[Call]:
    """The invoker's recorded calls, from its CloudWatch log group (as Lambda logs them)."""
    paginator = aws_client("logs").get_paginator("filter_log_events")
    pages = paginator.paginate(
        logGroupName=f"/aws/lambda/{function_name}", startTime=since_ms, filterPattern=MARKER
    )
    text = "\n".join(e["message"].rstrip() for page in pages for e in page["events"])
    return [Call.from_json(c) for c in parse(text)]


def recorded_calls(aws_client: Any, deployed_stack: Any, sessions: list[Any]) -> list[Call]:
    calls = []
    for session in sessions:
        calls += calls_from_execution_history(_history(aws_client, session.execution.arn))
        # EventBridge started the execution with the rule's role.
        calls.append(
            Call(
                "trigger",
                "states:StartExecution",
                {"stateMachineArn": deployed_stack.state_machine_arn},
            )
        )
    return calls


@pytest.mark.slow(seconds=30)
def test_every_recorded_call_is_allowed_by_the_aws_stage_roles(
    aws_client, deployed_stack, agent_services, trigger, session_reader, harness_settings
):
    # GIVEN sessions down each path a component writes on: the agent completes, the agent
    # crashes (its app records FAILED), the workflow refuses an event without a task
    started_ms = int(time.time() * 1000) - 1000
    agent_log_start = len(select_runtime(harness_settings).log_text("agent"))
    runs = [
        (
            trigger("Summarise the quarterly cost report"),
            ["INITIATED", "BUSY", "COMPLETED"],
            "SUCCEEDED",
        ),
        (trigger("Crash while working", fault="crash"), ["INITIATED", "BUSY", "FAILED"], "FAILED"),
        (trigger(None), ["INITIATED", "FAILED"], "FAILED"),
    ]
    sessions = [
        assert_transitions(
            session_reader,
            session_id,
            transitions,
            execution_status=status,
        )
        for session_id, transitions, status in runs
    ]
    # WHEN their calls are evaluated against the aws stage's policies
    calls = recorded_calls(aws_client, deployed_stack, sessions)
    stack_name = harness_settings.stack_name
    invoker = _output(aws_client, stack_name, "InvokerFunctionName")
    calls += invoker_calls(aws_client, invoker, started_ms)
    agent_log = select_runtime(harness_settings).log_text("agent")[agent_log_start:]
    calls += [Call.from_json(c) for c in parse(agent_log)]
    aws_template = synthesized("aws")[0]
    logical_ids = _logical_ids(aws_client, stack_name)
    # The stand-in's ARN stands for the aws stage's runtime (the local stage has none).
    (runtime_id,) = (
        logical_id
        for logical_id, r in aws_template["Resources"].items()
        if r["Type"] == "AWS::BedrockAgentCore::Runtime"
    )
    logical_ids[_output(aws_client, stack_name, "AgentRuntimeArn")] = runtime_id
    verdict = check(calls, aws_template, logical_ids)
    RECORDING.parent.mkdir(exist_ok=True)
    RECORDING.write_text(
        json.dumps(
            {
                "calls": [c.__dict__ for c in calls],
                "logical_ids": _named_by(calls, logical_ids),
                "unused": verdict.unused,
            },
            indent=2,
            default=dict,
        )
    )
    # THEN every call is allowed, and every component made some
    print("granted, no recorded call used:", json.dumps(verdict.unused, indent=2))
    assert verdict.missing == []
    assert {c.component for c in calls} == {"state_machine", "trigger", "invoker", "agent"}
    assert {c.action for c in calls if c.component == "agent"} >= {
        "dynamodb:UpdateItem",
    }
    assert {c.action for c in calls if c.component == "invoker"} == {
        "bedrock-agentcore:InvokeAgentRuntime"
    }
    assert {c.action for c in calls if c.component == "state_machine"} >= {
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "lambda:InvokeFunction",
    }
