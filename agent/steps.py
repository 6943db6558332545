"""The agent's own steps, journaled: each model turn and each tool call becomes an item of the
session in the journal table (``SK="EVENT#<time>#<n>"``, contract.event_sort_key), written
through Strands' hooks, so the harness can put them on the session's timeline.

A model turn records its start, duration, stop reason and the tokens the model reported; a
tool call its name, a short summary of its arguments, its duration and its result or error.
Items are small (every text is cut) and few (at most ``MAX_AGENT_STEPS`` a session, then one
"truncated" marker). Recording never fails the session: a refused write is logged and the
agent goes on. The same code runs locally and on AgentCore Runtime (the runtime's role may
PutItem on the journal table; a transaction's Put needs nothing more).

Steps that come close together are written together: a step waits at most
``FLUSH_AFTER_SECONDS`` (the live page still shows a model turn as it ends), and every step
waiting is written before the session's next status (``flush``, which the journal tool calls
first) and when the run ends (``close``). Several at once go in one TransactWriteItems, each
Put with the same condition as alone (never over another item); a scripted session's seven
steps take three writes instead of seven, a burst of sessions hundreds of requests less.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from strands.hooks import (
    AfterModelCallEvent,
    AfterToolCallEvent,
    BeforeModelCallEvent,
    BeforeToolCallEvent,
    HookProvider,
    HookRegistry,
)

from agent.journal import now_iso
from contract import MAX_AGENT_STEPS, PARTITION_KEY, SORT_KEY, event_sort_key

logger = logging.getLogger(__name__)

MAX_TEXT = 240  # characters of a result, an error or the whole argument summary
MAX_ARGUMENT = 80  # characters of one argument's value
MAX_ARGUMENTS = 8  # arguments kept in the summary
FLUSH_AFTER_SECONDS = 0.25  # the longest a step waits for others to be written with
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems


def cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def argument_summary(arguments: Any) -> dict[str, str]:
    """The tool's arguments, each value cut short (the task text can be 16000 characters)."""
    if not isinstance(arguments, dict):
        return {"input": cut(str(arguments), MAX_ARGUMENT)}
    return {
        str(name): cut(value if isinstance(value, str) else repr(value), MAX_ARGUMENT)
        for name, value in list(arguments.items())[:MAX_ARGUMENTS]
    }


def _result_text(result: Any) -> str:
    parts = []
    for item in (result or {}).get("content", []):
        if "text" in item:
            parts.append(str(item["text"]))
        elif "json" in item:
            parts.append(str(item["json"]))
    return " ".join(parts)


def _usage(agent: Any) -> dict[str, int]:
    usage = getattr(getattr(agent, "event_loop_metrics", None), "accumulated_usage", None) or {}
    return {key: int(usage.get(key) or 0) for key in ("inputTokens", "outputTokens")}


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {str(k): _attribute(v) for k, v in value.items()}}
    return {"S": str(value)}


