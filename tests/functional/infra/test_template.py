"""The synthesized templates: workflow shape, trigger, outputs, and least-privilege IAM."""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from contract import JOURNAL_TABLE_SCHEMA
from harness.settings import REPO_ROOT
from tests.support.templates import joined_definition, synthesized

sys.path.insert(0, str(REPO_ROOT / "infra"))

from agent_workflow.config import StageConfig

# What each Step Functions service integration needs, by its resource ARN suffix.
INTEGRATION_ACTIONS = {
    "dynamodb:putItem": "dynamodb:PutItem",
    "dynamodb:getItem": "dynamodb:GetItem",
    "dynamodb:updateItem": "dynamodb:UpdateItem",
    "lambda:invoke": "lambda:InvokeFunction",
}


def synth(stage: str) -> Template:
    """The stage's template (synthesized once per content: tests/support/synth_cache.py)."""
    return Template.from_json(synthesized(stage)[0])


@pytest.fixture(scope="module")
def local() -> Template:
    return synth("local")


@pytest.fixture(scope="module")
def aws() -> Template:
    return synth("aws")


def _one(template: Template, kind: str) -> tuple[str, dict[str, Any]]:
    resources = template.find_resources(kind)
    assert len(resources) == 1, f"expected one {kind}, found {list(resources)}"
    return next(iter(resources.items()))


def definition(template: Template) -> dict[str, Any]:
    """The state machine definition, with CloudFormation references as placeholders."""
    _, machine = _one(template, "AWS::StepFunctions::StateMachine")
    return joined_definition(machine)


def used_actions(template: Template) -> set[str]:
    actions = set()
    for state in definition(template)["States"].values():
        if state["Type"] == "Task":
            suffix = state["Resource"].rsplit(":::", 1)[-1]
            actions.add(INTEGRATION_ACTIONS[suffix])
    return actions


def role_statements(template: Template, role_logical_id: str) -> list[dict[str, Any]]:
    statements = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def state_machine_role(template: Template) -> str:
    _, machine = _one(template, "AWS::StepFunctions::StateMachine")
    return machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]


def test_workflow_states_follow_the_design(local):
    states = definition(local)["States"]
    assert definition(local)["StartAt"] == "ValidateInput"
    assert set(states) == {
        "ValidateInput",
        "RejectInvalidInput",
        "InvalidInput",
        "InitializeSession",
        "DuplicateSession",
        "InvokeAgent",
        "RecordInvokeFailure",
        "InitPollCount",
        "WaitForCompletion",
        "CheckStatus",
        "EvaluateStatus",
        "IncrementPollCount",
        "RecordTimeout",
        "TimedOut",
        "Success",
        "Failure",
    }
    init = states["InitializeSession"]
    assert init["Parameters"]["ConditionExpression"] == "attribute_not_exists(PK)"
    assert init["Catch"][0]["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
    assert init["Catch"][0]["Next"] == "DuplicateSession"
    assert states["DuplicateSession"]["Type"] == "Succeed"
    assert states["WaitForCompletion"]["Seconds"] == 1
    invoke = states["InvokeAgent"]
    assert "InvalidInput" not in invoke["Retry"][0]["ErrorEquals"]
    assert "AgentInvocationError" in invoke["Retry"][0]["ErrorEquals"]
    assert invoke["Catch"][-1]["Next"] == "RecordInvokeFailure"
    for marker in ("RecordInvokeFailure", "RecordTimeout"):
        assert (
            states[marker]["Parameters"]["ConditionExpression"] == "#status IN (:initiated, :busy)"
        )
    timeout_rule = next(
        c for c in states["EvaluateStatus"]["Choices"] if c.get("Next") == "RecordTimeout"
    )
    assert timeout_rule["NumericGreaterThanEquals"] == 30


def test_rule_matches_manual_triggers_and_sends_the_whole_event(local):
    _, rule = _one(local, "AWS::Events::Rule")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["agent.workflow"],
        "detail-type": ["ManualTrigger"],
    }
    (target,) = rule["Properties"]["Targets"]
    # No templating of user text: the event itself is the execution input.
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)
    states = definition(local)["States"]
    key = states["InitializeSession"]["Parameters"]["Item"]
    assert key["PK"] == {"S.$": "$.id"}
    assert key["task"] == {"S.$": "$.detail.task"}
    assert key["execution_arn"] == {"S.$": "$$.Execution.Id"}
    assert states["RejectInvalidInput"]["Parameters"]["Item"]["execution_arn"] == {
        "S.$": "$$.Execution.Id"
    }
    assert states["InvokeAgent"]["Parameters"]["Payload"] == {
        "session_id.$": "$.id",
        "detail.$": "$.detail",
    }


