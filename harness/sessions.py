"""Observe one session: its journal item and its Step Functions execution(s)."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from agent.journal import SessionNotFound
from contract import TERMINAL_STATUSES, journal_key
from harness import aws
from harness.polling import PollTimeout, poll
from harness.settings import Settings
from harness.stack import StackOutputs

logger = logging.getLogger(__name__)

_DESERIALIZER = TypeDeserializer()


def parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Transition:
    """One journal history entry."""

    status: str
    at: datetime
    note: str


@dataclass(frozen=True)
class Step:
    """One workflow state as it ran: entered, exited (or not yet), and how it failed."""

    name: str
    entered: datetime
    exited: datetime | None = None
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class Execution:
    arn: str
    status: str
    started: datetime
    stopped: datetime | None
    input: dict[str, Any]
    error: str | None
    cause: str | None
    steps: tuple[Step, ...] = ()

    @property
    def failed_step(self) -> Step | None:
        return next((step for step in reversed(self.steps) if step.error), None)

    @property
    def last_step(self) -> Step | None:
        return self.steps[-1] if self.steps else None


@dataclass(frozen=True)
class Session:
    """What is known about one session right now."""

    session_id: str
    item: dict[str, Any] | None
    executions: tuple[Execution, ...] = field(default=())

    @property
    def status(self) -> str | None:
        return self.item.get("status") if self.item else None

    @property
    def transitions(self) -> list[Transition]:
        history = (self.item or {}).get("history") or []
        return [Transition(h["status"], parse_time(h["at"]), h.get("note", "")) for h in history]

    @property
    def statuses(self) -> list[str]:
        return [t.status for t in self.transitions]

    @property
    def execution(self) -> Execution | None:
        """The execution that ran the session (not a duplicate delivery's), else the newest."""
        for execution in self.executions:
            if not any(step.name == "DuplicateSession" for step in execution.steps):
                return execution
        return self.executions[0] if self.executions else None

    @property
    def done(self) -> bool:
        """Journal terminal and no execution still running."""
        return self.status in TERMINAL_STATUSES and all(
            e.status != "RUNNING" for e in self.executions
        )


class SessionReader:
    """Reads sessions from the deployed stack (journal table + state machine)."""

    def __init__(self, settings: Settings, outputs: StackOutputs) -> None:
        self.settings = settings
        self.outputs = outputs
        self.dynamodb = aws.client("dynamodb", settings)
        self.sfn = aws.client("stepfunctions", settings)

    def item(self, session_id: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=self.outputs.journal_table_name,
            Key=journal_key(session_id),
            ConsistentRead=True,
        )
        raw = response.get("Item")
        return {k: _DESERIALIZER.deserialize(v) for k, v in raw.items()} if raw else None

    def execution_arns(self, session_id: str, item: dict[str, Any] | None) -> list[str]:
        """The executions known to run this session: the one its journal item names (the
        workflow writes ``execution_arn``) and, on LocalStack, the one named after the session
        (it names executions after the event id), which exists before the item does."""
        arns = [item["execution_arn"]] if item and item.get("execution_arn") else []
        if self.settings.is_local:
            named = self.outputs.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
            arn = f"{named}:{session_id}"
            if arn not in arns:
                try:
                    self.sfn.describe_execution(executionArn=arn)
                    arns.append(arn)
                except ClientError:
                    pass
        return arns

    def execution(self, arn: str, with_steps: bool = True) -> Execution:
        described = self.sfn.describe_execution(executionArn=arn)
        return Execution(
            arn=arn,
            status=described["status"],
            started=parse_time(described["startDate"]),
            stopped=parse_time(described["stopDate"]) if described.get("stopDate") else None,
            input=json.loads(described.get("input") or "{}"),
            error=described.get("error"),
            cause=described.get("cause"),
            steps=tuple(self.steps(arn)) if with_steps else (),
        )

    def steps(self, execution_arn: str) -> list[Step]:
        events: list[dict[str, Any]] = []
        for page in self.sfn.get_paginator("get_execution_history").paginate(
            executionArn=execution_arn
        ):
            events.extend(page["events"])
        return steps_from_history(events)

    def session(self, session_id: str, arns: list[str] | None = None) -> Session:
        """A snapshot; pass ``arns`` to skip the execution search on repeated polls."""
        item = self.item(session_id)
        arns = self.execution_arns(session_id, item) if arns is None else arns
        if item is None and not arns:
            raise SessionNotFound(
                f"no session {session_id}: no journal item in {self.outputs.journal_table_name} "
                "and no execution of the workflow carries it. Check the id "
                "(`python -m harness trigger` prints it)."
            )
        return Session(session_id, item, tuple(self.execution(arn) for arn in arns))

    def wait(
        self,
        session_id: str,
        *,
        timeout: float,
        interval: float = 0.2,
        on_update: Callable[[Session | None, float], None] = lambda session, elapsed: None,
    ) -> Session | None:
        """Poll until the session is done or ``timeout`` passes; returns the last snapshot.

        A session that does not exist yet (event still in flight) is waited for too.
        """
        started = time.monotonic()
        arns: list[str] = []
        snapshot: Session | None = None

        def done() -> bool:
            nonlocal arns, snapshot
            elapsed = time.monotonic() - started
            item = self.item(session_id)
            if not arns or (item is not None and item.get("execution_arn") not in arns):
                arns = self.execution_arns(session_id, item)
            if item is not None or arns:
                snapshot = Session(
                    session_id, item, tuple(self.execution(a, with_steps=False) for a in arns)
                )
            on_update(snapshot, elapsed)
            return snapshot is not None and snapshot.done

        # On timeout the caller gets the last snapshot (and says what it shows), not an error.
        with contextlib.suppress(PollTimeout):
            poll(done, timeout=timeout, interval=interval, what=f"session {session_id} to end")
        if snapshot is None:
            return None
        # Re-read with the execution history (state steps) once, at the end.
        return self.session(session_id, arns or None)


def steps_from_history(events: list[dict[str, Any]]) -> list[Step]:
    """Pair StateEntered/StateExited events into steps; attach task/execution failures."""
    steps: list[Step] = []
    open_index: dict[str, int] = {}
    for event in events:
        kind, at = event["type"], parse_time(event["timestamp"])
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            open_index[name] = len(steps)
            steps.append(Step(name=name, entered=at))
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            if name in open_index:
                i = open_index.pop(name)
                steps[i] = Step(steps[i].name, steps[i].entered, at, steps[i].error, steps[i].cause)
        elif kind.endswith("Failed") or kind.endswith("TimedOut"):
            details: Any = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            if steps and isinstance(details, dict) and details.get("error"):
                last = steps[-1]
                steps[-1] = Step(
                    last.name, last.entered, last.exited, details["error"], details.get("cause")
                )
    return steps
