"""The Step Functions workflow (JSONPath): record the session, start the agent, poll the journal.

Its input is the ManualTrigger event itself: ``$.id`` (the event id) is the session id and
``$.detail.task`` the task. Nothing copies the task around: the state data stays the event.

ValidateInput -> InitializeSession -> InvokeAgent -> InitPollCount -> WaitForCompletion
  -> CheckStatus -> EvaluateStatus -> Success | Failure | RecordTimeout -> TimedOut
                                    | IncrementPollCount -> WaitForCompletion
Side exits: RejectInvalidInput -> InvalidInput; a redelivered event -> DuplicateSession;
InvokeAgent failing after its retries -> RecordInvokeFailure -> Failure; InvokeAgent with no
answer in time (the agent may have started) -> InitPollCount: the journal decides.
The journal's status only moves forward: every write is conditional.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from agent_workflow.config import polls_for
from agent_workflow.nag import acknowledge, token_ref
from contract import (
    ALLOWED_PREVIOUS,
    PARTITION_KEY,
    SESSION_SORT_KEY,
    SORT_KEY,
    SessionStatus,
)

# The journal's statuses, as the plain strings the template holds (contract.SessionStatus).
INITIATED = SessionStatus.INITIATED.value
COMPLETED = SessionStatus.COMPLETED.value
FAILED = SessionStatus.FAILED.value
# A new item only: a redelivered event must not start a second agent run.
NEW_ITEM_ONLY = f"attribute_not_exists({PARTITION_KEY})"
CONDITIONAL_CHECK_FAILED = "DynamoDB.ConditionalCheckFailedException"
NOW = "$$.State.EnteredTime"
SESSION_ID = "$.id"
TASK = "$.detail.task"
INVALID_TASK = "invalid input: detail.task must be a non-empty string"
# Transient failures of the invocation worth another try; InvalidInput is not one of them.
RETRYABLE_INVOKE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "AgentInvocationError",
]
# The invocation got no answer in time: the invoker's client gave up after its retries, or the
# invoker itself (Lambda) or the task timed out.
UNANSWERED_INVOKE_ERRORS = ["AgentInvocationTimeout", "Sandbox.Timedout", "States.Timeout"]


def _s(value: str) -> tasks.DynamoAttributeValue:
    return tasks.DynamoAttributeValue.from_string(value)


def _created_now() -> dict[str, tasks.DynamoAttributeValue]:
    """What every new journal item starts with: the state's entry time as start_time,
    created_at and updated_at, and the execution that wrote it (the harness reads it)."""
    now = _s(sfn.JsonPath.string_at(NOW))
    return {
        "start_time": now,
        "created_at": now,
        "updated_at": now,
        "execution_arn": _s(sfn.JsonPath.string_at("$$.Execution.Id")),
    }


def _history_entry(status: str, note: str) -> tasks.DynamoAttributeValue:
    return tasks.DynamoAttributeValue.from_map(
        {"status": _s(status), "at": _s(sfn.JsonPath.string_at(NOW)), "note": _s(note)}
    )


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        invoker: lambda_.IFunction,
        poll_interval_seconds: int,
        max_polls: int,
        wait_scale: float = 1.0,
        observability: bool = False,
    ) -> None:
        """``max_polls`` polls of ``poll_interval_seconds``: the time a silent agent is given.
        ``wait_scale`` (local stage): the fraction of its duration a Wait lasts in the
        emulator; the workflow then polls ``max_polls / wait_scale`` times, which keeps that
        time, and its timeout messages say so.
        ``observability``: execution logs (level ALL) and X-Ray traces, for the aws stage."""
        super().__init__(scope, construct_id)
        polls = polls_for(max_polls, wait_scale)
        budget = f"{max_polls} polls of {poll_interval_seconds} s"
        if polls != max_polls:
            budget += f" (locally {polls} polls of Waits scaled x{wait_scale:g})"
        self.table = table
        key = {
            PARTITION_KEY: _s(sfn.JsonPath.string_at(SESSION_ID)),
            SORT_KEY: _s(SESSION_SORT_KEY),
        }
        self.key = key

        success = sfn.Succeed(self, "Success")
        failure = sfn.Fail(
            self,
            "Failure",
            error="SessionFailed",
            cause="The session ended FAILED; the journal item's error says why.",
        )
        timed_out = sfn.Fail(
            self,
            "TimedOut",
            error="SessionTimedOut",
            cause=f"No terminal status after {budget}.",
        )
        invalid = sfn.Fail(self, "InvalidInput", error="InvalidInput", cause=INVALID_TASK)
        duplicate = sfn.Succeed(
            self,
            "DuplicateSession",
            comment="The session already exists (a redelivered event): the agent is not run again.",
        )

        reject = self._new_session(
            "RejectInvalidInput",
            {"status": _s(FAILED), "error": _s(INVALID_TASK)},
            [
                _history_entry(INITIATED, "session initiated by workflow"),
                _history_entry(FAILED, INVALID_TASK),
            ],
        )
        reject.add_catch(duplicate, errors=[CONDITIONAL_CHECK_FAILED], result_path="$.error")
        reject.next(invalid)

        initialize = self._new_session(
            "InitializeSession",
            {"status": _s(INITIATED), "task": _s(sfn.JsonPath.string_at(TASK))},
            [_history_entry(INITIATED, "session initiated by workflow")],
        )
        initialize.add_catch(duplicate, errors=[CONDITIONAL_CHECK_FAILED], result_path="$.error")

        invoke = tasks.LambdaInvoke(
            self,
            "InvokeAgent",
            lambda_function=invoker,
            # The session id and the event's detail (its task, and extra keys for the agent);
            # the task is not copied out of the detail, so a large one is not sent twice.
            payload=sfn.TaskInput.from_object(
                {
                    "session_id": sfn.JsonPath.string_at(SESSION_ID),
                    "detail": sfn.JsonPath.object_at("$.detail"),
                }
            ),
            retry_on_service_exceptions=False,
            result_selector={"accepted.$": "$.Payload.accepted"},
            result_path="$.invocation",
        )
        invoke.add_retry(
            errors=RETRYABLE_INVOKE_ERRORS,
            interval=cdk.Duration.seconds(1),
            max_attempts=2,
            backoff_rate=2,
        )

        check = tasks.DynamoGetItem(
            self,
            "CheckStatus",
            table=table,
            key=key,
            consistent_read=True,
            result_selector={"status.$": "$.Item.status.S"},
            result_path="$.journal",
        )

        record_invoke_failure = self._mark_failed(
            "RecordInvokeFailure",
            sfn.JsonPath.format(
                "agent invocation failed: {}: {}",
                sfn.JsonPath.string_at("$.error.Error"),
                sfn.JsonPath.string_at("$.error.Cause"),
            ),
        )
        record_invoke_failure.add_catch(
            check, errors=[CONDITIONAL_CHECK_FAILED], result_path="$.error"
        )
        record_invoke_failure.next(failure)

        record_timeout = self._mark_failed(
            "RecordTimeout",
            f"timed out: the agent did not finish within {budget}",
        )
        # The agent finished at the last moment: the journal decides.
        record_timeout.add_catch(check, errors=[CONDITIONAL_CHECK_FAILED], result_path="$.error")
        record_timeout.next(timed_out)

        init_polls = sfn.Pass(
            self, "InitPollCount", result=sfn.Result.from_object({"count": 0}), result_path="$.poll"
        )
        # No answer in time is not a refusal: AgentCore may have started the agent. Not retried
        # (a second start of a running session) and not recorded FAILED (the agent would then
        # fail its BUSY write): the journal decides, as for an accepted session, and an agent
        # that never started ends as a recorded timeout.
        invoke.add_catch(init_polls, errors=UNANSWERED_INVOKE_ERRORS, result_path="$.invocation")
        invoke.add_catch(record_invoke_failure, errors=["States.ALL"], result_path="$.error")
        wait = sfn.Wait(
            self,
            "WaitForCompletion",
            time=sfn.WaitTime.duration(cdk.Duration.seconds(poll_interval_seconds)),
        )
        increment = sfn.Pass(
            self,
            "IncrementPollCount",
            parameters={"count": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.poll.count"), 1)},
            result_path="$.poll",
        )
        evaluate = (
            sfn.Choice(self, "EvaluateStatus")
            .when(sfn.Condition.string_equals("$.journal.status", COMPLETED), success)
            .when(sfn.Condition.string_equals("$.journal.status", FAILED), failure)
            .when(
                sfn.Condition.number_greater_than_equals("$.poll.count", polls),
                record_timeout,
            )
            .otherwise(increment)
        )
        increment.next(wait)
        wait.next(check)
        check.next(evaluate)

        # Rules are tried in order, so isString only runs on a task that is present.
        validate = (
            sfn.Choice(self, "ValidateInput")
            .when(sfn.Condition.not_(sfn.Condition.is_present(TASK)), reject)
            .when(sfn.Condition.not_(sfn.Condition.is_string(TASK)), reject)
            .otherwise(initialize)
        )
        initialize.next(invoke).next(init_polls).next(wait)

        self.log_group: logs.LogGroup | None = None
        if observability:
            # Vended-logs prefix: CloudWatch keeps one resource policy for all of them. Named
            # after the stack, so two stacks in one account never share it.
            self.log_group = logs.LogGroup(
                self,
                "ExecutionLogs",
                log_group_name=f"/aws/vendedlogs/states/{cdk.Stack.of(self).stack_name}-workflow",
                retention=logs.RetentionDays.THREE_MONTHS,
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(validate),
            timeout=cdk.Duration.seconds(poll_interval_seconds * max_polls + 300),
            # Every state's entry and exit (AwsSolutions-SF1), without the execution data: the
            # task text stays in the journal, not in a second store with its own retention.
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            )
            if self.log_group
            else None,
            tracing_enabled=observability or None,  # AwsSolutions-SF2, Serverless X-Ray
        )
        policy = self.state_machine.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{token_ref(invoker, 'Arn')}:*]",
            "CDK's LambdaInvoke grant: the invoker function and its own versions and aliases "
            "(the task may name a qualified ARN); no other function.",
        )
        if observability:
            acknowledge(
                policy,
                "AwsSolutions-IAM5[Resource::*]",
                "Log delivery (logs:*LogDelivery*, PutResourcePolicy, Describe*) and X-Ray "
                "(PutTraceSegments, PutTelemetryRecords, GetSampling*) have no resource-level "
                "permissions: '*' is their only form (Step Functions logging/tracing docs).",
            )

    def _new_session(
        self,
        state_id: str,
        fields: dict[str, tasks.DynamoAttributeValue],
        history: list[tasks.DynamoAttributeValue],
    ) -> tasks.DynamoPutItem:
        """A PutItem that creates the session's item, only if it does not exist yet (a
        redelivered event finds it and fails the condition)."""
        return tasks.DynamoPutItem(
            self,
            state_id,
            table=self.table,
            item={
                **self.key,
                **fields,
                **_created_now(),
                "history": tasks.DynamoAttributeValue.from_list(history),
            },
            condition_expression=NEW_ITEM_ONLY,
            result_path=sfn.JsonPath.DISCARD,
        )

    def _mark_failed(self, state_id: str, error: str) -> tasks.DynamoUpdateItem:
        """A conditional UpdateItem: INITIATED or BUSY -> FAILED, with the error and history."""
        # ":initiated", ":busy": the statuses FAILED may follow, as the contract says.
        allowed = {
            f":{status.value.lower()}": _s(status.value)
            for status in ALLOWED_PREVIOUS[SessionStatus.FAILED]
        }
        return tasks.DynamoUpdateItem(
            self,
            state_id,
            table=self.table,
            key=self.key,
            update_expression=(
                "SET #status = :failed, #error = :error, updated_at = :now, "
                "history = list_append(history, :entry)"
            ),
            condition_expression=f"#status IN ({', '.join(allowed)})",
            expression_attribute_names={"#status": "status", "#error": "error"},
            expression_attribute_values={
                ":failed": _s(FAILED),
                ":error": _s(error),
                ":now": _s(sfn.JsonPath.string_at(NOW)),
                ":entry": tasks.DynamoAttributeValue.from_list([_history_entry(FAILED, error)]),
                **allowed,
            },
            result_path=sfn.JsonPath.DISCARD,
        )
