"""The agent-invoker Lambda: handler.py from agent_invoker_lambda/ and the ``contract``
package beside it, in one zip asset bundled on the host (no Docker), and the pinned boto3 in
a layer of its own (sdk_layer.py): the function's zip stays a few kilobytes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from agent_workflow.iam import log_group_write
from agent_workflow.nag import acknowledge
from agent_workflow.sdk_layer import ARCHITECTURE, RUNTIME, SdkLayer
from contract import (
    ENV_AGENT_RUNTIME_ARN,
    ENV_AGENTCORE_ENDPOINT,
    ENV_JOURNAL_TABLE_NAME,
    ENV_MAX_TASK_CHARS,
    ENV_RECORD_AWS_CALLS,
    INVOKER_CONNECT_TIMEOUT_SECONDS,
    INVOKER_MAX_ATTEMPTS,
    INVOKER_READ_TIMEOUT_SECONDS,
)

CODE_DIR = Path(__file__).parent / "agent_invoker_lambda"
# botocore's standard retry mode waits at most 20 s before an attempt.
BOTOCORE_MAX_BACKOFF_SECONDS = 20
# The Lambda's start (init phase: the client is built then) and its own work.
INVOKER_OVERHEAD_SECONDS = 10


def invoker_timeout_seconds() -> int:
    """Long enough for every attempt of the client to time out, with botocore's waits between
    them, and still return: the retry always fits, and a call that got no answer is reported
    by the handler (AgentInvocationTimeout), not cut off by Lambda."""
    per_attempt = INVOKER_CONNECT_TIMEOUT_SECONDS + INVOKER_READ_TIMEOUT_SECONDS
    waits = (INVOKER_MAX_ATTEMPTS - 1) * BOTOCORE_MAX_BACKOFF_SECONDS
    return INVOKER_MAX_ATTEMPTS * per_attempt + waits + INVOKER_OVERHEAD_SECONDS


CONTRACT_DIR = Path(__file__).resolve().parents[2] / "contract"


def bundle_files() -> dict[str, Path]:
    """What the zip holds: its paths, and the files they come from."""
    files = {"handler.py": CODE_DIR / "handler.py"}
    for source in sorted(CONTRACT_DIR.rglob("*.py")):
        if "__pycache__" not in source.parts:
            files[f"contract/{source.relative_to(CONTRACT_DIR).as_posix()}"] = source
    return files


def bundle_hash() -> str:
    """The asset's hash: the names and contents of what it holds, so an edit of the handler
    or of the contract is a new asset (a new S3 key: the Lambda's code is updated)."""
    sha = hashlib.sha256()
    for name, source in bundle_files().items():
        sha.update(name.encode() + b"\0" + source.read_bytes() + b"\0")
    return sha.hexdigest()


@jsii.implements(cdk.ILocalBundling)
class _HostBundling:
    """Copies the handler and the contract package into the asset, on the host."""

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        for name, source in bundle_files().items():
            target = Path(output_dir) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return True


def invoker_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(CODE_DIR),
        asset_hash=bundle_hash(),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds, so no Docker is needed.
            image=cdk.DockerImage.from_registry("unused"),
            # jsii hands try_bundle the options as one struct (as _HostBundling takes them);
            # its typing protocol spells them out as keywords, hence the ignore.
            local=_HostBundling(),  # type: ignore[arg-type]
        ),
    )


class AgentInvoker(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        journal_table_name: str,
        agent_runtime_arn: str,
        max_task_chars: int,
        agentcore_endpoint: str | None,
        observability: bool = False,
        record_aws_calls: bool = False,
    ) -> None:
        """``observability``: X-Ray traces (aws stage). ``record_aws_calls``: log each AWS
        call for the IAM sufficiency check (local stage only)."""
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # An explicit role, so its only log permissions are on this function's own log group
        # (the managed AWSLambdaBasicExecutionRole grants logs on "*").
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.role.add_to_policy(log_group_write(stack, f"/aws/lambda/{function_name}:*"))
        environment = {
            ENV_JOURNAL_TABLE_NAME: journal_table_name,
            ENV_AGENT_RUNTIME_ARN: agent_runtime_arn,
            ENV_MAX_TASK_CHARS: str(max_task_chars),
        }
        if agentcore_endpoint:
            # A service-specific endpoint beats the general AWS_ENDPOINT_URL LocalStack sets.
            environment[ENV_AGENTCORE_ENDPOINT] = agentcore_endpoint
        if record_aws_calls:
            environment[ENV_RECORD_AWS_CALLS] = "1"
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=invoker_code(),
            # boto3 as requirements/lambda.lock pins it (the version the offline model check
            # and the host runtime use), ahead of the runtime's own on the import path.
            layers=[SdkLayer(self, "Sdk").layer],
            role=self.role,
            environment=environment,
            timeout=cdk.Duration.seconds(invoker_timeout_seconds()),
            memory_size=256,
            tracing=lambda_.Tracing.ACTIVE if observability else None,
        )
        self._acknowledge_findings(function_name, observability)

    def _acknowledge_findings(self, function_name: str, observability: bool) -> None:
        """cdk-nag findings on the invoker that are reviewed choices, not defects."""
        acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            f"<AWS::AccountId>:log-group:/aws/lambda/{function_name}:*]",
            "The log streams of the invoker's own log group (stream names are Lambda's).",
        )
        for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
            acknowledge(
                self.function,
                rule,
                "python3.12 on purpose: the local runtime runs the invoker on the project's "
                "Python 3.12 (host executor), so the tested code is the deployed code; Lambda "
                "supports python3.12 until its announced deprecation (2028).",
            )
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Only Step Functions invokes it, synchronously: a failure returns to the InvokeAgent "
            "state, whose Catch records the session FAILED. A DLQ only serves async invokes.",
        )
        if observability:
            acknowledge(
                self.role.node.find_child("DefaultPolicy"),
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level "
                "permissions: '*' is their only form.",
            )