class StepRecorder(HookProvider):
    """Writes a session's model turns and tool calls to the journal table."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        session_id: str,
        *,
        max_steps: int = MAX_AGENT_STEPS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.table_name = table_name
        self.session_id = session_id
        self.max_steps = max_steps
        self.clock = clock
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # a flush returns once every step it saw is written
        self._written = 0
        self._pending: list[dict[str, Any]] = []
        self._timer: threading.Timer | None = None
        self._closed = False
        self._turn = 0
        self._model_start: tuple[str, float, dict[str, int]] | None = None
        self._tool_starts: dict[str, tuple[str, float]] = {}

    def register_hooks(self, registry: HookRegistry, **kwargs: Any) -> None:
        registry.add_callback(BeforeModelCallEvent, self.model_started)
        registry.add_callback(AfterModelCallEvent, self.model_ended)
        registry.add_callback(BeforeToolCallEvent, self.tool_started)
        registry.add_callback(AfterToolCallEvent, self.tool_ended)

    # -- model turns --------------------------------------------------------------------------
    def model_started(self, event: BeforeModelCallEvent) -> None:
        self._model_start = (now_iso(), self.clock(), _usage(event.agent))

    def model_ended(self, event: AfterModelCallEvent) -> None:
        if self._model_start is None:
            return
        at, started, usage_before = self._model_start
        self._model_start = None
        self._turn += 1
        usage = _usage(event.agent)
        config = getattr(getattr(event.agent, "model", None), "config", None) or {}
        step: dict[str, Any] = {
            "kind": "model",
            "name": str(config.get("model_id") or "model"),
            "turn": self._turn,
            "ms": round((self.clock() - started) * 1000),
            "input_tokens": usage["inputTokens"] - usage_before["inputTokens"],
            "output_tokens": usage["outputTokens"] - usage_before["outputTokens"],
        }
        if event.stop_response is not None:
            step["stop_reason"] = str(event.stop_response.stop_reason)
        if event.exception is not None:
            error = f"{type(event.exception).__name__}: {event.exception}"
            step["error"] = cut(error, MAX_TEXT)
        self.write(at, step)

    # -- tool calls ---------------------------------------------------------------------------
    def tool_started(self, event: BeforeToolCallEvent) -> None:
        with self._lock:
            self._tool_starts[event.tool_use["toolUseId"]] = (now_iso(), self.clock())

    def tool_ended(self, event: AfterToolCallEvent) -> None:
        with self._lock:
            start = self._tool_starts.pop(event.tool_use["toolUseId"], None)
        at, started = start if start else (now_iso(), self.clock())
        result = event.result or {}
        step: dict[str, Any] = {
            "kind": "tool",
            "name": str(event.tool_use.get("name", "?")),
            "ms": round((self.clock() - started) * 1000),
            "args": argument_summary(event.tool_use.get("input")),
        }
        text = _result_text(result)
        if event.exception is not None or result.get("status") == "error":
            error = text or f"{type(event.exception).__name__}: {event.exception}"
            step["error"] = cut(error, MAX_TEXT)
        else:
            step["result"] = cut(text, MAX_TEXT)
        self.write(at, step)

    # -- the journal --------------------------------------------------------------------------
    def write(self, at: str, step: dict[str, Any]) -> None:
        """One step as one item, written with the others waiting (at most
        ``FLUSH_AFTER_SECONDS`` later; at once once closed); past ``max_steps``, one
        "truncated" marker, then nothing."""
        with self._lock:
            sequence = self._written
            if sequence > self.max_steps:
                return
            self._written += 1
            if sequence == self.max_steps:
                step = {"kind": "truncated", "name": f"more than {self.max_steps} steps"}
            self._pending.append(
                {
                    PARTITION_KEY: {"S": self.session_id},
                    SORT_KEY: {"S": event_sort_key(at, sequence)},
                    "at": {"S": at},
                    **{key: _attribute(value) for key, value in step.items()},
                }
            )
            later = not self._closed
            if later and self._timer is None:
                self._timer = threading.Timer(FLUSH_AFTER_SECONDS, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if not later:
            self.flush()

    def flush(self) -> None:
        """Write every step waiting (before a status write, so the journal never shows a
        status without the steps that led to it; a flush the timer began meanwhile is waited
        for)."""
        with self._flushing:
            with self._lock:
                items, self._pending = self._pending, []
                timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            for start in range(0, len(items), MAX_TRANSACTION_ITEMS):
                self._write_items(items[start : start + MAX_TRANSACTION_ITEMS])

    def close(self) -> None:
        """The run has ended: what waits is written now, a late step (a stuck model call's)
        at once."""
        with self._lock:
            self._closed = True
        self.flush()

    def _write_items(self, items: list[dict[str, Any]]) -> None:
        if len(items) > 1:
            try:
                self.client.transact_write_items(
                    TransactItems=[{"Put": self._put(item)} for item in items]
                )
                return
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    self._not_journaled(items, error)
                    return
                # one step refused (its key taken) cancels them all: each on its own then
            except BotoCoreError as error:
                self._not_journaled(items, error)
                return
        for item in items:
            try:
                self.client.put_item(**self._put(item))
            except (ClientError, BotoCoreError) as error:
                self._not_journaled([item], error)

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#sk)",
            "ExpressionAttributeNames": {"#sk": SORT_KEY},
        }

    def _not_journaled(self, items: list[dict[str, Any]], error: Exception) -> None:
        logger.warning(
            "session_id=<%s>, steps=<%s>, error=<%s> | agent step not journaled",
            self.session_id,
            ", ".join(item[SORT_KEY]["S"].rsplit("#", 1)[-1] for item in items),
            error,
        )
