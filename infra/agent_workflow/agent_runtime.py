"""The agent on Bedrock AgentCore Runtime (aws stage only: LocalStack skips this resource type).

The agent image is a Docker asset built from ../agent at deploy time (synth needs no Docker).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_bedrockagentcore as agentcore
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from constructs import Construct

from agent_workflow.iam import log_group_write

AGENT_DIR = Path(__file__).resolve().parents[2] / "agent"


class AgentRuntime(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        bedrock_model_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        image = ecr_assets.DockerImageAsset(
            self,
            "Image",
            directory=str(AGENT_DIR),
            platform=ecr_assets.Platform.LINUX_ARM64,  # AgentCore Runtime runs arm64
            exclude=["__pycache__", "*.pyc"],
        )
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("bedrock-agentcore.amazonaws.com")
        )
        image.repository.grant_pull(self.role)  # includes ecr:GetAuthorizationToken
        table.grant(self.role, "dynamodb:GetItem", "dynamodb:UpdateItem")
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                resources=[
                    f"arn:{stack.partition}:bedrock:*::foundation-model/*",
                    stack.format_arn(
                        service="bedrock",
                        resource="inference-profile",
                        resource_name=bedrock_model_id,
                    ),
                ],
            )
        )
        self.role.add_to_policy(log_group_write(stack, "/aws/bedrock-agentcore/runtimes/*"))
        self.runtime = agentcore.CfnRuntime(
            self,
            "Runtime",
            agent_runtime_name="agent_workflow_agent",
            agent_runtime_artifact=agentcore.CfnRuntime.AgentRuntimeArtifactProperty(
                container_configuration=agentcore.CfnRuntime.ContainerConfigurationProperty(
                    container_uri=image.image_uri
                )
            ),
            network_configuration=agentcore.CfnRuntime.NetworkConfigurationProperty(
                network_mode="PUBLIC"
            ),
            role_arn=self.role.role_arn,
            environment_variables={
                "AGENT_MODEL": "bedrock",
                "BEDROCK_MODEL_ID": bedrock_model_id,
                "JOURNAL_TABLE_NAME": table.table_name,
            },
        )
        self.runtime.node.add_dependency(self.role)
        self.arn = self.runtime.attr_agent_runtime_arn
