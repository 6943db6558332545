"""Failure text a newcomer can read: one line for the cause, the stack trace kept apart.

Errors reach the journal and the execution history as the workflow saw them: a Lambda's
error is ``{"errorMessage": ..., "errorType": ..., "stackTrace": [...]}`` pasted into a
sentence, and an agent's refusal quotes its JSON body (``{"error": "..."}``). ``explain``
turns such text into its one-line cause and the stack trace (for the report or --verbose).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_DECODER = json.JSONDecoder()
_PYTHON_TRACEBACK = "Traceback (most recent call last):"


@dataclass(frozen=True)
class Failure:
    cause: str  # one line, no stack trace
    trace: str = ""  # the stack trace, when the text carried one


def _unwrap(value: object) -> tuple[str, str] | None:
    """(message, trace) of a decoded JSON error body, or None when it is not one."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("errorMessage"), str):
        trace = value.get("stackTrace") or []
        lines = trace if isinstance(trace, list) else [str(trace)]
        message = explain(value["errorMessage"])
        return message.cause, "".join(str(line) for line in lines) + message.trace
    if isinstance(value.get("error"), str) and len(value) <= 2:
        message = explain(value["error"])
        return message.cause, message.trace
    return None


def explain(text: str | None) -> Failure:
    """The one-line cause of an error text, and its stack trace apart."""
    if not text:
        return Failure("")
    text, _, python_trace = text.partition(_PYTHON_TRACEBACK)
    traces = [_PYTHON_TRACEBACK + python_trace] if python_trace else []
    parts: list[str] = []
    rest = text
    while (start := rest.find("{")) >= 0:
        try:
            value, end = _DECODER.raw_decode(rest, start)
        except ValueError:
            parts.append(rest[: start + 1])
            rest = rest[start + 1 :]
            continue
        unwrapped = _unwrap(value)
        parts.append(rest[:start])
        if unwrapped is None:
            parts.append(rest[start:end])
        else:
            parts.append(unwrapped[0])
            if unwrapped[1]:
                traces.append(unwrapped[1])
        rest = rest[end:]
    parts.append(rest)
    cause = re.sub(r"\s+", " ", "".join(parts)).strip()
    # "AgentRefused: the agent runtime refused ..." after "agent invocation failed: " reads
    # fine; an "X: X: message" stutter from nested wrapping does not.
    cause = re.sub(r"\b(\w+): \1: ", r"\1: ", cause)
    return Failure(cause, "\n".join(t.strip("\n") for t in traces))


def one_line(text: str | None) -> str:
    return explain(text).cause