def test_undeliverable_events_go_to_a_dead_letter_queue(local):
    queue_id, queue = _one(local, "AWS::SQS::Queue")
    _, rule = _one(local, "AWS::Events::Rule")
    rule_id = next(iter(local.find_resources("AWS::Events::Rule")))
    (target,) = rule["Properties"]["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 24 * 3600
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    # Only this rule may send to the queue, and only over TLS.
    (policy,) = local.find_resources("AWS::SQS::QueuePolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert _actions(allows[0]) == ["sqs:SendMessage"]
    assert allows[0]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}
    }
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert local.find_outputs("DeadLetterQueueUrl")


def test_eventbridge_may_only_start_this_workflow(local):
    _, rule = _one(local, "AWS::Events::Rule")
    (target,) = rule["Properties"]["Targets"]
    role = target["RoleArn"]["Fn::GetAtt"][0]
    machine_id, _ = _one(local, "AWS::StepFunctions::StateMachine")
    (statement,) = role_statements(local, role)
    assert _actions(statement) == ["states:StartExecution"]
    assert _resources(statement) == [{"Ref": machine_id}]


def test_outputs_name_everything_the_harness_reads(local):
    outputs = local.find_outputs("*")
    assert set(outputs) >= {
        "StateMachineArn",
        "JournalTableName",
        "RuleName",
        "DeadLetterQueueUrl",
        "EventBusName",
        "InvokerFunctionName",
        "AgentRuntimeArn",
        "Stage",
        "PollIntervalSeconds",
        "MaxPolls",
    }
    assert outputs["Stage"]["Value"] == "local"


def test_journal_table_keys_and_billing(local):
    local.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": JOURNAL_TABLE_SCHEMA["KeySchema"],
            "BillingMode": JOURNAL_TABLE_SCHEMA["BillingMode"],
        },
    )


def test_local_invoker_points_at_the_agentcore_stand_in(local):
    local.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.12",
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE": {"Ref": "AgentCoreEndpoint"},
                        "AGENT_RUNTIME_ARN": Match.string_like_regexp("runtime/local-agent"),
                        "JOURNAL_TABLE_NAME": Match.any_value(),
                    }
                )
            },
        },
    )
    # a parameter the harness sets at each deploy (one synth serves any ports), the usual
    # stand-in's URL by default
    local.has_parameter("AgentCoreEndpoint", {"Type": "String", "Default": "http://127.0.0.1:8090"})
    assert not local.find_resources("AWS::BedrockAgentCore::Runtime")


def state_machine_grant_problems(template: Template) -> list[str]:
    """What the state machine's role lacks or has beyond what its Task states use, and any
    grant on a resource that is not the table (dynamodb) or the invoker (lambda)."""
    role = state_machine_role(template)
    statements = role_statements(template, role)
    granted = {action for s in statements for action in _actions(s)}
    used = used_actions(template)
    problems = [f"missing grant: {a}" for a in sorted(used - granted)]
    problems += [f"unused grant: {a}" for a in sorted(granted - used)]
    table_id, _ = _one(template, "AWS::DynamoDB::Table")
    function_id, _ = _one(template, "AWS::Lambda::Function")
    for statement in statements:
        for action in _actions(statement):
            owner = table_id if action.startswith("dynamodb:") else function_id
            problems += [
                f"{action} on a resource not of {owner}: {resource}"
                for resource in _resources(statement)
                if owner not in json.dumps(resource)
            ]
    return problems


def test_state_machine_role_grants_exactly_what_its_states_use(local):
    assert used_actions(local) == {
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "lambda:InvokeFunction",
    }
    assert state_machine_grant_problems(local) == []


