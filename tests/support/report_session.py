"""A completed session as the session report draws it: journal history and one execution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.sessions import Execution, Session, Step

T0 = datetime(2026, 11, 25, 3, 0, 0, tzinfo=UTC)


def completed_session() -> Session:
    def at(seconds: float) -> str:
        return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

    item = {
        "status": "COMPLETED",
        "result": "Analysed the task: 5 words.",
        "history": [
            {"status": "INITIATED", "at": at(0.05), "note": "session initiated by workflow"},
            {"status": "BUSY", "at": at(0.3), "note": "started"},
            {"status": "COMPLETED", "at": at(0.5), "note": "Analysed the task: 5 words."},
        ],
    }
    steps = (
        Step("InitializeSession", T0, T0 + timedelta(seconds=0.05)),
        Step("InvokeAgent", T0 + timedelta(seconds=0.05), T0 + timedelta(seconds=0.3)),
        Step("Success", T0 + timedelta(seconds=1.2), T0 + timedelta(seconds=1.2)),
    )
    execution = Execution("arn:e", "SUCCEEDED", T0, T0, {}, None, None, steps)
    return Session("3f2c0a1e-1111-2222-3333-444455556666", item, (execution,))
