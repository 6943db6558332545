"""The deployed invoker runs the boto3 requirements/lambda.lock pins, imported from its SDK
layer (infra/agent_workflow/sdk_layer.py), not the runtime's own: locally the host executor
puts the layer LocalStack unpacked ahead of the interpreter's packages, as Lambda does with
/opt/python ahead of /var/runtime."""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

import pytest

from contract import INVOKER_SDK_LOG
from harness.assertions import assert_completed
from harness.settings import REPO_ROOT

LOCK = REPO_ROOT / "requirements" / "lambda.lock"


def pinned(package: str) -> str:
    found = re.search(rf"^{package}==(\S+)", LOCK.read_text(), re.MULTILINE)
    assert found, f"{package} is not pinned in {LOCK}"
    return found.group(1)


def logged_sdks(aws_client: Any, function_name: str) -> list[dict[str, str]]:
    """Every environment's SDK line in the invoker's log group (each logs one, at its first
    invocation, so the whole group is read: a warm environment logs none today)."""
    paginator = aws_client("logs").get_paginator("filter_log_events")
    pages = paginator.paginate(logGroupName=f"/aws/lambda/{function_name}")
    text = "\n".join(e["message"] for page in pages for e in page["events"])
    return [json.loads(m) for m in re.findall(rf"{INVOKER_SDK_LOG}(\{{.*\}})", text)]


@pytest.mark.any_target
def test_the_deployed_invoker_imports_the_pinned_boto3_from_its_layer(
    aws_client, deployed_stack, trigger, session_reader, harness_settings
):
    # GIVEN the deployed invoker, with one layer
    stacks = aws_client("cloudformation").describe_stacks(StackName=harness_settings.stack_name)
    (stack,) = stacks["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    function_name = outputs["InvokerFunctionName"]
    configuration = aws_client("lambda").get_function_configuration(FunctionName=function_name)
    assert len(configuration["Layers"]) == 1, configuration.get("Layers")

    # WHEN a session runs through it
    session_id = trigger("Summarise the quarterly cost report")
    assert_completed(session_reader, session_id)

    # THEN every environment imported the lock's boto3 and botocore, from the layer's python/
    # folder (Lambda's /opt/python; the runtime's or the host venv's is a site-packages)
    sdks = logged_sdks(aws_client, function_name)
    assert sdks, f"no {INVOKER_SDK_LOG} line in the invoker's log"
    for sdk in sdks:
        assert sdk["boto3"] == pinned("boto3")
        assert sdk["botocore"] == pinned("botocore")
        path = PurePosixPath(sdk["path"])
        assert path.parts[-3:] == ("python", "boto3", "__init__.py"), path
        assert "site-packages" not in path.parts, path
