"""AgentWorkflowStack: composes the constructs, does the grants, emits what the harness reads."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from agent_workflow.agent_invoker import AgentInvoker
from agent_workflow.agent_runtime import AgentRuntime
from agent_workflow.config import StageConfig
from agent_workflow.journal_table import JournalTable
from agent_workflow.trigger import ManualTrigger
from agent_workflow.workflow import Workflow
from contract import AGENTCORE_ENDPOINT_PARAMETER


class AgentWorkflowStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        journal = JournalTable(self, "Journal", retain=not config.is_local).table

        if config.is_local:
            runtime_arn = config.local_agent_runtime_arn
        else:
            runtime_arn = AgentRuntime(
                self,
                "AgentRuntime",
                table=journal,
                runtime_name=config.agent_runtime_name,
                bedrock_model_id=config.bedrock_model_id,
                foundation_model_id=config.foundation_model_id,
                model_regions=config.model_regions,
            ).arn

        invoker_name = f"{construct_id}-agent-invoker"
        invoker = AgentInvoker(
            self,
            "AgentInvoker",
            function_name=invoker_name,
            journal_table_name=journal.table_name,
            agent_runtime_arn=runtime_arn,
            max_task_chars=config.max_task_chars,
            agentcore_endpoint=self._agentcore_endpoint(config) if config.is_local else None,
            observability=not config.is_local,
            record_aws_calls=config.is_local,
        )
        # The same grant in both stages: InvokeAgentRuntime on this runtime and the endpoint
        # the invoker calls (no qualifier: DEFAULT) only (locally the stand-in's ARN, which
        # LocalStack does not enforce; in AWS the real runtime).
        invoker.role.add_to_policy(
            iam.PolicyStatement(
                actions=["bedrock-agentcore:InvokeAgentRuntime"],
                resources=[runtime_arn, f"{runtime_arn}/runtime-endpoint/DEFAULT"],
            )
        )

        workflow = Workflow(
            self,
            "Workflow",
            table=journal,
            invoker=invoker.function,
            poll_interval_seconds=config.poll_interval_seconds,
            max_polls=config.max_polls,
            wait_scale=config.wait_scale,
            observability=not config.is_local,
        )
        trigger = ManualTrigger(
            self,
            "Trigger",
            state_machine=workflow.state_machine,
            retain_dead_letters=not config.is_local,
        )

        outputs = {
            "StateMachineArn": workflow.state_machine.state_machine_arn,
            "JournalTableName": journal.table_name,
            "RuleName": trigger.rule.rule_name,
            "DeadLetterQueueUrl": trigger.dead_letter_queue.queue_url,
            "EventBusName": "default",
            "InvokerFunctionName": invoker.function.function_name,
            "AgentRuntimeArn": runtime_arn,
            "Stage": config.stage,
            "PollIntervalSeconds": str(config.poll_interval_seconds),
            "MaxPolls": str(config.max_polls),
        }
        if config.is_local:
            # The emulator's Wait scale this stack was deployed for (its timeline says so).
            outputs["WaitScale"] = f"{config.wait_scale:g}"
        for key, value in outputs.items():
            cdk.CfnOutput(self, key, value=value)

    def _agentcore_endpoint(self, config: StageConfig) -> str:
        """The stand-in's URL as a stack parameter: the harness sets it at each deploy, so one
        synth serves every runtime whatever its ports (a test's own on free ports, docker's)."""
        return cdk.CfnParameter(
            self,
            AGENTCORE_ENDPOINT_PARAMETER,
            type="String",
            default=config.agentcore_endpoint,
            description="Where the invoker reaches the AgentCore stand-in (local stage only)",
        ).value_as_string
