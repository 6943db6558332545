"""The EventBridge rule: a ManualTrigger event starts one workflow execution."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

EVENT_SOURCE = "agent.workflow"
EVENT_DETAIL_TYPE = "ManualTrigger"


class ManualTrigger(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, state_machine: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Rule",
            description="ManualTrigger events start the agent workflow",
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=[EVENT_DETAIL_TYPE]
            ),
        )
        self.rule.add_target(
            targets.SfnStateMachine(
                state_machine,
                input=events.RuleTargetInput.from_object(
                    {
                        # LocalStack names the execution after a top-level "id" and starts
                        # nothing without one (LocalStack issues 11970, 13336); AWS ignores it.
                        "id": events.EventField.event_id,
                        "session_id": events.EventField.event_id,
                        "task": events.EventField.from_path("$.detail.task"),
                        "detail": events.EventField.from_path("$.detail"),
                    }
                ),
            )
        )
