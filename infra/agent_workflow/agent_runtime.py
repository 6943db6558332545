"""The agent on Bedrock AgentCore Runtime (aws stage only: LocalStack skips this resource type).

The agent image is a Docker asset built at deploy time (synth needs no Docker): agent/Dockerfile's
``production`` target, from the repository root with only agent/ (less its test doubles) and
contract/ in the context. Its environment names the model (Bedrock) and never allows faults.
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
from contract import ENV_AGENT_MODEL, ENV_BEDROCK_MODEL_ID, ENV_JOURNAL_TABLE_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
AGENT_DOCKERFILE = "agent/Dockerfile"
AGENT_IMAGE_TARGET = "production"
# On top of the root .dockerignore (which lets in only agent/, contract/ and the stand-in):
# what the production target does not copy (the stand-in, the LocalStack image's inputs) stays
# out of the asset, and so out of its hash.
AGENT_IMAGE_EXCLUDE = ["harness", "requirements", "agent/testing", "**/__pycache__", "**/*.pyc"]
AGENT_MODEL = "bedrock"


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
            directory=str(REPO_ROOT),
            file=AGENT_DOCKERFILE,
            target=AGENT_IMAGE_TARGET,
            platform=ecr_assets.Platform.LINUX_ARM64,  # AgentCore Runtime runs arm64
            exclude=AGENT_IMAGE_EXCLUDE,
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
            # No ENV_AGENT_ALLOW_FAULTS, ever: the production image has no faults to allow.
            environment_variables={
                ENV_AGENT_MODEL: AGENT_MODEL,
                ENV_BEDROCK_MODEL_ID: bedrock_model_id,
                ENV_JOURNAL_TABLE_NAME: table.table_name,
            },
        )
        self.runtime.node.add_dependency(self.role)
        self.arn = self.runtime.attr_agent_runtime_arn
