"""`make ui`: a live page of the sessions, served on loopback only (stdlib http.server).

Server-side rendered HTML and a few lines of inline JavaScript that re-fetch a fragment
every second; no build toolchain, no dependency. Pages:

- ``/``: the sessions, newest first, with their status;
- ``/session/<id>``: one session's timeline (the report's rows), updating while it runs;
- ``/session/<id>/report``: the HTML report of ``make report`` (timeline picture included);
- ``/sessions.html``, ``/session/<id>/timeline.html``: the fragments the pages re-fetch.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from agent.journal import SessionNotFound
from contract import TERMINAL_STATUSES
from harness.report import html_page, outcome_text, table_rows
from harness.sessions import Session, SessionSummary

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8077
REFRESH_MS = 1000
_SESSION_PATH = re.compile(r"^/session/([A-Za-z0-9._:-]{1,128})(/report|/timeline\.html)?$")
STATUS_COLORS = {
    "INITIATED": "#4aa3df",
    "BUSY": "#f0ad4e",
    "COMPLETED": "#3c9a3c",
    "FAILED": "#d9534f",
}


class Sessions(Protocol):
    """What the page reads: the session list and one session (a SessionReader)."""

    def recent(self, limit: int = 50) -> list[SessionSummary]: ...

    def session(self, session_id: str) -> Session: ...


STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}a{color:#2a6db0}
table{border-collapse:collapse}td,th{padding:3px 10px;text-align:left;vertical-align:top}
th{border-bottom:1px solid #ccc}tr:nth-child(even){background:#f6f6f6}
.status{font-weight:bold}.id{font-family:ui-monospace,monospace}
tr.agent td{color:#2f5d8a}tr.failed td{color:#b52b27}
pre{white-space:pre-wrap}summary{cursor:pointer}
.live{color:#777;font-size:.9em}.cause{color:#b52b27;font-size:.9em}
"""

SCRIPT = """
<script>
(function () {
  var target = document.getElementById("live");
  var url = target.dataset.fragment;
  function refresh() {
    fetch(url, {cache: "no-store"}).then(function (response) {
      return response.ok ? response.text() : Promise.reject(response.status);
    }).then(function (text) {
      var open = Array.prototype.map.call(
        target.querySelectorAll("details[open]"), function (d) { return d.dataset.key; });
      target.innerHTML = text;
      open.forEach(function (key) {
        var d = target.querySelector('details[data-key="' + key + '"]');
        if (d) { d.open = true; }
      });
      if (!target.querySelector("[data-final]")) { setTimeout(refresh, REFRESH); }
    }).catch(function () { setTimeout(refresh, 3 * REFRESH); });
  }
  setTimeout(refresh, REFRESH);
})();
</script>
""".replace("REFRESH", str(REFRESH_MS))


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n{SCRIPT}</body></html>\n"
    )


def _status(status: str) -> str:
    color = STATUS_COLORS.get(status, "#555")
    return f'<span class="status" style="color:{color}">{html.escape(status)}</span>'


def sessions_fragment(sessions: list[SessionSummary]) -> str:
    if not sessions:
        return '<p id="empty">No sessions yet. Start one: <code>make trigger-workflow</code>.</p>'
    rows = "\n".join(
        f'<tr data-session="{html.escape(s.session_id)}" data-status="{html.escape(s.status)}">'
        f"<td>{s.started.astimezone():%Y-%m-%d %H:%M:%S}</td>"
        f'<td class="id"><a href="/session/{html.escape(s.session_id)}">'
        f"{html.escape(s.session_id)}</a></td>"
        f"<td>{_status(s.status)}</td>"
        f"<td>{html.escape(s.task_preview)}"
        f"{f'<br><span class=cause>{html.escape(s.cause)}</span>' if s.cause else ''}</td>"
        f'<td><a href="/session/{html.escape(s.session_id)}/report">report</a></td></tr>'
        for s in sessions
    )
    return (
        '<table id="sessions"><tr><th>started</th><th>session</th><th>status</th>'
        f"<th>task / cause</th><th></th></tr>\n{rows}\n</table>"
    )


def sessions_page(sessions: list[SessionSummary]) -> str:
    body = (
        "<h1>Sessions, newest first</h1>\n"
        '<p class="live">updates every second &middot; '
        "<code>make trigger-workflow</code> starts a session</p>\n"
        f'<div id="live" data-fragment="/sessions.html">{sessions_fragment(sessions)}</div>'
    )
    return _page("Sessions", body)


