"""Stack discovery: the deployed stack's outputs, read from CloudFormation (no hard-coded names)."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from harness import aws
from harness.errors import HarnessError
from harness.settings import Settings
from harness.wait_scale import describe as describe_scaled_waits

# Beyond the workflow's own bound: its start, the invocation and the last poll.
SESSION_END_MARGIN_SECONDS = 30.0


class StackNotDeployed(HarnessError):
    """The stack is missing or not in a usable state."""


@dataclass(frozen=True)
class StackOutputs:
    state_machine_arn: str
    journal_table_name: str
    event_bus_name: str
    poll_interval_seconds: float
    max_polls: int
    # Where EventBridge puts events it could not deliver (absent from older deploys).
    dead_letter_queue_url: str = ""
    # The fraction of its duration a Wait state lasts in the emulator the local stage was
    # deployed for (harness/wait_scale.py); 1 on AWS and in older deploys.
    wait_scale: float = 1.0

    @classmethod
    def load(cls, settings: Settings) -> StackOutputs:
        where = settings.endpoint_url if settings.is_local else f"AWS ({settings.region})"
        deploy_command = "make deploy" if settings.is_local else "make deploy-aws"
        try:
            stacks = aws.client("cloudformation", settings).describe_stacks(
                StackName=settings.stack_name
            )["Stacks"]
        except ClientError:
            raise StackNotDeployed(
                f"stack {settings.stack_name} is not deployed on {where}: run `{deploy_command}`"
            ) from None
        except BotoCoreError as error:
            raise StackNotDeployed(
                f"cannot reach {where} ({error}). Is the local runtime up? Run `make up`."
            ) from None
        stack = stacks[0]
        if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
            raise StackNotDeployed(
                f"stack {settings.stack_name} is {stack['StackStatus']} on {where}: "
                f"run `{deploy_command}` again and read its error"
            )
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        try:
            return cls(
                state_machine_arn=outputs["StateMachineArn"],
                journal_table_name=outputs["JournalTableName"],
                event_bus_name=outputs["EventBusName"],
                poll_interval_seconds=float(outputs["PollIntervalSeconds"]),
                max_polls=int(outputs["MaxPolls"]),
                dead_letter_queue_url=outputs.get("DeadLetterQueueUrl", ""),
                wait_scale=float(outputs.get("WaitScale", 1)),
            )
        except KeyError as missing:
            raise StackNotDeployed(
                f"stack {settings.stack_name} has no output {missing}: redeploy it (`make deploy`)"
            ) from None

    @property
    def session_timeout_seconds(self) -> float:
        """How long the workflow itself waits for the agent before it records a timeout: its
        Waits, in real time (where the emulator scales them, the local stage polls more
        often, not for less time)."""
        return self.poll_interval_seconds * self.max_polls

    @property
    def session_end_timeout_seconds(self) -> float:
        """How long to wait for a session to end (watch, trigger --wait, the tests): the
        workflow's own bound, and a margin."""
        return self.session_timeout_seconds + SESSION_END_MARGIN_SECONDS

    @property
    def wait_note(self) -> str:
        """What the timeline says about the Waits when the emulator scales them, else ""."""
        if self.wait_scale == 1:
            return ""
        return describe_scaled_waits(self.wait_scale, self.poll_interval_seconds)