def _edit_state_machine_grants(
    template: Template, edit: Callable[[list[str]], list[str]]
) -> Template:
    """A copy of the template whose state machine role's statements have their actions edited."""
    raw = copy.deepcopy(template.to_json())
    role = state_machine_role(template)
    for policy in raw["Resources"].values():
        if policy["Type"] == "AWS::IAM::Policy" and {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                statement["Action"] = edit(_actions(statement))
    return Template.from_json(raw)


def test_the_iam_check_fails_when_a_grant_is_missing_or_extra_or_misplaced(local):
    def drop_put_item(actions: list[str]) -> list[str]:
        return [a for a in actions if a != "dynamodb:PutItem"]

    def add_delete_item(actions: list[str]) -> list[str]:
        return [*actions, "dynamodb:DeleteItem"] if "dynamodb:GetItem" in actions else actions

    def invoke_on_the_table(actions: list[str]) -> list[str]:
        return [*actions, "lambda:InvokeFunction"] if "dynamodb:GetItem" in actions else actions

    assert state_machine_grant_problems(_edit_state_machine_grants(local, drop_put_item)) == [
        "missing grant: dynamodb:PutItem"
    ]
    assert state_machine_grant_problems(_edit_state_machine_grants(local, add_delete_item)) == [
        "unused grant: dynamodb:DeleteItem"
    ]
    (misplaced,) = state_machine_grant_problems(
        _edit_state_machine_grants(local, invoke_on_the_table)
    )
    assert misplaced.startswith("lambda:InvokeFunction on a resource not of")


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_no_policy_has_a_star_resource(stage, local, aws):
    template = local if stage == "local" else aws
    # Actions with no resource-level permissions in AWS: "*" is their only form.
    # ECR's login token, the model's Marketplace subscription (the agent); log delivery and
    # X-Ray traces (the state machine and the invoker, aws stage).
    allowed_star = {
        "ecr:GetAuthorizationToken",
        "aws-marketplace:ViewSubscriptions",
        "aws-marketplace:Subscribe",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    }
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "*" in _resources(statement):
                assert set(_actions(statement)) <= allowed_star, statement
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"], "managed policies grant on *"


def test_aws_stage_runs_the_agent_on_agentcore_runtime(aws):
    runtime_id, runtime = _one(aws, "AWS::BedrockAgentCore::Runtime")
    assert runtime["Properties"]["EnvironmentVariables"]["AGENT_MODEL"] == "bedrock"
    _, function = _one(aws, "AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE" not in variables
    assert variables["AGENT_RUNTIME_ARN"] == {"Fn::GetAtt": [runtime_id, "AgentRuntimeArn"]}
    invoker_role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    grants = [
        s
        for s in role_statements(aws, invoker_role)
        if "bedrock-agentcore:InvokeAgentRuntime" in _actions(s)
    ]
    assert len(grants) == 1
    for resource in _resources(grants[0]):
        assert runtime_id in json.dumps(resource)
    assert aws.find_outputs("Stage")["Stage"]["Value"] == "aws"
    assert definition(aws)["States"]["WaitForCompletion"]["Seconds"] == 10


def test_agent_runtime_role_uses_the_journal_table_only_as_the_agent_does(aws):
    """GetItem/UpdateItem for its session, PutItem for its steps (issue 17): on the journal
    table and nothing else, no Scan, Query, DeleteItem or table admin."""
    _runtime_id, runtime = _one(aws, "AWS::BedrockAgentCore::Runtime")
    role = runtime["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    table_id, _ = _one(aws, "AWS::DynamoDB::Table")
    statements = [
        s for s in role_statements(aws, role) if any(a.startswith("dynamodb:") for a in _actions(s))
    ]
    actions = {a for s in statements for a in _actions(s)}
    assert actions == {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"}
    for statement in statements:
        for resource in _resources(statement):
            assert table_id in json.dumps(resource), resource


def test_context_overrides_poll_settings():
    app = cdk.App(context={"stage": "local", "poll_interval_seconds": "2", "max_polls": "5"})
    config = StageConfig.from_context(app.node)
    assert (config.poll_interval_seconds, config.max_polls) == (2, 5)
    with pytest.raises(ValueError, match="stage"):
        StageConfig.from_context(cdk.App(context={"stage": "prod"}).node)


def test_invoker_logs_only_to_its_own_log_group(local):
    _, function = _one(local, "AWS::Lambda::Function")
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    logs = [
        s for s in role_statements(local, role) if any(a.startswith("logs:") for a in _actions(s))
    ]
    assert logs
    for statement in logs:
        for resource in _resources(statement):
            assert re.search(
                r"log-group:/aws/lambda/AgentWorkflow-agent-invoker:\*", json.dumps(resource)
            )
