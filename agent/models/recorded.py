"""Recorded conversations: record any model's turns to a file, replay them deterministically.

``AGENT_RECORD=<file>`` wraps whatever model AGENT_MODEL selects (bedrock, openai, scripted):
each turn appends one JSON line, ``{"turn", "request", "response"}``: what the agent asked
(its messages, the tools it offered, a digest of its system prompt) and every event the model
streamed back. The file holds the last session the agent ran (its first turn starts it anew).

``AGENT_MODEL=replay`` with ``AGENT_REPLAY=<file>`` plays such a file back through the real
tool loop: turn by turn it checks that the agent asks exactly what was recorded, then streams
the recorded answer. The tools really run (the journal really moves), so a replay is a full
session without a model. A request that differs fails the session with ReplayMismatch naming
the turn and the first difference; there is no fallback to a live model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from strands.models import Model
from strands.types.content import Messages
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolSpec

from agent.models.plain import PlainConfigModel

logger = logging.getLogger(__name__)

MAX_SHOWN = 120  # characters of a differing value in the mismatch message


class ReplayMismatch(RuntimeError):
    """The agent asked something the recording does not hold (or asked for one turn more)."""


class RecordingUnusable(ValueError):
    """The recording file is missing or not a recording."""


def request_record(
    messages: Messages,
    tool_specs: list[ToolSpec] | None,
    system_prompt: str | None,
) -> dict[str, Any]:
    """What a turn asks, in the form it is recorded and compared (plain JSON)."""
    digest = hashlib.sha256((system_prompt or "").encode()).hexdigest()[:16]
    record: dict[str, Any] = json.loads(
        json.dumps(
            {
                "system_prompt_sha256": digest,
                "tools": sorted(spec.get("name", "?") for spec in tool_specs or []),
                "messages": messages,
            },
            default=repr,
        )
    )
    return record


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def first_difference(recorded: Any, actual: Any, path: str = "") -> str | None:
    """Where ``actual`` first differs from ``recorded`` ("messages[2].content[0].text: ..."),
    or None when they are equal."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key in sorted(set(recorded) | set(actual), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                return f"{where}: recorded {_shown(recorded[key])}, missing now"
            if key not in recorded:
                return f"{where}: not recorded, now {_shown(actual[key])}"
            if found := first_difference(recorded[key], actual[key], where):
                return found
        return None
    if isinstance(recorded, list) and isinstance(actual, list):
        for index, (old, new) in enumerate(zip(recorded, actual, strict=False)):
            if found := first_difference(old, new, f"{path}[{index}]"):
                return found
        if len(recorded) != len(actual):
            return f"{path}: recorded {len(recorded)} entries, now {len(actual)}"
        return None
    if recorded != actual:
        return f"{path or 'request'}: recorded {_shown(recorded)}, now {_shown(actual)}"
    return None


class _TurnByTurn(PlainConfigModel):
    """Counts the turns of a conversation, one at a time across the agent's threads."""

    no_structured_output = "recorded conversations do not cover structured output"

    def __init__(self) -> None:
        self._turn = 0
        self._lock = threading.Lock()


class RecordingModel(_TurnByTurn):
    """Any model, its turns written to ``path`` as they happen."""

    def __init__(self, inner: Model, path: str | Path) -> None:
        self.inner = inner
        self.path = Path(path)
        inner_config = inner.get_config()
        model_id = inner_config.get("model_id") if isinstance(inner_config, dict) else None
        self.config: dict[str, Any] = {"model_id": model_id or "recorded", "records": str(path)}
        super().__init__()

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        request = request_record(messages, tool_specs, system_prompt)
        events: list[StreamEvent] = []
        async for event in self.inner.stream(messages, tool_specs, system_prompt, **kwargs):
            events.append(event)
            yield event
        with self._lock:
            self._turn += 1
            line = {"turn": self._turn, "request": request, "response": events}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("w" if self._turn == 1 else "a", encoding="utf-8") as file:
                file.write(json.dumps(line, default=repr, ensure_ascii=False) + "\n")
        logger.debug("turn=<%d>, path=<%s> | model turn recorded", self._turn, self.path)


def load_recording(path: str | Path) -> list[dict[str, Any]]:
    if not str(path):
        raise RecordingUnusable("AGENT_MODEL=replay needs AGENT_REPLAY=<a file AGENT_RECORD wrote>")
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise RecordingUnusable(f"AGENT_REPLAY={path}: cannot read it ({error.strerror})") from None
    turns = []
    for number, line in enumerate(lines, 1):
        try:
            turn = json.loads(line)
        except ValueError:
            raise RecordingUnusable(f"AGENT_REPLAY={path}: line {number} is not JSON") from None
        if not isinstance(turn, dict) or not {"request", "response"} <= set(turn):
            raise RecordingUnusable(f"AGENT_REPLAY={path}: line {number} is not a recorded turn")
        turns.append(turn)
    if not turns:
        raise RecordingUnusable(f"AGENT_REPLAY={path}: the recording is empty")
    return turns


class ReplayModel(_TurnByTurn):
    """Plays a recording back; every request must be the recorded one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.turns = load_recording(path)
        self.config: dict[str, Any] = {"model_id": "replay", "replays": str(path)}
        super().__init__()

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        with self._lock:
            self._turn += 1
            turn = self._turn
        if turn > len(self.turns):
            raise ReplayMismatch(
                f"replay of {self.path.name}: turn {turn} was not recorded (the recording has "
                f"{len(self.turns)} turns): the agent asked the model once more than it did"
            )
        recorded = self.turns[turn - 1]
        actual = request_record(messages, tool_specs, system_prompt)
        if difference := first_difference(recorded["request"], actual):
            raise ReplayMismatch(
                f"replay of {self.path.name}: turn {turn} does not match the recording: "
                f"{difference}"
            )
        for event in recorded["response"]:
            yield event
