"""``make report`` writes the page and a PNG. The PNG is drawn by matplotlib, whose first use
on a machine lists the system's fonts with fc-list (a process): so this is a functional test.
On a machine whose matplotlib font cache did not exist yet, it failed in the unit tier."""

from __future__ import annotations

from harness.report import write_report
from tests.support.report_session import completed_session


def test_report_writes_the_page_and_a_png(tmp_path):
    page, picture = write_report(completed_session(), tmp_path)
    assert "Analysed the task: 5 words." in page.read_text()
    data = picture.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
