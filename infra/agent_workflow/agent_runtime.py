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
from agent_workflow.nag import acknowledge
from contract import ENV_AGENT_MODEL, ENV_BEDROCK_MODEL_ID, ENV_JOURNAL_TABLE_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]
AGENT_DOCKERFILE = "agent/Dockerfile"
AGENT_IMAGE_TARGET = "production"
# On top of the root .dockerignore (which lets in only agent/, contract/ and the stand-in):
# what the production target does not copy stays out of the asset, and so out of its hash.
AGENT_IMAGE_EXCLUDE = ["harness", "agent/testing", "**/__pycache__", "**/*.pyc"]
AGENT_MODEL = "bedrock"


class AgentRuntime(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        runtime_name: str,
        bedrock_model_id: str,
        foundation_model_id: str,
        model_regions: tuple[str, ...] | None,
    ) -> None:
        """``runtime_name``: unique per account and region (derived from the stack name).
        ``model_regions``: where the inference profile may route the model (None: this
        stack's region only, an in-region model id)."""
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
        # Only AgentCore acting for this account, on its runtimes here, may assume the role
        # (confused-deputy protection, as in every AgentCore sample).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "bedrock-agentcore.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(service="bedrock-agentcore", resource="*")
                    },
                },
            ),
        )
        image.repository.grant_pull(self.role)  # includes ecr:GetAuthorizationToken
        # The journal: read and move its session (GetItem, UpdateItem), and journal its own
        # steps beside it (PutItem of EVENT# items, agent/steps.py). This table only; IAM
        # cannot narrow PutItem to a sort-key prefix, the agent's conditional writes do.
        table.grant(self.role, "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem")
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                resources=_model_resources(
                    stack, bedrock_model_id, foundation_model_id, model_regions
                ),
            )
        )
        # The first call to an Anthropic model starts its Marketplace subscription in the
        # account (as the AgentCore starter toolkit's execution role grants).
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"],
                resources=["*"],
            )
        )
        # The runtime's log groups are named after its id: <runtime name>-<10 chars>-<endpoint>.
        runtime_logs = f"/aws/bedrock-agentcore/runtimes/{runtime_name}-*"
        self.role.add_to_policy(log_group_write(stack, runtime_logs))
        self.runtime = agentcore.CfnRuntime(
            self,
            "Runtime",
            agent_runtime_name=runtime_name,
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
                # Nothing else tells the agent's clients the region: without it DynamoDB has
                # none (NoRegionError) and Strands' Bedrock model falls back to us-west-2.
                "AWS_REGION": stack.region,
                "AWS_DEFAULT_REGION": stack.region,
            },
        )
        # The role's policy must exist before AgentCore checks the role (image pull); the
        # role itself is already ordered by the GetAtt.
        self.runtime.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        self.arn = self.runtime.attr_agent_runtime_arn
        self._acknowledge_findings(runtime_logs, foundation_model_id, model_regions)

    def _acknowledge_findings(
        self, runtime_logs: str, foundation_model_id: str, regions: tuple[str, ...] | None
    ) -> None:
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, aws-marketplace:ViewSubscriptions and "
            "aws-marketplace:Subscribe have no resource-level permissions: '*' is their only "
            "form (the image pull itself is on this asset's repository only).",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            f"<AWS::AccountId>:log-group:{runtime_logs}]",
            "This runtime's own log groups: AgentCore names them after the runtime id, "
            "which is the runtime's name plus a suffix it picks.",
        )
        if regions == ("*",):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/"
                f"{foundation_model_id}]",
                "A global inference profile routes to any commercial region: this one model, "
                "in any region.",
            )


def _model_resources(
    stack: cdk.Stack,
    model_id: str,
    foundation_model_id: str,
    regions: tuple[str, ...] | None,
) -> list[str]:
    """The inference profile (in this region) and its model in each region it routes to."""
    resources = [
        f"arn:{stack.partition}:bedrock:{region}::foundation-model/{foundation_model_id}"
        for region in (regions or (stack.region,))
    ]
    if model_id != foundation_model_id:  # an inference profile
        resources.append(
            stack.format_arn(
                service="bedrock", resource="inference-profile", resource_name=model_id
            )
        )
    return resources
