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
from agent_workflow.nag import acknowledge
from agent_workflow.trigger import ManualTrigger
from agent_workflow.workflow import Workflow


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
                self, "AgentRuntime", table=journal, bedrock_model_id=config.bedrock_model_id
            ).arn

        invoker_name = f"{construct_id}-agent-invoker"
        invoker = AgentInvoker(
            self,
            "AgentInvoker",
            function_name=invoker_name,
            journal_table_name=journal.table_name,
            agent_runtime_arn=runtime_arn,
            max_task_chars=config.max_task_chars,
            agentcore_endpoint=config.agentcore_endpoint if config.is_local else None,
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
        self._acknowledge_invoker_findings(invoker, invoker_name)

        workflow = Workflow(
            self,
            "Workflow",
            table=journal,
            invoker=invoker.function,
            poll_interval_seconds=config.poll_interval_seconds,
            max_polls=config.max_polls,
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
        for key, value in outputs.items():
            cdk.CfnOutput(self, key, value=value)

    @staticmethod
    def _acknowledge_invoker_findings(invoker: AgentInvoker, function_name: str) -> None:
        """cdk-nag findings on the invoker that are reviewed choices, not defects."""
        acknowledge(
            invoker.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            f"<AWS::AccountId>:log-group:/aws/lambda/{function_name}:*]",
            "The log streams of the invoker's own log group (stream names are Lambda's).",
        )
        for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
            acknowledge(
                invoker.function,
                rule,
                "python3.12 on purpose: the local runtime runs the invoker on the project's "
                "Python 3.12 (host executor), so the tested code is the deployed code; Lambda "
                "supports python3.12 until its announced deprecation (2028).",
            )
        acknowledge(
            invoker.function,
            "Serverless-LambdaDLQ",
            "Only Step Functions invokes it, synchronously: a failure returns to the InvokeAgent "
            "state, whose Catch records the session FAILED. A DLQ only serves async invokes.",
        )
