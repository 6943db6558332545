"""Readable timelines of a session: journal transitions and workflow states, on one clock."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from contract import SessionStatus
from harness.failures import explain
from harness.sessions import AgentStep, Session, Step

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

# rich is imported by the functions that render for the command line, not here: the rows are
# also what the tests and the live page read, and rich's import costs ~0.05 CPU-s (each
# end-to-end xdist worker imported it to collect the tier).

STATUS_STYLE: dict[str, str] = {
    SessionStatus.INITIATED: "cyan",
    SessionStatus.BUSY: "yellow",
    SessionStatus.COMPLETED: "green",
    SessionStatus.FAILED: "red",
}


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    source: str  # "journal" | "workflow" | "agent"
    label: str
    seconds: float | None
    detail: str  # one line: a failure's cause without its stack trace
    failed: bool = False
    trace: str = ""  # the full error text (stack trace included), for the report / --verbose
    # A collapsed polling loop: the rows it stands for (the report expands them).
    polls: tuple[TimelineRow, ...] = field(default=())


POLLING_LABEL = "polling"


def _step_row(step: Step, journal_has_cause: bool, wait_note: str = "") -> TimelineRow:
    failure = explain(step.cause)
    if not step.error:
        # A Wait the emulator shortened says so, and by how much (harness/wait_scale.py).
        detail = wait_note if step.kind == "Wait" else ""
    elif journal_has_cause or not failure.cause:
        # The journal's FAILED row carries the cause: say it once, there.
        detail = step.error
    else:
        detail = f"{step.error}: {failure.cause}"
    return TimelineRow(
        at=step.entered,
        source="workflow",
        label=step.name,
        seconds=(step.exited - step.entered).total_seconds() if step.exited else None,
        detail=detail,
        failed=bool(step.error),
        trace=f"{step.error}: {step.cause}" if step.error and step.cause else "",
    )


def agent_step_detail(step: AgentStep) -> str:
    """One line: a model turn's stop reason and tokens; a tool call's arguments and outcome."""
    if step.kind == "model":
        parts = [step.stop_reason or "no stop reason"]
        if step.input_tokens or step.output_tokens:
            parts.append(f"{step.input_tokens or 0} in / {step.output_tokens or 0} out tokens")
        if step.name:
            parts.append(step.name)
        text = ", ".join(parts)
    elif step.kind == "tool":
        arguments = " ".join(f"{key}={value}" for key, value in step.arguments.items())
        text = f"({arguments})" if arguments else "()"
        text += f" -> {step.result}" if not step.error else ""
    else:
        text = "later steps were not journaled (the per-session bound)"
    return f"{text} -> error: {step.error}" if step.error else text


def _agent_row(step: AgentStep) -> TimelineRow:
    return TimelineRow(
        at=step.at,
        source="agent",
        label=step.label,
        seconds=step.seconds,
        detail=agent_step_detail(step),
        failed=bool(step.error),
    )


def _collapse_polling(rows: list[TimelineRow], wait_note: str = "") -> list[TimelineRow]:
    """Runs of repeated states (the WaitForCompletion -> CheckStatus loop) as one row:
    "polled N times every S s", and how the emulator scaled the loop's Waits (``wait_note``).
    A failed state ends a run and keeps its own row."""
    repeated = {name for name, count in Counter(r.label for r in rows).items() if count > 1}
    result: list[TimelineRow] = []
    run: list[TimelineRow] = []

    def flush() -> None:
        first = run[0].label if run else ""
        entries = [r.at for r in run if r.label == first]
        if len(entries) < 2:
            result.extend(run)
        else:
            gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(entries)]
            ends = [r.at.timestamp() + (r.seconds or 0.0) for r in run]
            loop = " -> ".join(dict.fromkeys(r.label for r in run))
            detail = f"polled {len(entries)} times every {statistics.median(gaps):.2g} s ({loop})"
            if wait_note and any(r.detail == wait_note for r in run):
                detail += f"; {wait_note}"
            result.append(
                TimelineRow(
                    at=run[0].at,
                    source="workflow",
                    label=POLLING_LABEL,
                    seconds=max(ends) - run[0].at.timestamp(),
                    detail=detail,
                    polls=tuple(run),
                )
            )
        run.clear()

    for row in rows:
        if row.label in repeated and not row.failed:
            run.append(row)
        else:
            flush()
            result.append(row)
    flush()
    return result


def timeline_rows(session: Session, *, collapse: bool = True) -> list[TimelineRow]:
    """Every journal transition, workflow state and agent step (model turn, tool call),
    ordered by time; the polling loop is one row unless ``collapse`` is False. A failure's
    cause is on one row, in one line."""
    rows: list[TimelineRow] = []
    transitions = session.transitions
    journal_has_cause = False
    for index, transition in enumerate(transitions):
        following = transitions[index + 1].at if index + 1 < len(transitions) else None
        failure = explain(transition.note)
        failed = transition.status == SessionStatus.FAILED
        journal_has_cause |= failed and bool(failure.cause)
        rows.append(
            TimelineRow(
                at=transition.at,
                source="journal",
                label=transition.status,
                seconds=(following - transition.at).total_seconds() if following else None,
                detail=failure.cause,
                failed=failed,
                trace=transition.note if failure.trace else "",
            )
        )
    execution = session.execution
    note = session.wait_note
    steps = [_step_row(s, journal_has_cause, note) for s in (execution.steps if execution else ())]
    rows += _collapse_polling(steps, note) if collapse else steps
    rows += [_agent_row(step) for step in session.agent_steps]
    order = {"workflow": 0, "journal": 1, "agent": 2}
    return sorted(rows, key=lambda row: (row.at, order.get(row.source, 3)))


def full_errors(session: Session) -> list[str]:
    """The full error texts (stack traces included) behind the timeline's one-line causes."""
    texts = []
    for row in timeline_rows(session):
        if row.trace:
            failure = explain(row.trace)
            texts.append(
                f"{row.source} {row.label}: {failure.cause}"
                + (f"\n{failure.trace}" if failure.trace else "")
            )
    return texts


