"""The local runtime runs the AWS services the workflow needs, for real (issue 3).

No mocks: DynamoDB Local behind LocalStack, a python3.12 zip Lambda run by the host executor
(or LocalStack's Docker executor), Step Functions and EventBridge.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest

from contract import JOURNAL_TABLE_SCHEMA, journal_key
from harness.runtime import dynamodb_local_build
from harness.runtime.host import HostRuntime
from harness.runtime.processes import ManagedProcess, cmdline, descendants
from tests.support.helpers import wait_for

ROLE_ARN = "arn:aws:iam::000000000000:role/local-test-role"
HANDLER_SOURCE = """
import os
import boto3

def handler(event, context):
    table = os.environ["TABLE_NAME"]
    ddb = boto3.client("dynamodb")
    key = {"PK": {"S": "from-lambda"}, "SK": {"S": event["session_id"]}}
    ddb.put_item(TableName=table, Item=key)
    item = ddb.get_item(TableName=table, Key=key)
    return {
        "echo": event,
        "greeting": os.environ["GREETING"],
        "read_back": item["Item"]["SK"]["S"],
        "function_name": context.function_name,
    }
"""


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {key: f"rt-{key}-{suffix}" for key in ("table", "function", "machine", "rule")}


@pytest.fixture(scope="module")
def table(aws_client, names) -> str:
    ddb = aws_client("dynamodb")
    ddb.create_table(TableName=names["table"], **JOURNAL_TABLE_SCHEMA)
    ddb.get_waiter("table_exists").wait(TableName=names["table"])
    yield names["table"]
    ddb.delete_table(TableName=names["table"])


@pytest.fixture(scope="module")
def function_arn(aws_client, names, table) -> str:
    lam = aws_client("lambda")
    arn = lam.create_function(
        FunctionName=names["function"],
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="handler.handler",
        Code={"ZipFile": _zip(HANDLER_SOURCE)},
        Environment={"Variables": {"TABLE_NAME": table, "GREETING": "hello from the env"}},
        Timeout=30,
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=names["function"])
    yield arn
    lam.delete_function(FunctionName=names["function"])


@pytest.fixture(scope="module")
def state_machine_arn(aws_client, names, table, function_arn) -> str:
    definition = {
        "StartAt": "PutItem",
        "States": {
            "PutItem": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {
                    "TableName": table,
                    "Item": {"PK": {"S.$": "$.session_id"}, "SK": {"S": "SESSION"}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                },
                "ResultPath": None,
                "Next": "Invoke",
            },
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            },
        },
    }
    sfn = aws_client("stepfunctions")
    arn = sfn.create_state_machine(
        name=names["machine"], definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    yield arn
    sfn.delete_state_machine(stateMachineArn=arn)


def test_dynamodb_create_put_get(aws_client, table):
    ddb = aws_client("dynamodb")
    ddb.put_item(TableName=table, Item={"PK": {"S": "k"}, "SK": {"S": "v"}, "n": {"N": "7"}})
    item = ddb.get_item(
        TableName=table, Key={"PK": {"S": "k"}, "SK": {"S": "v"}}, ConsistentRead=True
    )
    assert item["Item"]["n"] == {"N": "7"}


def test_dynamodb_locals_temporary_files_stay_in_the_runtimes_folder(harness_settings, table):
    """DynamoDB Local unpacks its sqlite library at each start: into the runtime's own folder,
    which goes at `down` (in /tmp, each start left 0.9 MB behind)."""
    instance_tmp = HostRuntime(harness_settings).instance_root / "tmp"
    assert sorted(p.name for p in instance_tmp.glob("sqlite-*libsqlite4java*")), sorted(
        p.name for p in instance_tmp.iterdir()
    )


def test_dynamodb_local_starts_on_its_class_archive_without_an_agent(harness_settings, table):
    """Its classes are mapped from the archive the install dumped (a JVM with a Java agent
    would map none), and it binds loopback all the same (test_load_and_security.py)."""
    runtime = HostRuntime(harness_settings)
    localstack = ManagedProcess(runtime.specs()[0], runtime.run_dir).pid()
    assert localstack is not None
    (jvm,) = [p for p in descendants(localstack) if "DynamoDBLocal.jar" in cmdline(p)]
    assert "-javaagent:" not in cmdline(jvm)
    maps = Path(f"/proc/{jvm}/maps").read_text()
    assert f"/{dynamodb_local_build.ARCHIVE}" in maps, cmdline(jvm)


def test_s3_keeps_its_buckets_in_the_runtimes_folder(harness_settings, function_arn):
    """LocalStack's S3 provider hard-codes /tmp/localstack-s3-storage, one folder every host
    LocalStack on the machine shared and left behind: its buckets' folders (the Lambda code's
    bucket here) are in the runtime's own folder, which goes at `down`."""
    storage = HostRuntime(harness_settings).instance_root / "tmp" / "localstack-s3-storage"
    assert storage.is_dir(), sorted(p.name for p in storage.parent.iterdir())
    assert [p.name for p in storage.iterdir() if p.name.startswith("awslambda-")], sorted(
        p.name for p in storage.iterdir()
    )


