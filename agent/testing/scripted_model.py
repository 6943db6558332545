"""A deterministic ``strands.models.Model``: drives the real Agent tool loop with no LLM.

It reads the conversation and plays the prompt's script: journal BUSY, analyse the task,
journal COMPLETED with a short result, then a final answer. Every decision comes from the
messages (no hidden counters), so it behaves the same on a resumed conversation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator
from typing import Any

from strands.types.content import Messages
from strands.types.event_loop import StopReason
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolResult, ToolSpec, ToolUse

from agent.models.plain import PlainConfigModel
from agent.testing.faults import Fault, InjectedFault


def _tool_results(messages: Messages) -> dict[str, ToolResult]:
    return {
        block["toolResult"]["toolUseId"]: block["toolResult"]
        for message in messages
        for block in message["content"]
        if "toolResult" in block
    }


def _tool_uses(messages: Messages) -> list[ToolUse]:
    return [
        block["toolUse"]
        for message in messages
        if message["role"] == "assistant"
        for block in message["content"]
        if "toolUse" in block
    ]


def _result_text(result: ToolResult | dict[str, Any]) -> str:
    parts = []
    for item in result.get("content", []):
        if "text" in item:
            parts.append(item["text"])
        elif "json" in item:
            parts.append(json.dumps(item["json"]))
    return " ".join(parts)


class ScriptedModel(PlainConfigModel):
    """Plays: journal(BUSY) -> analyze_text(task) -> journal(COMPLETED, result) -> answer."""

    no_structured_output = "the scripted model does not produce structured output"

    def __init__(self, fault: Fault | None = None) -> None:
        self.config: dict[str, Any] = {"model_id": "scripted", "fault": fault}

    def next_turn(self, messages: Messages) -> tuple[str, dict[str, Any] | str]:
        """("tool", {name, input}) or ("text", answer) for the conversation so far."""
        task = next(
            (
                b["text"]
                for m in messages
                if m.get("role") == "user"
                for b in m["content"]
                if "text" in b
            ),
            "",
        )
        uses, results = _tool_uses(messages), _tool_results(messages)
        fault = self.config.get("fault")
        if not uses:
            if fault is Fault.SKIP_BUSY:
                return "tool", {
                    "name": "journal",
                    "input": {"status": "COMPLETED", "note": "skipped BUSY"},
                }
            return "tool", {"name": "journal", "input": {"status": "BUSY", "note": "started"}}
        last = uses[-1]
        last_result: ToolResult | dict[str, Any] = results.get(last["toolUseId"], {})
        if last_result.get("status") == "error":
            return "text", f"Stopping: {last['name']} failed: {_result_text(last_result)}"
        if last["name"] == "journal" and last["input"].get("status") == "BUSY":
            if fault is Fault.CRASH:
                raise InjectedFault("injected fault crash: the model failed mid-session")
            return "tool", {"name": "analyze_text", "input": {"text": task}}
        if last["name"] == "analyze_text":
            counts = json.loads(_result_text(last_result) or "{}")
            result = (
                f"Analysed the task: {counts.get('words', 0)} words, "
                f"{counts.get('characters', 0)} characters (sha256 {counts.get('sha256', '?')})."
            )
            return "tool", {"name": "journal", "input": {"status": "COMPLETED", "note": result}}
        return "text", "Done: the session is recorded in the journal."

    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        kind, turn = self.next_turn(messages)
        yield {"messageStart": {"role": "assistant"}}
        if kind == "tool":
            assert isinstance(turn, dict)
            tool_use_id = f"tooluse_{uuid.uuid4().hex[:12]}"
            yield {
                "contentBlockStart": {
                    "start": {"toolUse": {"name": turn["name"], "toolUseId": tool_use_id}}
                }
            }
            yield {
                "contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(turn["input"])}}}
            }
            yield {"contentBlockStop": {}}
            stop_reason: StopReason = "tool_use"
        else:
            assert isinstance(turn, str)
            yield {"contentBlockStart": {"start": {}}}
            yield {"contentBlockDelta": {"delta": {"text": turn}}}
            yield {"contentBlockStop": {}}
            stop_reason = "end_turn"
        yield {"messageStop": {"stopReason": stop_reason}}
        yield {
            "metadata": {
                "usage": {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0},
                "metrics": {"latencyMs": 0},
            }
        }
