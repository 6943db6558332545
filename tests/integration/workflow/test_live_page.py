"""`make ui` in a real browser (issue 17): headless Chromium from Debian's packages opens the
live page, a session is triggered, its timeline updates in place (no reload) until COMPLETED,
the sessions list shows it first, the report link works. Screenshots go to reports/.

Chromium is installed when missing (apt-get, as root; once). Where it cannot be installed
the test is skipped with the reason (pytest -ra prints it); with CI=true it fails instead."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request

import pytest

from harness.browser import BrowserUnavailable, Chromium, ensure_chromium
from harness.settings import REPO_ROOT
from tests.support.helpers import free_port, wait_for

REPORTS = REPO_ROOT / "reports"


@pytest.fixture(scope="module")
def chromium(request):
    try:
        executable = ensure_chromium(report=print)
    except BrowserUnavailable as error:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true, and Chromium cannot be installed: {error}")
        pytest.skip(f"Chromium cannot be installed here: {error}")
    browser = Chromium(executable)
    yield browser
    # Chromium's own temporary files went into its profile (not the system's folder) ...
    assert sorted(p.name for p in (browser.profile / "tmp").iterdir())
    browser.close()
    assert not browser.profile.exists()  # ... which goes with it


@pytest.fixture(scope="module")
def live_page(deployed_stack):
    """`make ui` on a free port, stopped (its process group: make and the harness) after."""
    port = free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "ui", f"UI_PORT={port}"],
        cwd=REPO_ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: urllib.request.urlopen(url, timeout=2).status == 200, 120, url)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
        assert "live page: http://127.0.0.1:" in output, output
        assert "live page stopped" in output, output
        assert "Traceback" not in output, output


@pytest.mark.exclusive  # the newest session on the page must be its own
def test_a_session_completes_live_on_the_page(chromium, live_page, trigger):
    # GIVEN the sessions page is open
    chromium.goto(live_page + "/")
    assert chromium.evaluate("document.querySelector('h1').textContent") == (
        "Sessions, newest first"
    )

    # WHEN a session is triggered and its page opened at once (before it has finished)
    session_id = trigger("Summarise the quarterly cost report, watched live")
    chromium.goto(f"{live_page}/session/{session_id}")
    chromium.evaluate("window.openedOnce = true")

    # THEN the same page (no reload) shows it COMPLETED, with its rows
    chromium.wait_for(
        "document.getElementById('status').textContent.trim() === 'COMPLETED'", timeout=90
    )
    assert chromium.evaluate("window.openedOnce === true"), "the page reloaded"
    chromium.wait_for("document.querySelector('#summary[data-final]') !== null", timeout=10)
    rows = chromium.evaluate(
        "Array.from(document.querySelectorAll('#timeline > tbody > tr')).slice(1)"
        ".map(r => [r.cells[1].textContent, r.cells[2].textContent])"
    )
    journal = [label for source, label in rows if source == "journal"]
    workflow = [label for source, label in rows if source == "workflow"]
    assert journal == ["INITIATED", "BUSY", "COMPLETED"], rows
    assert {"InitializeSession", "InvokeAgent", "Success"} <= set(workflow), rows
    agent = [label for source, label in rows if source == "agent"]
    assert agent[:2] == ["model turn 1", "tool journal"], rows
    chromium.screenshot(REPORTS / "live-page-session.png")

    # AND the sessions list shows it first, COMPLETED
    chromium.goto(live_page + "/")
    first = chromium.wait_for(
        "(r => r && r.dataset.status === 'COMPLETED' && r.dataset.session)"
        "(document.querySelector('#sessions tr[data-session]'))",
        timeout=10,
    )
    assert first == session_id
    chromium.screenshot(REPORTS / "live-page-sessions.png")

    # AND its report link opens the HTML report with the timeline picture
    chromium.goto(f"{live_page}/session/{session_id}")
    chromium.goto(chromium.evaluate("document.getElementById('report').href"))
    assert chromium.evaluate("document.querySelector('svg') !== null")
    assert (REPORTS / "live-page-session.png").stat().st_size > 10_000
