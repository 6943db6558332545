"""The live page's server (in-process, a fake journal): loopback only, sessions newest first,
a session's timeline fragment that stops refreshing once the session is done, a session not
there yet waited for, the report linked."""

from __future__ import annotations

import socket
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from harness.sessions import Execution, Session, SessionNotFound, SessionSummary, Step
from harness.ui import UiServer

T0 = datetime(2026, 11, 25, 3, 0, 0, tzinfo=UTC)
OLD, NEW = "11111111-aaaa-bbbb-cccc-000000000001", "22222222-aaaa-bbbb-cccc-000000000002"


class FakeJournal:
    def __init__(self) -> None:
        self.status = {OLD: "COMPLETED", NEW: "BUSY"}

    def recent(self, limit: int = 50) -> list[SessionSummary]:
        return [
            SessionSummary(NEW, self.status[NEW], T0 + timedelta(minutes=1), "new <task>"),
            SessionSummary(OLD, self.status[OLD], T0, "old task"),
        ][:limit]

    def session(self, session_id: str) -> Session:
        if session_id not in self.status:
            raise SessionNotFound(f"no session {session_id}")
        status = self.status[session_id]
        history = [{"status": "INITIATED", "at": T0.isoformat(), "note": "initiated"}]
        history.append({"status": "BUSY", "at": (T0 + timedelta(seconds=1)).isoformat()})
        if status == "COMPLETED":
            history.append({"status": "COMPLETED", "at": (T0 + timedelta(seconds=2)).isoformat()})
        item = {"status": status, "history": history, "result": "all done"}
        execution = Execution(
            "arn:e",
            "SUCCEEDED" if status == "COMPLETED" else "RUNNING",
            T0,
            None,
            {},
            None,
            None,
            (Step("InvokeAgent", T0, T0 + timedelta(seconds=1)),),
        )
        return Session(session_id, item, (execution,))


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeJournal, UiServer]]:
    """One server for the module's page tests: stopping one waits for its poll (0.2 s)."""
    journal = FakeJournal()
    server = UiServer(journal, port=0, hint=" (restarted?)").start()
    yield journal, server
    server.stop()


@pytest.fixture
def page(served):
    journal, server = served
    journal.status = FakeJournal().status  # each test starts from the same sessions

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(server.url + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    get.journal = journal
    get.server = server
    return get


def test_it_listens_on_loopback_only(page):
    assert page.server.httpd.server_address[0] == "127.0.0.1"


def test_sessions_newest_first_with_status_and_links(page):
    status, text = page("/")
    assert status == 200
    assert text.index(NEW) < text.index(OLD)
    assert f'data-session="{NEW}" data-status="BUSY"' in text
    assert f'href="/session/{OLD}/report"' in text
    assert "new &lt;task&gt;" in text  # escaped
    assert 'data-fragment="/sessions.html"' in text


def test_a_running_session_refreshes_until_done(page):
    status, text = page(f"/session/{NEW}")
    assert status == 200
    assert "<td>InvokeAgent</td>" in text
    assert "<td>BUSY</td>" in text
    assert "<p data-final" not in text
    page.journal.status[NEW] = "COMPLETED"
    status, fragment = page(f"/session/{NEW}/timeline.html")
    assert status == 200
    assert "<p data-final" in fragment
    assert "<td>COMPLETED</td>" in fragment
    assert "all done" in fragment


def test_a_session_not_there_yet_is_waited_for(page):
    status, text = page("/session/33333333-0000-0000-0000-000000000003")
    assert status == 200
    assert "not found yet" in text
    assert "(restarted?)" in text
    assert "<p data-final" not in text


def test_the_report_is_served(page):
    status, text = page(f"/session/{OLD}/report")
    assert status == 200
    assert "<svg" in text
    assert page("/session/33333333-0000-0000-0000-000000000003/report")[0] == 404
    assert page("/nothing")[0] == 404


class SlowJournal(FakeJournal):
    """Answers the sessions list only once the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.asked, self.go = threading.Event(), threading.Event()

    def recent(self, limit: int = 50) -> list[SessionSummary]:
        self.asked.set()
        self.go.wait(10)
        return super().recent(limit)


def test_a_browser_gone_before_the_answer_is_no_error(capsys):
    # GIVEN a page request whose browser resets the connection before the answer is ready
    journal = SlowJournal()
    server = UiServer(journal, port=0).start()
    errors: list[object] = []
    done = threading.Event()
    server.httpd.handle_error = lambda request, address: errors.append(address)
    shutdown_request = server.httpd.shutdown_request

    def request_done(request):
        shutdown_request(request)
        done.set()

    server.httpd.shutdown_request = request_done
    try:
        with socket.create_connection(server.httpd.server_address[:2], timeout=10) as browser:
            browser.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert journal.asked.wait(10)
            browser.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

        # WHEN the server answers it
        journal.go.set()
        assert done.wait(10)
    finally:
        server.stop()

    # THEN that is no error: nothing handled as one, no traceback printed
    assert errors == []
    assert "Traceback" not in capsys.readouterr().err
