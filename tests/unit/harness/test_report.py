"""The session report's HTML page and its inline SVG timeline (the PNG, which matplotlib
draws with the machine's fonts, is tests/functional/harness/test_report.py's)."""

from __future__ import annotations

from harness.report import bars, html_page
from tests.support.report_session import completed_session


def test_bars_cover_each_status_until_the_next_and_each_state():
    by_label = {b.label: b for b in bars(completed_session())}
    assert by_label["BUSY"].start == 0.3
    assert by_label["BUSY"].end == 0.5
    assert by_label["InvokeAgent"].end - by_label["InvokeAgent"].start == 0.25
    assert by_label["COMPLETED"].end >= by_label["Success"].start


def test_the_page_shows_each_state_status_and_the_result():
    text = html_page(completed_session())
    assert "<svg" in text
    for label in ("InitializeSession", "InvokeAgent", "BUSY", "COMPLETED", "SUCCEEDED"):
        assert label in text
    assert "Analysed the task: 5 words." in text
