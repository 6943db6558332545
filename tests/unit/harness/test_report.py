"""The session report: HTML with an inline SVG timeline, and a PNG (no runtime needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from harness.report import bars, write_report
from harness.sessions import Execution, Session, Step

T0 = datetime(2026, 11, 25, 3, 0, 0, tzinfo=UTC)


def _session() -> Session:
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


def test_bars_cover_each_status_until_the_next_and_each_state():
    by_label = {b.label: b for b in bars(_session())}
    assert by_label["BUSY"].start == 0.3
    assert by_label["BUSY"].end == 0.5
    assert by_label["InvokeAgent"].end - by_label["InvokeAgent"].start == 0.25
    assert by_label["COMPLETED"].end >= by_label["Success"].start


def test_report_writes_html_and_png(tmp_path):
    page, picture = write_report(_session(), tmp_path)
    text = page.read_text()
    assert "<svg" in text
    for label in ("InitializeSession", "InvokeAgent", "BUSY", "COMPLETED", "SUCCEEDED"):
        assert label in text
    assert "Analysed the task: 5 words." in text
    data = picture.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
