"""Recording the AWS calls a component makes, for the IAM sufficiency check (local only).

With ``RECORD_AWS_CALLS=1`` in its environment (the local stage and the local runtime set it;
the aws stage never does) a component logs one line per AWS API call its boto3 clients make:
``aws_call=<{"action", "component", "params"}>``: the IAM action (``dynamodb:UpdateItem``)
and only the parameters that name the resource (never a payload, a key or a task). The test
reads the lines back from the component's log and evaluates each against the aws stage's
role for it (tests/support/iam_sufficiency.py). Standard library and botocore's event hooks
only: it is bundled with the invoker and copied into the agent image.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Final

from contract import ENV_RECORD_AWS_CALLS

MARKER: Final = "aws_call="
# The parameters that name what a call touches.
RESOURCE_PARAMS: Final = (
    "TableName",
    "FunctionName",
    "agentRuntimeArn",
    "qualifier",
    "stateMachineArn",
    "modelId",
)

logger = logging.getLogger("aws_calls")


def record_aws_calls(component: str, session: Any = None) -> bool:
    """When RECORD_AWS_CALLS=1: log every call of the clients ``session`` (boto3's default
    session) creates from now on. Call it before the component creates its clients (each
    client copies the session's hooks when it is made). Returns whether it records."""
    if os.environ.get(ENV_RECORD_AWS_CALLS) != "1":
        return False
    if session is None:
        import boto3

        session = boto3._get_default_session()  # what boto3.client() uses

    def log_call(params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model
        prefix = service.signing_name or service.endpoint_prefix
        for action, named in actions(model.name, params):
            record = {"component": component, "action": f"{prefix}:{action}", "params": named}
            logger.info("%s<%s>", MARKER, json.dumps(record, sort_keys=True))

    # Its own level: the records must pass whatever level the host sets on the root logger
    # (Lambda's runtime may set WARNING); they reach the root's handlers all the same.
    logger.setLevel(logging.INFO)
    session.events.register(
        "before-parameter-build", log_call, unique_id=f"contract.aws_calls.{component}"
    )
    return True


# DynamoDB's transactions are no IAM action of their own: each action in one is authorised as
# the operation it stands for (a Put as PutItem, ...), on its own table.
TRANSACT_WRITE_ACTIONS: Final = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _named(params: dict[str, Any]) -> dict[str, str]:
    return {k: params[k] for k in RESOURCE_PARAMS if isinstance(params.get(k), str)}


def actions(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """The IAM actions one call needs, each with the parameters that name its resource."""
    if operation != "TransactWriteItems":
        return [(operation, _named(params))]
    return [
        (TRANSACT_WRITE_ACTIONS[kind], _named(action))
        for item in params.get("TransactItems", [])
        for kind, action in item.items()
    ]


def parse(lines: str) -> list[dict[str, Any]]:
    """The recorded calls in a log's text."""
    calls = []
    for line in lines.splitlines():
        start = line.find(MARKER + "<")
        if start >= 0 and line.rstrip().endswith(">"):
            calls.append(json.loads(line[start + len(MARKER) + 1 : line.rstrip().rindex(">")]))
    return calls
