"""The EventBridge rule: a ManualTrigger event starts one workflow execution.

The target's input is the whole event, untouched: no input transformer. LocalStack's
transformer does not escape what it inserts (a task with a quote, a backslash, a newline or
JSON text became invalid JSON and the event was dropped), and on AWS a transformer path that
is missing from the event yields invalid JSON too. The whole event arrives byte-exact on both,
and its top-level ``id`` (the session id) is what LocalStack names the execution after.

A delivery EventBridge cannot make (StartExecution refused, throttled past the retries) goes
to a dead-letter queue with the event as its body, so no accepted event is dropped silently.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from agent_workflow.nag import acknowledge
from contract import EVENT_DETAIL_TYPE, EVENT_SOURCE

# EventBridge retries a failed delivery with backoff for up to this long, then dead-letters it.
DELIVERY_RETRY_ATTEMPTS = 8
DELIVERY_MAX_EVENT_AGE = cdk.Duration.hours(1)


class ManualTrigger(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.IStateMachine,
        retain_dead_letters: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=(
                cdk.RemovalPolicy.RETAIN if retain_dead_letters else cdk.RemovalPolicy.DESTROY
            ),
        )
        for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            acknowledge(
                self.dead_letter_queue,
                rule,
                "This queue is the dead-letter queue (of the rule's target below, which cdk-nag "
                "does not see); nothing consumes it automatically, so it needs no DLQ of its own.",
            )
        self.rule = events.Rule(
            self,
            "Rule",
            description="ManualTrigger events start the agent workflow",
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=[EVENT_DETAIL_TYPE]
            ),
        )
        # No ``input``: the state machine receives the event itself (see the module docstring).
        self.rule.add_target(
            targets.SfnStateMachine(
                state_machine,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=DELIVERY_RETRY_ATTEMPTS,
                max_event_age=DELIVERY_MAX_EVENT_AGE,
            )
        )