def timeline(session: Session, console: Console) -> RenderableType:
    """The timeline as a table, or as plain lines where the table would not fit: cells
    never fold an id, an ARN or a path in the middle."""
    from rich.console import Group
    from rich.text import Text

    rows = timeline_rows(session)
    title = Text(_title(session), style="bold")
    if _table_width(rows) <= console.width:
        return Group(title, timeline_table(session, rows))
    start = rows[0].at if rows else None
    lines: list[RenderableType] = [title]
    for row in rows:
        offset = (row.at - start).total_seconds() if start else 0.0
        took = f" ({row.seconds:.3f}s)" if row.seconds is not None else ""
        line = Text(f"{offset:7.3f}s {row.source} ")
        line.append(row.label, style=STATUS_STYLE.get(row.label, "red" if row.failed else ""))
        line.append(took, style="dim")
        if row.detail:
            line.append(f"  {row.detail}", style="red" if row.failed else "dim")
        lines.append(line)
    return Group(*lines)


def _title(session: Session) -> str:
    execution = session.execution
    title = f"Session {session.session_id}: journal {session.status or '-'}"
    if execution:
        title += f", execution {execution.status}"
    return title


def _longest_word(rows: list[TimelineRow]) -> int:
    return max((len(word) for row in rows for word in row.detail.split()), default=0)


def _table_width(rows: list[TimelineRow]) -> int:
    """The narrowest the table can be without folding a word: its fixed columns at their
    widest, the detail column at its longest word, and the borders."""
    fixed = [
        9,  # "+time": "  123.456s"
        max([len("source"), *(len(r.source) for r in rows)]),
        max([len("state / status"), *(len(r.label) for r in rows)]),
        8,  # "took"
        max(_longest_word(rows), 20),
    ]
    return sum(fixed) + 3 * len(fixed) + 1


def timeline_table(session: Session, rows: list[TimelineRow] | None = None) -> Table:
    from rich.table import Table
    from rich.text import Text

    rows = timeline_rows(session) if rows is None else rows
    start = rows[0].at if rows else None
    table = Table(expand=False)
    table.add_column("+time", justify="right", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("state / status", no_wrap=True)
    table.add_column("took", justify="right", no_wrap=True)
    # Wrapped at spaces only: the column is at least as wide as its longest word (an ARN).
    longest = _longest_word(rows)
    table.add_column("detail", min_width=max(longest, 20))
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


def progress_line(session: Session | None, elapsed: float, hint: str = "") -> Text:
    """One line for the live view while a session runs (``hint``: why it may not appear)."""
    from rich.text import Text

    if session is None:
        return Text(f"waiting for the session to appear... {elapsed:5.1f}s.{hint}", style="dim")
    line = Text(f"{elapsed:5.1f}s  journal: ")
    statuses = session.statuses or ["-"]
    for index, status in enumerate(statuses):
        if index:
            line.append(" -> ", style="dim")
        line.append(status, style=STATUS_STYLE.get(status, ""))
    if session.execution:
        line.append(f"   execution: {session.execution.status}")
    return line
