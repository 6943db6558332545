"""Readable timelines of a session: journal transitions and workflow states, on one clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.table import Table
from rich.text import Text

from contract import SessionStatus
from harness.sessions import Session

STATUS_STYLE: dict[str, str] = {
    SessionStatus.INITIATED: "cyan",
    SessionStatus.BUSY: "yellow",
    SessionStatus.COMPLETED: "green",
    SessionStatus.FAILED: "red",
}


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    source: str  # "journal" | "workflow"
    label: str
    seconds: float | None
    detail: str
    failed: bool = False


def timeline_rows(session: Session) -> list[TimelineRow]:
    """Every journal transition and workflow state, ordered by time."""
    rows: list[TimelineRow] = []
    transitions = session.transitions
    for index, transition in enumerate(transitions):
        following = transitions[index + 1].at if index + 1 < len(transitions) else None
        rows.append(
            TimelineRow(
                at=transition.at,
                source="journal",
                label=transition.status,
                seconds=(following - transition.at).total_seconds() if following else None,
                detail=transition.note,
                failed=transition.status == SessionStatus.FAILED,
            )
        )
    execution = session.execution
    for step in execution.steps if execution else ():
        rows.append(
            TimelineRow(
                at=step.entered,
                source="workflow",
                label=step.name,
                seconds=(step.exited - step.entered).total_seconds() if step.exited else None,
                detail=f"{step.error}: {step.cause}" if step.error else "",
                failed=bool(step.error),
            )
        )
    return sorted(rows, key=lambda row: (row.at, row.source != "workflow"))


def timeline_table(session: Session) -> Table:
    rows = timeline_rows(session)
    start = rows[0].at if rows else None
    execution = session.execution
    title = f"Session {session.session_id}: journal {session.status or '-'}"
    if execution:
        title += f", execution {execution.status}"
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("+time", justify="right")
    table.add_column("source")
    table.add_column("state / status")
    table.add_column("took", justify="right")
    table.add_column("detail", overflow="fold", max_width=70)
    for row in rows:
        offset = (row.at - start).total_seconds() if start else 0.0
        style = STATUS_STYLE.get(row.label, "red" if row.failed else "")
        table.add_row(
            f"{offset:7.3f}s",
            row.source,
            Text(row.label, style=style),
            f"{row.seconds:.3f}s" if row.seconds is not None else "",
            Text(row.detail, style="red" if row.failed else "dim"),
        )
    return table


def progress_line(session: Session | None, elapsed: float) -> Text:
    """One line for the live view while a session runs."""
    if session is None:
        return Text(f"waiting for the session to appear... {elapsed:5.1f}s", style="dim")
    line = Text(f"{elapsed:5.1f}s  journal: ")
    statuses = session.statuses or ["-"]
    for index, status in enumerate(statuses):
        if index:
            line.append(" -> ", style="dim")
        line.append(status, style=STATUS_STYLE.get(status, ""))
    if session.execution:
        line.append(f"   execution: {session.execution.status}")
    return line
