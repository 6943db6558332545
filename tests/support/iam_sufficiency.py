"""IAM sufficiency from recorded calls: does each component's role in the aws stage's template
allow every AWS call that component really made during a local end-to-end run?

A recorded call is ``{"component", "action", "params"}``: the component (``agent``,
``invoker``, ``state_machine``, ``trigger``), the IAM action (``dynamodb:UpdateItem``) and the
parameters that name its resource (``TableName``, ``agentRuntimeArn``, ``FunctionName``...;
never a payload). The agent and the invoker record theirs through botocore's event hooks
(``RECORD_AWS_CALLS``, local only); the state machine's come from its execution history
(each TaskScheduled event is one service integration call) and the trigger's from the
execution EventBridge started.

Each call's resource is named by the logical id of the resource it touched (the local stack's
physical ids map back to logical ids, which both stages share), then given the example ARN
``templates.resolve`` gives that logical id in the aws template, and evaluated against the
role's policies there with moto's IAM policy engine (not hand-written matching).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.templates import example_attribute, resolve

# Which template resource's role each component runs as, and the property naming it.
COMPONENT_ROLES = {
    "agent": ("AWS::BedrockAgentCore::Runtime", "RoleArn"),
    "invoker": ("AWS::Lambda::Function", "Role"),
    "state_machine": ("AWS::StepFunctions::StateMachine", "RoleArn"),
    "trigger": ("AWS::Events::Rule", "Targets"),
}
# A Step Functions service integration (TaskScheduled resourceType, resource) as an IAM action.
INTEGRATION_ACTIONS = {
    ("dynamodb", "putItem"): "dynamodb:PutItem",
    ("dynamodb", "getItem"): "dynamodb:GetItem",
    ("dynamodb", "updateItem"): "dynamodb:UpdateItem",
    ("lambda", "invoke"): "lambda:InvokeFunction",
}
# The parameter naming each call's resource, by service.
RESOURCE_PARAMS = {
    "dynamodb": "TableName",
    "lambda": "FunctionName",
    "bedrock-agentcore": "agentRuntimeArn",
    "states": "stateMachineArn",
}


@dataclass(frozen=True)
class Call:
    component: str
    action: str
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Call:
        return cls(data["component"], data["action"], dict(data.get("params") or {}))

    def __str__(self) -> str:
        named = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.component}: {self.action}({named})"


@dataclass
class Verdict:
    missing: list[str]  # "<call> is denied to role <logical id> on <resource>"
    unused: dict[str, list[str]]  # role logical id -> granted actions no recorded call used
    checked: int


def calls_from_execution_history(events: Iterable[Mapping[str, Any]]) -> list[Call]:
    """The state machine's service integration calls, from GetExecutionHistory's events."""
    calls = []
    for event in events:
        if event["type"] != "TaskScheduled":
            continue
        details = event["taskScheduledEventDetails"]
        action = INTEGRATION_ACTIONS[(details["resourceType"], details["resource"])]
        parameters = json.loads(details["parameters"])
        name = RESOURCE_PARAMS[action.split(":")[0]]
        calls.append(Call("state_machine", action, {name: parameters[name]}))
    return calls


def role_of(component: str, template: Mapping[str, Any]) -> str:
    kind, prop = COMPONENT_ROLES[component]
    (resource,) = (r for r in template["Resources"].values() if r["Type"] == kind)
    value = resource["Properties"][prop]
    if component == "trigger":
        (target,) = value
        value = target["RoleArn"]
    return value["Fn::GetAtt"][0]


def role_policies(role: str, template: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every policy document attached to the role (inline and AWS::IAM::Policy), resolved to
    example values."""
    documents = [
        p["PolicyDocument"] for p in template["Resources"][role]["Properties"].get("Policies", [])
    ]
    for resource in template["Resources"].values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": role} in resource["Properties"]["Roles"]
        ):
            documents.append(resource["Properties"]["PolicyDocument"])
    return [resolve(d, template) for d in documents]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resources_of(
    call: Call, template: Mapping[str, Any], logical_ids: Mapping[str, str]
) -> list[str]:
    """The example ARNs (as in the resolved aws template) of what the call touched."""
    service = call.action.split(":")[0]
    name = call.params[RESOURCE_PARAMS[service]]
    if service == "lambda" and name.startswith("arn:"):
        name = name.split(":")[6]  # function:NAME[:qualifier]
    elif service == "dynamodb" and name.startswith("arn:"):
        name = name.split("table/", 1)[1]
    if name not in logical_ids:
        raise KeyError(f"{call}: no resource of the stack is named {name!r}")
    logical_id = logical_ids[name]
    kind = template["Resources"][logical_id]["Type"]
    arn = example_attribute(
        logical_id, kind, "AgentRuntimeArn" if service == "bedrock-agentcore" else "Arn"
    )
    if service == "bedrock-agentcore":
        # Authorized on the runtime and on the endpoint called (no qualifier: DEFAULT).
        qualifier = call.params.get("qualifier", "DEFAULT")
        return [arn, f"{arn}/runtime-endpoint/{qualifier}"]
    return [arn]


def check(
    calls: Iterable[Call], template: Mapping[str, Any], logical_ids: Mapping[str, str]
) -> Verdict:
    """Evaluate every call against its component's role in ``template`` (the aws stage).

    ``logical_ids`` maps what the local run's calls name (table names, function names and
    ARNs, the stand-in's runtime ARN) to the logical ids both stages share."""
    # moto's policy engine, imported here: not by every xdist worker that collects the test
    from moto.iam.access_control import IAMPolicy, PermissionResult

    missing = []
    used: dict[str, set[str]] = {}
    calls = list(calls)
    for call in calls:
        role = role_of(call.component, template)
        used.setdefault(role, set()).add(call.action)
        engines = [IAMPolicy(json.dumps(d)) for d in role_policies(role, template)]
        for resource in resources_of(call, template, logical_ids):
            results = [e.is_action_permitted(call.action, resource) for e in engines]
            if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
                missing.append(f"{call} is denied to role {role} on {resource}")
    unused = {}
    for component in sorted({c.component for c in calls}):
        role = role_of(component, template)
        granted = {
            action
            for document in role_policies(role, template)
            for statement in _as_list(document["Statement"])
            if statement["Effect"] == "Allow"
            for action in _as_list(statement["Action"])
        }
        unused[role] = sorted(granted - used.get(role, set()))
    return Verdict(missing=missing, unused=unused, checked=len(calls))
