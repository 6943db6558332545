"""A session's timeline as a picture: a self-contained HTML page (inline SVG) and a PNG."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from contract import SessionStatus
from harness.failures import explain
from harness.sessions import Session
from harness.timeline import TimelineRow, timeline_rows

COLORS: dict[str, str] = {
    SessionStatus.INITIATED: "#4aa3df",
    SessionStatus.BUSY: "#f0ad4e",
    SessionStatus.COMPLETED: "#5cb85c",
    SessionStatus.FAILED: "#d9534f",
    "state": "#8e8cd8",
    "failed_state": "#d9534f",
    "model": "#5a9bd4",
    "tool": "#7cb77c",
}
ROW_HEIGHT, LABEL_WIDTH, CHART_WIDTH = 26, 190, 720


@dataclass(frozen=True)
class Bar:
    lane: str  # "journal" | "workflow" | "agent"
    label: str
    start: float  # seconds from the first event
    end: float
    color: str
    detail: str


def bars(session: Session) -> list[Bar]:
    """One bar per journal status (until the next one) and per workflow state."""
    rows = timeline_rows(session)
    if not rows:
        return []
    origin = rows[0].at
    last = max([(r.at - origin).total_seconds() + (r.seconds or 0) for r in rows] + [0.001])
    result = []
    for row in rows:
        start = (row.at - origin).total_seconds()
        if row.source == "journal":
            end = start + row.seconds if row.seconds is not None else max(last, start + 0.05)
            color = COLORS.get(row.label, COLORS["state"])
        elif row.source == "agent":
            end = start + (row.seconds or 0.0)
            kind = "model" if row.label.startswith("model") else "tool"
            color = COLORS["failed_state"] if row.failed else COLORS[kind]
        else:
            end = start + (row.seconds or 0.0)
            color = COLORS["failed_state"] if row.failed else COLORS["state"]
        result.append(Bar(row.source, row.label, start, max(end, start + 0.002), color, row.detail))
    return result


def svg(session: Session) -> str:
    items = bars(session)
    total = max((b.end for b in items), default=1.0) or 1.0
    scale = CHART_WIDTH / total
    height = ROW_HEIGHT * (len(items) + 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH + CHART_WIDTH + 120}" '
        f'height="{height}" font-family="sans-serif" font-size="12">'
    ]
    for index, bar in enumerate(items):
        y = ROW_HEIGHT * (index + 1)
        x = LABEL_WIDTH + bar.start * scale
        width = max((bar.end - bar.start) * scale, 2)
        label = f"{bar.lane}: {bar.label}"
        parts.append(f'<text x="4" y="{y + 16}">{html.escape(label)}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 4}" width="{width:.1f}" height="{ROW_HEIGHT - 8}" '
            f'fill="{bar.color}"><title>{html.escape(bar.detail or bar.label)}</title></rect>'
        )
        parts.append(
            f'<text x="{x + width + 4:.1f}" y="{y + 16}" fill="#555">'
            f"{bar.end - bar.start:.3f}s</text>"
        )
    axis_y = ROW_HEIGHT * (len(items) + 1) + 14
    parts.append(f'<text x="{LABEL_WIDTH}" y="{axis_y}" fill="#555">0 s</text>')
    parts.append(
        f'<text x="{LABEL_WIDTH + CHART_WIDTH - 40}" y="{axis_y}" fill="#555">{total:.2f} s</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _detail_cell(row: TimelineRow, origin: float) -> str:
    """A row's one-line detail; the polls of a polling row and a failure's full text (its
    stack trace) behind a <details> the reader opens."""
    text = html.escape(row.detail)
    if row.polls:
        polls = "".join(
            f"<tr><td>{poll.at.timestamp() - origin:.3f}s</td><td>{html.escape(poll.label)}</td>"
            f"<td>{'' if poll.seconds is None else f'{poll.seconds:.3f}s'}</td></tr>"
            for poll in row.polls
        )
        return (
            f'<details class="polls" data-key="{row.at.timestamp()}"><summary>{text}</summary>'
            f"<table>{polls}</table></details>"
        )
    if row.trace:
        failure = explain(row.trace)
        full = html.escape(failure.cause + ("\n\n" + failure.trace if failure.trace else ""))
        return (
            f'<details class="trace" data-key="{row.at.timestamp()}"><summary>{text}</summary>'
            f"<pre>{full}</pre></details>"
        )
    return text


def table_rows(session: Session) -> str:
    """The timeline's rows as HTML <tr> elements (the report's table, the live page's)."""
    timeline = timeline_rows(session)
    if not timeline:
        return ""
    origin = timeline[0].at.timestamp()
    return "\n".join(
        f'<tr class="{row.source}{" failed" if row.failed else ""}">'
        f"<td>{row.at.timestamp() - origin:.3f}s</td>"
        f"<td>{row.source}</td><td>{html.escape(row.label)}</td>"
        f"<td>{'' if row.seconds is None else f'{row.seconds:.3f}s'}</td>"
        f"<td>{_detail_cell(row, origin)}</td></tr>"
        for row in timeline
    )


def outcome_text(session: Session) -> str:
    item = session.item or {}
    return str(item.get("result") or explain(str(item.get("error") or "")).cause)


def html_page(session: Session) -> str:
    execution = session.execution
    outcome = outcome_text(session)
    rows = table_rows(session)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Session {html.escape(session.session_id)}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 10px;text-align:left}}
.status{{font-weight:bold}}tr.agent td{{color:#2f5d8a}}tr.failed td{{color:#b52b27}}
pre{{white-space:pre-wrap}}summary{{cursor:pointer}}</style></head>
<body>
<h1>Session {html.escape(session.session_id)}</h1>
<p class="status">journal: {html.escape(session.status or "-")} &middot;
execution: {html.escape(execution.status if execution else "none")}</p>
<p>{html.escape(str(outcome))}</p>
{svg(session)}
<table><tr><th>+time</th><th>source</th><th>state / status</th><th>took</th><th>detail</th></tr>
{rows}
</table>
</body></html>
"""


def png(session: Session, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = bars(session)
    figure, axes = plt.subplots(figsize=(10, 0.4 * len(items) + 1.2))
    for index, bar in enumerate(items):
        axes.barh(index, bar.end - bar.start, left=bar.start, color=bar.color, height=0.6)
    axes.set_yticks(range(len(items)), [f"{b.lane}: {b.label}" for b in items])
    axes.invert_yaxis()
    axes.set_xlabel("seconds since the session started")
    axes.set_title(f"Session {session.session_id}: {session.status or '-'}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_report(session: Session, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / f"session-{session.session_id}.html"
    picture = page.with_suffix(".png")
    page.write_text(html_page(session))
    png(session, picture)
    return page, picture