def timeline_fragment(session: Session) -> str:
    """The session's status line and timeline rows; ``data-final`` stops the refresh once
    the session is done."""
    execution = session.execution
    done = session.done
    outcome = outcome_text(session) if session.status in TERMINAL_STATUSES else ""
    return (
        f'<p {"data-final " if done else ""}id="summary">journal: '
        f'<span id="status">{_status(session.status or "-")}</span> &middot; execution: '
        f"{html.escape(execution.status if execution else 'not started')}"
        f"{'' if done else ' &middot; <span class=live>running, updating live</span>'}</p>\n"
        f'<p id="outcome">{html.escape(outcome)}</p>\n'
        '<table id="timeline"><tr><th>+time</th><th>source</th><th>state / status</th>'
        f"<th>took</th><th>detail</th></tr>\n{table_rows(session)}\n</table>"
    )


def waiting_fragment(session_id: str, message: str) -> str:
    """A session the journal does not know (yet: an event in flight, or never: a typo, a
    restarted runtime); the page keeps looking."""
    return (
        '<p id="summary">journal: <span id="status">not found yet</span> &middot; '
        '<span class="live">looking again every second</span></p>\n'
        f'<p id="outcome">{html.escape(message)}</p>'
    )


def session_page(session: Session | None, session_id: str = "", message: str = "") -> str:
    sid = html.escape(session.session_id if session else session_id)
    fragment = timeline_fragment(session) if session else waiting_fragment(sid, message)
    body = (
        f'<p><a href="/">&larr; all sessions</a></p>\n<h1>Session <span class="id">{sid}</span>'
        f'</h1>\n<p><a id="report" href="/session/{sid}/report">HTML report</a> '
        f"(with the timeline picture; <code>make report SESSION={sid}</code> writes it to "
        "reports/)</p>\n"
        f'<div id="live" data-fragment="/session/{sid}/timeline.html">{fragment}</div>'
    )
    return _page(f"Session {sid}", body)


def not_found_page(message: str) -> str:
    return _page(
        "Unknown session",
        f'<p><a href="/">&larr; all sessions</a></p><h1>Unknown session</h1>'
        f"<p>{html.escape(message)}</p>",
    )


def make_handler(sessions: Sessions, hint: str = "") -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "harness-ui"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path == "/":
                    self._send(sessions_page(sessions.recent()))
                elif path == "/sessions.html":
                    self._send(sessions_fragment(sessions.recent()))
                elif match := _SESSION_PATH.match(path):
                    self._session(match.group(1), match.group(2))
                else:
                    self._send(not_found_page(f"no page {path}"), HTTPStatus.NOT_FOUND)
            except SessionNotFound as error:
                self._send(not_found_page(f"{error}{hint}"), HTTPStatus.NOT_FOUND)
            except Exception as error:  # a page, not a dropped connection
                logger.exception("path=<%s> | page failed", path)
                self._send(
                    _page("Error", f"<h1>Error</h1><pre>{html.escape(repr(error))}</pre>"),
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                )

        def _session(self, session_id: str, part: str | None) -> None:
            try:
                session = sessions.session(session_id)
            except SessionNotFound as error:
                if part == "/report":
                    raise
                message = f"{error}{hint}"
                self._send(
                    session_page(None, session_id, message)
                    if part is None
                    else waiting_fragment(session_id, message)
                )
                return
            render: Callable[[Session], str] = {
                None: session_page,
                "/report": html_page,
                "/timeline.html": timeline_fragment,
            }[part]
            self._send(render(session))

        def _send(self, text: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            data = text.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except ConnectionError:  # the browser went away first (a closed tab, a reload)
                logger.debug("path=<%s> | the client left before the answer", self.path)
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("ui | %s", format % args)

    return Handler


class UiServer:
    """The page's HTTP server on 127.0.0.1 (never another interface); port 0 picks one."""

    def __init__(self, sessions: Sessions, port: int = DEFAULT_PORT, hint: str = "") -> None:
        self.httpd = ThreadingHTTPServer((LOOPBACK, port), make_handler(sessions, hint))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.httpd.server_address[1]}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> UiServer:
        self._thread = threading.Thread(target=self.serve_forever, name="ui", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(5)
