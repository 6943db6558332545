"""The LocalStack plug-in's deferred moto packages, in LocalStack's own interpreter with its
own moto: once the hook is installed, importing LocalStack's SSM provider and moto's SSM
models, and Step Functions' batch task, imports neither moto's EC2 nor its Batch models, and
its CloudFormation engine leaves LocalStack's EC2 API and SAM's translator unrun (a SAM
template's transform still works);
SSM calls work, SendCommand with targets (which reads EC2's instances) finds an instance EC2
ran, and moto's Batch backend is there when asked for."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from harness.runtime.installer import Installer
from harness.settings import REPO_ROOT, Settings

PROBE = """
import importlib, json, os, sys
sys.path.insert(0, sys.argv[1])
from localstack_host_lambda import deferred_packages
if sys.argv[2] == "hook":
    deferred_packages.defer_package_inits()
for name in (
    "localstack.services.ssm.provider",
    "moto.ssm.models",
    "localstack.services.stepfunctions.asl.component.state.state_execution.state_task"
    ".service.state_task_service_batch",
    "localstack.services.cloudformation.v2.provider",
):
    importlib.import_module(name)
seen = {"imported": {m: m in sys.modules for m in ("moto.ec2.models", "moto.batch.models")}}
seen["ec2_api_run"] = "Ec2Api" in vars(sys.modules["localstack.aws.api.ec2"])
seen["sam_translator_imported"] = "samtranslator.translator.translator" in sys.modules
from localstack.services.cloudformation.engine.v2 import change_set_model_transform
class NoPolicies:
    def load(self):
        return {}
function = {"Handler": "index.handler", "Runtime": "python3.12", "InlineCode": "x"}
sam = {"Transform": "AWS::Serverless-2016-10-31",
       "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": function}}}
seen["sam_resources"] = sorted(
    change_set_model_transform.transform_sam(sam, {}, NoPolicies())["Resources"])
os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
import boto3
from moto import mock_aws
from moto.backends import get_backend
with mock_aws():
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String")
    seen["parameter"] = ssm.get_parameter(Name="/cdk-bootstrap/hnb659fds/version")[
        "Parameter"]["Value"]
    seen["ec2_after_parameter"] = "moto.ec2.models" in sys.modules
    tag = {"Key": "Name", "Value": "worker"}
    instance = boto3.client("ec2", region_name="us-east-1").run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [tag]}],
    )["Instances"][0]["InstanceId"]
    command = ssm.send_command(
        Targets=[{"Key": "tag:Name", "Values": ["worker"]}],
        DocumentName="AWS-RunShellScript", Parameters={"commands": ["true"]},
    )["Command"]
    seen["targeted"] = command["InstanceIds"] == [instance]
batch = get_backend("batch")["123456789012"]["us-east-1"]
seen["job_queues"] = batch.describe_job_queues(job_queues=None)
print(json.dumps(seen))
"""


def probe(settings: Settings, hook: bool) -> dict[str, object]:
    # LocalStack's interpreter, installed as the runtime's (under the checkout's install lock:
    # the shared runtime may be installing meanwhile); no runtime runs.
    installer = Installer(settings)
    installer.ensure_all()
    # moto's mock answers calls to AWS's own endpoints only: none to a local one
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"  # SAM's transform names the region
    run = subprocess.run(
        [
            str(installer.localstack_python),
            "-c",
            PROBE,
            str(REPO_ROOT / "harness" / "localstack_host_lambda"),
            "hook" if hook else "none",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, object] = json.loads(run.stdout)
    return result


@pytest.mark.apart  # LocalStack's interpreter alone, no runtime: beside the exclusive tests
def test_ssm_and_batch_task_load_without_moto_ec2(harness_settings: Settings) -> None:
    assert probe(harness_settings, hook=True) == {
        "imported": {"moto.ec2.models": False, "moto.batch.models": False},
        "ec2_api_run": False,
        "sam_translator_imported": False,
        "sam_resources": ["Fn", "FnRole"],
        "parameter": "30",
        "ec2_after_parameter": False,
        "targeted": True,
        "job_queues": [],
    }