def test_lambda_zip_sees_its_environment_and_dynamodb(aws_client, function_arn, table):
    response = aws_client("lambda").invoke(
        FunctionName=function_arn, Payload=json.dumps({"session_id": "direct-call"})
    )
    assert "FunctionError" not in response, response["Payload"].read()
    result = json.loads(response["Payload"].read())
    assert result == {
        "echo": {"session_id": "direct-call"},
        "greeting": "hello from the env",
        "read_back": "direct-call",
        "function_name": function_arn.rsplit(":", 1)[-1],
    }


def _invoke_broken(aws_client, name: str, source: str) -> dict:
    """Create a function from ``source``, invoke it once, delete it; returns the error body."""
    lam = aws_client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="handler.handler",
        Code={"ZipFile": _zip(source)},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    try:
        response = lam.invoke(FunctionName=name, Payload=b"{}")
        assert response["FunctionError"] == "Unhandled"
        return json.loads(response["Payload"].read())
    finally:
        lam.delete_function(FunctionName=name)


def test_lambda_error_is_reported_as_function_error(aws_client, names):
    source = "def handler(event, context):\n    raise ValueError('bad input')\n"
    error = _invoke_broken(aws_client, f"{names['function']}-err", source)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input"


def test_lambda_import_error_is_reported_as_an_init_error(aws_client, names):
    source = "import no_such_module\n\ndef handler(event, context):\n    pass\n"
    error = _invoke_broken(aws_client, f"{names['function']}-import", source)
    assert "no_such_module" in json.dumps(error)


def test_state_machine_with_dynamodb_and_lambda_tasks_succeeds(
    aws_client, state_machine_arn, table
):
    sfn = aws_client("stepfunctions")
    session_id = str(uuid.uuid4())
    execution_arn = sfn.start_execution(
        stateMachineArn=state_machine_arn, input=json.dumps({"session_id": session_id})
    )["executionArn"]

    execution = wait_for(
        lambda: (
            (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d
        ),
        timeout=60,
        what="execution end",
        interval=0.25,
    )
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["read_back"] == session_id
    item = aws_client("dynamodb").get_item(TableName=table, Key=journal_key(session_id))
    assert "Item" in item


def test_eventbridge_rule_with_input_transformer_starts_the_state_machine(
    aws_client, names, state_machine_arn
):
    events = aws_client("events")
    events.put_rule(
        Name=names["rule"],
        EventPattern=json.dumps({"source": ["rt.test"], "detail-type": ["ManualTrigger"]}),
    )
    events.put_targets(
        Rule=names["rule"],
        Targets=[
            {
                "Id": "workflow",
                "Arn": state_machine_arn,
                "RoleArn": ROLE_ARN,
                "InputTransformer": {
                    "InputPathsMap": {"eventId": "$.id", "task": "$.detail.task"},
                    # LocalStack names the execution after a top-level "id" (known bug).
                    "InputTemplate": '{"id": <eventId>, "session_id": <eventId>, "task": <task>}',
                },
            }
        ],
    )
    try:
        entry = events.put_events(
            Entries=[
                {
                    "Source": "rt.test",
                    "DetailType": "ManualTrigger",
                    "Detail": json.dumps({"task": "check the transformer"}),
                }
            ]
        )["Entries"][0]
        event_id = entry["EventId"]
        sfn = aws_client("stepfunctions")

        def started_execution():
            for execution in sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]:
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                if json.loads(described["input"]).get("session_id") == event_id:
                    return described
            return None

        execution = wait_for(
            started_execution, timeout=30, interval=0.25, what=f"execution for event {event_id}"
        )
        assert json.loads(execution["input"]) == {
            "id": event_id,
            "session_id": event_id,
            "task": "check the transformer",
        }
    finally:
        events.remove_targets(Rule=names["rule"], Ids=["workflow"])
        events.delete_rule(Name=names["rule"])
