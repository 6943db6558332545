"""Observe one session: its journal item and its Step Functions execution(s)."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from agent.journal import SessionNotFound
from contract import (
    EVENT_SORT_KEY_PREFIX,
    PARTITION_KEY,
    SESSION_SORT_KEY,
    SORT_KEY,
    TERMINAL_STATUSES,
    journal_key,
)
from harness import aws
from harness.failures import one_line
from harness.polling import PollTimeout, poll
from harness.settings import Settings
from harness.stack import StackOutputs

logger = logging.getLogger(__name__)

_DESERIALIZER = TypeDeserializer()
BATCH_GET_MAX_KEYS = 100  # DynamoDB's limit per BatchGetItem call
# While a session's journal is not terminal, `wait` reads its executions this often, not at
# every poll: the session cannot be done before its journal is, and a DescribeExecution costs
# the emulator ~3 ms of CPU and the caller ~1.5 ms (make test-integration: ~305 -> ~236).
EXECUTION_REFRESH_SECONDS = 1.0


def _plain(raw: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as Python values."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in raw.items()}


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
    kind: str = ""  # the state's type, as its history events name it: Wait, Task, Choice, ...


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
class AgentStep:
    """One model turn or tool call of the agent, as it journaled it (agent/steps.py)."""

    kind: str  # "model" | "tool" | "truncated"
    name: str  # the model id, or the tool's name
    at: datetime
    seconds: float | None
    arguments: dict[str, str] = field(default_factory=dict)  # a tool's, each value cut short
    result: str = ""
    error: str = ""
    stop_reason: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    turn: int | None = None

    @property
    def label(self) -> str:
        if self.kind == "model":
            return f"model turn {self.turn}" if self.turn else "model turn"
        if self.kind == "tool":
            return f"tool {self.name}"
        return self.name


def step_from_item(item: dict[str, Any]) -> AgentStep:
    def number(key: str) -> int | None:
        return int(item[key]) if item.get(key) is not None else None

    milliseconds = number("ms")
    return AgentStep(
        kind=str(item.get("kind", "?")),
        name=str(item.get("name", "")),
        at=parse_time(str(item["at"])),
        seconds=milliseconds / 1000 if milliseconds is not None else None,
        arguments={str(k): str(v) for k, v in (item.get("args") or {}).items()},
        result=str(item.get("result", "")),
        error=str(item.get("error", "")),
        stop_reason=str(item.get("stop_reason", "")),
        input_tokens=number("input_tokens"),
        output_tokens=number("output_tokens"),
        turn=number("turn"),
    )


@dataclass(frozen=True)
class Session:
    """What is known about one session right now."""

    session_id: str
    item: dict[str, Any] | None
    executions: tuple[Execution, ...] = field(default=())
    agent_steps: tuple[AgentStep, ...] = field(default=())
    # Said on the Wait states' rows when the emulator scaled them (StackOutputs.wait_note).
    wait_note: str = ""

    @property
    def tool_calls(self) -> list[AgentStep]:
        return [step for step in self.agent_steps if step.kind == "tool"]

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


@dataclass(frozen=True)
class SessionSummary:
    """One row of the session list."""

    session_id: str
    status: str
    started: datetime
    task: str
    error: str = ""

    @property
    def task_preview(self) -> str:
        return _preview(self.task, 60)

    @property
    def cause(self) -> str:
        """A FAILED session's one-line cause, shortened at a word for a list."""
        return _preview(one_line(self.error), 120) if self.error else ""


