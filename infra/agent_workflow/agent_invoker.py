"""The agent-invoker Lambda (code in agent_invoker_lambda/, a plain zip asset: no Docker)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from agent_workflow.iam import log_group_write

CODE_DIR = Path(__file__).parent / "agent_invoker_lambda"


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
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # An explicit role, so its only log permissions are on this function's own log group
        # (the managed AWSLambdaBasicExecutionRole grants logs on "*").
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.role.add_to_policy(log_group_write(stack, f"/aws/lambda/{function_name}:*"))
        environment = {
            "JOURNAL_TABLE_NAME": journal_table_name,
            "AGENT_RUNTIME_ARN": agent_runtime_arn,
            "MAX_TASK_CHARS": str(max_task_chars),
        }
        if agentcore_endpoint:
            # A service-specific endpoint beats the general AWS_ENDPOINT_URL LocalStack sets.
            environment["AWS_ENDPOINT_URL_BEDROCK_AGENTCORE"] = agentcore_endpoint
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(CODE_DIR), exclude=["__pycache__"]),
            role=self.role,
            environment=environment,
            timeout=cdk.Duration.seconds(30),
            memory_size=256,
        )