def _preview(text: str, limit: int) -> str:
    """``text`` on one line, cut at a space (never inside an id) when longer than ``limit``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + " …"


def summary_from_item(item: dict[str, Any]) -> SessionSummary:
    task = item.get("task")
    return SessionSummary(
        session_id=str(item[PARTITION_KEY]),
        status=str(item.get("status") or "-"),
        started=parse_time(str(item.get("start_time") or item.get("created_at") or "1970-01-01")),
        task=task if isinstance(task, str) else json.dumps(task),
        error=str(item.get("error") or ""),
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
        return _plain(raw) if raw else None

    def items(self, session_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The journal items of ``session_ids`` that exist, by session id, read consistently
        in BatchGetItem calls of up to 100 keys (one call where ``item`` makes 100)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(session_ids), BATCH_GET_MAX_KEYS):
            keys = [journal_key(i) for i in session_ids[start : start + BATCH_GET_MAX_KEYS]]
            request = {self.outputs.journal_table_name: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self.dynamodb.batch_get_item(RequestItems=request)
                for raw in response["Responses"].get(self.outputs.journal_table_name, []):
                    item = _plain(raw)
                    found[item[PARTITION_KEY]] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    def agent_steps(self, session_id: str) -> list[AgentStep]:
        """The agent's journaled steps (``SK = EVENT#...``), in the order they started."""
        items = []
        for page in self.dynamodb.get_paginator("query").paginate(
            TableName=self.outputs.journal_table_name,
            KeyConditionExpression="#pk = :session AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            ExpressionAttributeValues={
                ":session": {"S": session_id},
                ":prefix": {"S": EVENT_SORT_KEY_PREFIX},
            },
            ConsistentRead=True,
        ):
            for raw in page["Items"]:
                items.append(_plain(raw))
        return [step_from_item(item) for item in items]

    def recent(self, limit: int = 50) -> list[SessionSummary]:
        """The journal's sessions, newest first (a scan: the journal of a dev or test stack
        is small; ``limit`` bounds what is returned, not what is read)."""
        items: list[dict[str, Any]] = []
        for page in self.dynamodb.get_paginator("scan").paginate(
            TableName=self.outputs.journal_table_name,
            FilterExpression="#sk = :session",
            ExpressionAttributeNames={"#sk": SORT_KEY},
            ExpressionAttributeValues={":session": {"S": SESSION_SORT_KEY}},
        ):
            for raw in page["Items"]:
                items.append(_plain(raw))
        summaries = sorted(
            (summary_from_item(item) for item in items), key=lambda s: s.started, reverse=True
        )
        return summaries[:limit]

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
        described = tuple(self.execution(arn, with_steps=False) for arn in arns)
        return self._with_steps(session_id, item, described)

    def _with_steps(
        self, session_id: str, item: dict[str, Any] | None, executions: tuple[Execution, ...]
    ) -> Session:
        """The session of ``item`` and ``executions`` (as read), with the executions' state
        steps and the agent's steps."""
        return Session(
            session_id,
            item,
            tuple(replace(e, steps=tuple(self.steps(e.arn))) for e in executions),
            tuple(self.agent_steps(session_id)),
            wait_note=self.outputs.wait_note,
        )

    def wait(
        self,
        session_id: str,
        *,
        timeout: float,
        interval: float = 0.2,
        on_update: Callable[[Session | None, float], None] = lambda session, elapsed: None,
    ) -> Session | None:
        """Poll until the session is done or ``timeout`` passes; returns the last snapshot.

        A session that does not exist yet (event still in flight) is waited for too. Its
        executions are read at each poll once its journal is terminal, before that every
        EXECUTION_REFRESH_SECONDS (or when another one appears).
        """
        started = time.monotonic()
        arns: list[str] = []
        snapshot: Session | None = None
        executions: tuple[Execution, ...] = ()
        described_at = started

        def done() -> bool:
            nonlocal arns, snapshot, executions, described_at
            now = time.monotonic()
            elapsed = now - started
            item = self.item(session_id)
            if not arns or (item is not None and item.get("execution_arn") not in arns):
                arns = self.execution_arns(session_id, item)
            if item is not None or arns:
                terminal = (item or {}).get("status") in TERMINAL_STATUSES
                stale = now - described_at >= EXECUTION_REFRESH_SECONDS
                if terminal or stale or [e.arn for e in executions] != arns:
                    executions = tuple(self.execution(a, with_steps=False) for a in arns)
                    described_at = now
                snapshot = Session(session_id, item, executions)
            on_update(snapshot, elapsed)
            return snapshot is not None and snapshot.done

        # On timeout the caller gets the last snapshot (and says what it shows), not an error.
        with contextlib.suppress(PollTimeout):
            poll(done, timeout=timeout, interval=interval, what=f"session {session_id} to end")
        if snapshot is None:
            return None
        if snapshot.done:
            # Its last poll read the item and the executions: only the steps are left to read.
            return self._with_steps(session_id, snapshot.item, snapshot.executions)
        # Re-read it all once, at the end (its executions may have been read a second ago).
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
            steps.append(Step(name=name, entered=at, kind=kind.removesuffix("StateEntered")))
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            if name in open_index:
                i = open_index.pop(name)
                steps[i] = replace(steps[i], exited=at)
        elif kind.endswith("Failed") or kind.endswith("TimedOut"):
            details: Any = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            if steps and isinstance(details, dict) and details.get("error"):
                steps[-1] = replace(steps[-1], error=details["error"], cause=details.get("cause"))
    return steps
