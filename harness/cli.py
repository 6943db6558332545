"""``python -m harness``: the command line people use (prints for people, with rich)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from agent.environment import SettingError, exit_on
from agent.logs import configure_logging
from contract import EVENT_DETAIL_TYPE, EVENT_SOURCE, SessionStatus
from harness.bench_report import BURSTS
from harness.errors import HarnessError
from harness.settings import DEFAULT_TASK, EMULATORS, REPO_ROOT, Settings

if TYPE_CHECKING:
    from rich.console import Console

    from harness.runtime import ComposeRuntime, HostRuntime
    from harness.sessions import Session, SessionSummary
    from harness.stack import StackOutputs

# Each command imports what only it uses (boto3, the runtime, the deploy, the bench, rich) in
# its own body, and nothing heavy is imported here: `python -m harness --help`, a usage error
# or a bad setting import neither rich nor the runtime, and `down` or `up` no docker or boto3
# (tests/functional/harness/test_cli_imports.py).


def make_console() -> Console:
    """Rich output that never hard-wraps a line: piped (CI logs, `| less`, a file) it is as
    wide as its lines; in a terminal long messages soft-wrap (the terminal folds them, a
    copied id or path stays whole) and tables that would not fit become plain lines."""
    from rich.console import Console

    terminal = Console(highlight=False, soft_wrap=True)
    if terminal.is_terminal:
        return terminal
    return Console(highlight=False, soft_wrap=True, width=100_000)


@cache
def console() -> Console:
    """The console, made when something is first printed (importing rich is ~0.1 CPU-s)."""
    return make_console()


# The faults the local agent injects on request (agent/testing/faults.py; a test compares).
FAULTS = ("crash", "hang", "hold", "skip_busy", "journal_error")
# A session's journal item appears within a second of put-events; past this, look for why not.
NO_SESSION_GRACE_SECONDS = 3.0
UNDELIVERED_CHECK_INTERVAL_SECONDS = 2.0
UNDELIVERED_HINT = (
    " Nothing was run for it. Fix the cause, then publish the event again"
    " (`make trigger-workflow TASK=...`); `make logs` shows where LocalStack logs."
)


class EventUndelivered(HarnessError):
    """EventBridge accepted the event but the workflow never received it."""


Command = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, Command] = {}
SERVICES = ("localstack", "agent", "agentcore-standin")


def command(name: str) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        COMMANDS[name] = function
        return function

    return register


def report(message: str) -> None:
    console().print(f"[dim]•[/dim] {message}")


@command("up")
def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from harness.runtime import select_runtime

    runtime = select_runtime(settings, report)
    console().print(f"[bold]Starting the local runtime[/bold] ({runtime.mode} mode)")
    runtime.up(args.service)
    print_status(runtime)
    return 0


@command("down")
def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    from harness.runtime import select_runtime
    from harness.runtime.processes import signals_deferred

    # Ctrl-C waits for the stop to end (it is bounded: a grace, then a kill): cut in half, it
    # would leave processes running that no pid file names any more, or LocalStack frozen.
    with signals_deferred(
        notice=lambda: report("stopping what runs first (bounded), then exiting")
    ):
        stopped = select_runtime(settings, report).down(args.service)
    console().print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


@command("status")
def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "session", None):
        from harness.assertions import describe
        from harness.stack import StackOutputs

        session = read_session(settings, StackOutputs.load(settings), args.session)
        console().print(describe(session, args.session))
        return 0
    from harness.runtime import select_runtime

    return 0 if print_status(select_runtime(settings, report)) else 1


def print_status(runtime: HostRuntime | ComposeRuntime) -> bool:
    """Print the runtime's health table; True when every service is healthy."""
    from rich.table import Table

    from harness.runtime import HostRuntime

    table = Table(title=f"Local runtime ({runtime.mode} mode)", title_justify="left")
    for column in ("service", "state", "endpoint", "process"):
        table.add_column(column)
    statuses = runtime.status()
    for status in statuses:
        state = "[green]healthy[/green]" if status.healthy else "[red]down[/red]"
        table.add_row(status.name, state, status.url, status.detail)
    console().print(table)
    if isinstance(runtime, HostRuntime):
        print_other_instances(runtime)
    return all(s.healthy for s in statuses)


STOP_HINTS = {
    "localstack": "AWS_ENDPOINT_URL=http://127.0.0.1:{port}",
    "agent": "AGENT_PORT={port}",
    "agentcore-standin": "AGENTCORE_STANDIN_PORT={port}",
}


def print_other_instances(runtime: HostRuntime) -> None:
    """Services this checkout started on other ports (a bench, a test, another shell's
    settings) that the table above does not show, with the command that stops each."""
    from harness.runtime.processes import running_instances

    shown = {(spec.name, spec.port) for spec in runtime.specs()}
    others = [i for i in running_instances(runtime.run_dir) if i[:2] not in shown]
    if not others:
        return
    console().print("[yellow]also running from this checkout, on other ports:[/yellow]")
    for name, port, pid in others:
        hint = STOP_HINTS.get(name, "").format(port=port)
        console().print(
            f"  {name} on port {port} (pid {pid}); stop it: "
            f"{hint} python -m harness down --service {name}"
        )


@command("logs")
def cmd_logs(args: argparse.Namespace, settings: Settings) -> int:
    from harness.runtime import HostRuntime, select_runtime
    from harness.runtime.processes import previous_log

    runtime = select_runtime(settings, report)
    for name, where in runtime.log_files().items():
        console().print(f"{name:<18} {where}")
        # Host mode: a log a start moved aside (rotate_if_large) holds the lines before it.
        if isinstance(runtime, HostRuntime) and (earlier := previous_log(Path(where))).exists():
            console().print(f"{'':<18} {earlier} (its earlier lines)")
    return 0


@command("agent")
def cmd_agent(args: argparse.Namespace, settings: Settings) -> int:
    from harness.devloop import run_agent_foreground
    from harness.runtime import HostRuntime

    return run_agent_foreground(
        HostRuntime(settings), reload=args.reload, report=report, code_root=args.code_root
    )


@command("deploy")
def cmd_deploy(args: argparse.Namespace, settings: Settings) -> int:
    from harness import deploy
    from harness.runtime import ensure_current, select_runtime
    from harness.stack import StackOutputs

    ensure_current(settings, report, ["localstack"])  # never into another checkout's emulator
    mode = select_runtime(settings).mode if settings.is_local else "aws"
    context = dict(args.context or [])
    result = deploy.deploy(
        settings, runtime_mode=mode, context=context, force=args.force, report=report
    )
    outputs = StackOutputs.load(settings)
    console().print(
        f"[green]deployed[/green] {settings.stack_name} in {result.seconds:.1f} s"
        f" (state machine {outputs.state_machine_arn.rsplit(':', 1)[-1]},"
        f" journal {outputs.journal_table_name})"
    )
    return 0


@command("destroy")
def cmd_destroy(args: argparse.Namespace, settings: Settings) -> int:
    from harness import deploy

    deploy.destroy(settings, report=report)
    console().print(f"destroyed {settings.stack_name}")
    return 0


@command("synth")
def cmd_synth(args: argparse.Namespace, settings: Settings) -> int:
    from harness import deploy

    deploy.synth(settings, report=report)
    console().print("synthesized into infra/cdk.out")
    return 0


@command("trigger")
def cmd_trigger(args: argparse.Namespace, settings: Settings) -> int:
    from harness.runtime import ensure_current
    from harness.stack import StackOutputs
    from harness.trigger import manual_trigger_detail, publish

    # This checkout's runtime, running the code as edited (None: the aws target).
    runtime = ensure_current(settings, report)
    outputs = StackOutputs.load(settings)
    try:
        task = settings.task if args.task is None else args.task
        detail = json.loads(args.detail) if args.detail else manual_trigger_detail(task)
    except ValueError as error:
        raise HarnessError(f"--detail is not valid JSON ({error}); pass a JSON object") from None
    if args.fault:
        detail["fault"] = args.fault
    log_offset = len(runtime.log_text("localstack")) if runtime else 0
    session_id = publish(settings, detail, outputs.event_bus_name)
    console().print(f"published {EVENT_DETAIL_TYPE}: session [bold]{session_id}[/bold]")
    if not args.wait:
        console().print(f"follow it with: python -m harness watch {session_id}")
        return 0
    return watch_session(
        settings, outputs, session_id, args.timeout, runtime, log_offset, verbose=args.verbose
    )


@command("watch")
def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    from harness.runtime import select_runtime
    from harness.stack import StackOutputs

    runtime = select_runtime(settings) if settings.is_local else None
    outputs = StackOutputs.load(settings)
    return watch_session(
        settings, outputs, args.session, args.timeout, runtime, verbose=args.verbose
    )


def restart_hint(settings: Settings) -> str:
    """Why a session id may be unknown on the local target: the runtime keeps no state."""
    if not settings.is_local:
        return ""
    started = ""
    pid_file = settings.runtime_dir / "run" / f"localstack-{settings.gateway_port}.pid"
    if pid_file.exists():
        stamp = datetime.fromtimestamp(pid_file.stat().st_mtime).astimezone()
        started = f" (this one started at {stamp:%Y-%m-%d %H:%M:%S})"
    return (
        " If the session ran before the local runtime was last restarted"
        f"{started}, it is gone: LocalStack keeps no state across restarts"
        " (`python -m harness list` shows the sessions it knows)."
    )


def read_session(settings: Settings, outputs: StackOutputs, session_id: str) -> Session:
    from agent.journal import SessionNotFound
    from harness.sessions import SessionReader

    try:
        return SessionReader(settings, outputs).session(session_id)
    except SessionNotFound as error:
        raise SessionNotFound(f"{error}{restart_hint(settings)}") from None


def watch_session(
    settings: Settings,
    outputs: StackOutputs,
    session_id: str,
    timeout: float | None,
    runtime: HostRuntime | ComposeRuntime | None = None,
    log_offset: int | None = None,
    *,
    verbose: bool = False,
) -> int:
    """Live progress until the session ends, then its timeline; exit 0 only on COMPLETED.

    While no session exists, looks for the event in the dead-letter queue and the emulator's
    log, and stops with the reason as soon as one is found."""
    from botocore.exceptions import BotoCoreError
    from rich.live import Live

    from agent.journal import SessionNotFound
    from harness import undelivered
    from harness.sessions import SessionReader
    from harness.timeline import progress_line, timeline

    reader = SessionReader(settings, outputs)
    limit = timeout or outputs.session_end_timeout_seconds

    def emulator_log() -> str:
        return runtime.log_text("localstack") if runtime else ""

    offset = len(emulator_log()) if log_offset is None else log_offset
    next_check = [NO_SESSION_GRACE_SECONDS]

    def on_update(snapshot: Session | None, elapsed: float) -> None:
        late = snapshot is None and elapsed >= NO_SESSION_GRACE_SECONDS
        live.update(progress_line(snapshot, elapsed, restart_hint(settings) if late else ""))
        if snapshot is None and elapsed >= next_check[0]:
            next_check[0] = elapsed + UNDELIVERED_CHECK_INTERVAL_SECONDS
            if lost := undelivered.explain(settings, outputs, session_id, emulator_log, offset):
                raise EventUndelivered(lost.message() + UNDELIVERED_HINT)

    try:
        with Live(console=console(), refresh_per_second=8, transient=True) as live:
            session = reader.wait(session_id, timeout=limit, on_update=on_update)
    except BotoCoreError as error:
        raise HarnessError(unreachable(settings, error, session_id)) from None
    if session is None:
        raise SessionNotFound(
            f"no session {session_id} appeared within {limit:.0f} s, and neither the "
            "dead-letter queue nor the emulator's log mentions it. Check the id (the event id "
            f"put-events returned), and that the event had source {EVENT_SOURCE} and "
            f"detail-type {EVENT_DETAIL_TYPE} on the stack's event bus (other events do not match "
            "the rule); `python -m harness status` checks the runtime." + restart_hint(settings)
        )
    console().print(timeline(session, console()))
    if session.status == SessionStatus.COMPLETED:
        console().print(f"[green]COMPLETED[/green]: {(session.item or {}).get('result', '')}")
        return 0
    print_outcome(session, verbose=verbose)
    return 1


def print_outcome(session: Session, *, verbose: bool) -> None:
    """After the timeline of a session that did not complete: where it stopped, what to run
    next; the cause itself is on the timeline's FAILED row (said once), the stack trace
    only with --verbose."""
    from harness.failures import one_line
    from harness.timeline import full_errors

    execution = session.execution
    where = "no execution found"
    if execution is not None:
        last = execution.last_step.name if execution.last_step else "-"
        where = f"execution {execution.status} at {last}: {execution.arn}"
    if not session.done:
        console().print(f"[yellow]still running[/yellow] ({where})")
    elif (session.item or {}).get("error"):
        console().print(f"[red]FAILED[/red] (the cause is on the FAILED row above; {where})")
    else:
        failed = execution.failed_step if execution else None
        cause = f"{failed.error}: {one_line(failed.cause)}" if failed else "no cause recorded"
        console().print(f"[red]FAILED[/red]: {cause} ({where})")
    errors = full_errors(session)
    if verbose:
        for text in errors:
            console().print(f"[dim]{text}[/dim]", markup=True)
    elif any("\n" in text for text in errors):  # a stack trace follows the cause
        console().print(
            "[dim]stack traces: add --verbose, or write the report: "
            f"make report SESSION={session.session_id}[/dim]"
        )


def unreachable(settings: Settings, error: Exception, session_id: str = "") -> str:
    """What to say, and to do, when AWS or the local runtime stops answering mid-command."""
    if not settings.is_local:
        message = f"lost contact with AWS ({settings.region}): {error}. Check the network and "
        message += "your credentials"
        return message + (f", then `python -m harness watch {session_id}`." if session_id else ".")
    message = (
        f"lost contact with the local runtime at {settings.endpoint_url}: {error}. "
        "`python -m harness status` shows whether it is still up."
    )
    if session_id:
        message += f" If it is, follow the session again: `python -m harness watch {session_id}`."
    return message + (
        " If it stopped, `make up` and `make deploy` bring it back (LocalStack keeps its state in"
        " memory: sessions it held are gone), then trigger the work again."
    )


@command("history")
def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from harness.stack import StackOutputs
    from harness.timeline import full_errors, timeline

    session = read_session(settings, StackOutputs.load(settings), args.session)
    console().print(timeline(session, console()))
    for execution in session.executions:
        console().print(f"execution {execution.status}: {execution.arn}")
    if args.verbose:
        for text in full_errors(session):
            console().print(f"[dim]{text}[/dim]")
    return 0


def list_sessions(settings: Settings, outputs: StackOutputs, limit: int) -> list[SessionSummary]:
    from harness.sessions import SessionReader

    return SessionReader(settings, outputs).recent(limit)


@command("list")
def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    from rich.table import Table
    from rich.text import Text

    from harness.stack import StackOutputs
    from harness.timeline import STATUS_STYLE

    sessions = list_sessions(settings, StackOutputs.load(settings), limit=args.limit)
    if not sessions:
        console().print("no sessions yet: `make trigger-workflow` starts one")
        return 0
    table = Table(title="Sessions, newest first", title_justify="left")
    for column in ("started", "session", "status", "task / cause"):
        table.add_column(column, no_wrap=column != "task / cause")
    for entry in sessions:
        text = Text(entry.task_preview)
        if entry.cause:
            text.append(f"\n{entry.cause}", style="red")
        table.add_row(
            entry.started.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            entry.session_id,
            Text(entry.status, style=STATUS_STYLE.get(entry.status, "")),
            text,
        )
    console().print(table)
    console().print("[dim]details: make watch SESSION=<id> · make report SESSION=<id>[/dim]")
    return 0


@command("ui")
def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    from harness.sessions import SessionReader
    from harness.stack import StackOutputs
    from harness.ui import UiServer

    port = settings.ui_port if args.port is None else args.port
    try:
        server = UiServer(
            SessionReader(settings, StackOutputs.load(settings)), port, restart_hint(settings)
        )
    except OSError as error:
        raise HarnessError(
            f"cannot serve on 127.0.0.1:{port} ({error.strerror}): another `make ui`? "
            "Pick another port: make ui UI_PORT=8078"
        ) from None
    console().print(f"live page: [bold]{server.url}[/bold] (loopback only; Ctrl-C to stop)")

    def stop(signum: int, frame: object) -> None:
        # Ask the serving loop to end (shutdown() waits for it, so from another thread),
        # instead of raising in the middle of whatever the main thread is doing.
        threading.Thread(target=server.httpd.shutdown, daemon=True).start()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    try:
        server.serve_forever()
    finally:
        server.httpd.server_close()
    console().print("live page stopped")
    return 0


@command("report")
def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from harness.report import write_report
    from harness.stack import StackOutputs

    session = read_session(settings, StackOutputs.load(settings), args.session)
    page, picture = write_report(session, args.output)
    console().print(f"wrote {page} and {picture}")
    return 0


@command("bench")
def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from rich.table import Table

    from harness import bench, bench_report

    options = bench.BenchOptions(
        sessions=args.sessions, bursts=args.bursts, deploy_once=args.deploy_once
    )
    if args.child:  # one emulator's figures for a parent bench: no table
        bench.run(settings, options, output=args.output, report=report)
        return 0
    before = bench_report.machine_activity()
    by_emulator = bench.measure(settings, options, emulators=args.emulators, report=report)
    rows = bench_report.compare(by_emulator)
    about = bench_report.machine(
        bench_report.activity_during(before, bench_report.machine_activity())
    )
    emulators = list(by_emulator)
    on = f"{about['commit']} · {about['cpus']} CPUs · load {about['load_average_1m']}"
    if "page_cache_refaulted_mb" in about:  # a VM evicting its page cache runs slower
        on += f" · {about['page_cache_refaulted_mb']} MB of page cache read again"
    table = Table(title=f"make bench · {on}", title_justify="left")
    table.add_column("figure")
    for emulator in emulators:
        table.add_column(emulator, justify="right")
    table.add_column(
        f"{bench_report.SUBJECT}/{emulators[-1]}" if len(emulators) > 1 else "ratio",
        justify="right",
    )
    table.add_column(f"target ({bench_report.SUBJECT})", justify="right")
    for row in rows:
        style = "red" if row.met is False else None
        table.add_row(*row.cells(emulators), style=style)
    console().print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(bench_report.document(by_emulator, rows, about), indent=2))
    console().print(f"written to {args.output}")
    return 0


@command("engine")
def cmd_engine(args: argparse.Namespace, settings: Settings) -> int:
    """The checkout's private Docker engine (.runtime/docker/), for machines without one."""
    from harness.runtime.engine import Engine
    from harness.runtime.images import ImageBuilder

    engine = Engine(settings, report)
    if args.action == "start":
        if not engine.start():
            console().print(f"Docker engine already running (pid {engine.pid()})")
    elif args.action == "stop":
        console().print(
            "Docker engine stopped" if engine.stop() else "Docker engine was not running"
        )
    elif args.action == "images":
        engine.start()
        built = ImageBuilder(engine, report).build_all(
            offline_base=settings.docker_base == "offline"
        )
        console().print(f"built: {', '.join(built)}" if built else "images up to date")
    elif args.action == "env":
        for name, value in engine.environment().items():
            print(f"export {name}={value}")
    else:
        running = engine.running()
        state = f"running, pid {engine.pid()}" if running else "not running"
        console().print(f"private Docker engine: {state} (socket {engine.socket})")
        return 0 if running else 3
    return 0


def context_item(value: str) -> tuple[str, str]:
    """``-c KEY=VALUE`` (argparse turns the error into a usage error)."""
    key, equals, item = value.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key, item


def _counts(value: str) -> tuple[int, ...]:
    """``50,100``: positive counts (bench bursts)."""
    try:
        counts = tuple(int(part) for part in value.split(","))
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: expected positive counts, e.g. 50,100")
    return counts


def _emulators(value: str) -> tuple[str, ...]:
    """``localstack,ministack``: known emulators, each once."""
    names = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in names if name not in EMULATORS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected emulators from {', '.join(EMULATORS)}, comma separated"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="Run, deploy, trigger and watch the agent workflow locally (or on AWS).",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logging and full error texts"
    )
    parser.add_argument(
        "--target",
        choices=("local", "aws"),
        help="where the stack runs (default: HARNESS_TARGET or local)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (
        ("up", "start LocalStack, the agent and the AgentCore stand-in (reuses running ones)"),
        ("down", "stop what `up` started"),
    ):
        sub.add_parser(name, help=text).add_argument(
            "--service",
            action="append",
            choices=SERVICES,
            help="only this service (repeatable; default: all)",
        )
    sub.add_parser("status", help="health of the local runtime, or of one SESSION").add_argument(
        "session", nargs="?", help="a session id: show its journal and execution instead"
    )
    sub.add_parser("logs", help="where each service logs")
    agent_parser = sub.add_parser("agent", help="run the agent in the foreground")
    agent_parser.add_argument(
        "--reload", action="store_true", help="restart it when agent/ code changes"
    )
    agent_parser.add_argument(
        "--code-root",
        type=Path,
        default=REPO_ROOT,
        help="the folder holding the agent package to run and watch (default: the repository)",
    )
    deploy_parser = sub.add_parser("deploy", help="deploy the CDK stack (cdklocal when local)")
    deploy_parser.add_argument(
        "-c",
        "--context",
        action="append",
        type=context_item,
        metavar="KEY=VALUE",
        help="CDK context override",
    )
    deploy_parser.add_argument(
        "--force", action="store_true", help="deploy even if nothing changed since the last one"
    )
    sub.add_parser("destroy", help="destroy the deployed stack")
    sub.add_parser("synth", help="synthesize the CDK app (no deploy)")
    trigger = sub.add_parser(
        "trigger",
        help="publish a ManualTrigger event (a new session)",
        description="Publish a ManualTrigger event to the stack's event bus: a new session, "
        "whose id (the event id) is printed. Exit status with --wait: 0 when it COMPLETED.",
    )
    trigger.add_argument(
        "--task",
        help="the task text given to the agent, sent byte for byte (default: the TASK "
        f"environment variable, else {DEFAULT_TASK!r})",
    )
    trigger.add_argument(
        "--detail",
        metavar="JSON",
        help="the event's whole detail as a JSON object, instead of --task (e.g. to send a "
        "malformed event)",
    )
    trigger.add_argument(
        "--fault",
        choices=FAULTS,
        help="ask the local agent to fail on purpose (needs AGENT_ALLOW_FAULTS=1, which the "
        "local runtime sets): crash after BUSY, hang until the workflow times out, hold "
        "until the journal says the session ended (the workflow's timeout writes it), skip_busy "
        "(COMPLETED straight from INITIATED), journal_error (journal writes fail)",
    )
    trigger.add_argument(
        "--wait", action="store_true", help="watch the session live and print its timeline"
    )
    trigger.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="with --wait: how long to watch (default: the workflow's own bound + 30 s)",
    )
    _verbose_option(trigger)
    bench_parser = sub.add_parser(
        "bench", help="measure the edit -> green loop (restarts the runtime)"
    )
    bench_parser.add_argument(
        "--sessions", type=int, default=50, help="sequential sessions (default: 50)"
    )
    bench_parser.add_argument(
        "--bursts",
        type=_counts,
        default=BURSTS,
        metavar="N,N",
        help="concurrent sessions per burst (default: 50,100)",
    )
    bench_parser.add_argument(
        "--emulators",
        type=_emulators,
        default=EMULATORS,
        metavar="NAME,NAME",
        help="a column each, measured one after the other (default: localstack,ministack)",
    )
    bench_parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT / "reports" / "bench.json",
        help="where to write the figures (default: reports/bench.json)",
    )
    bench_parser.add_argument(
        "--deploy-once",
        action="store_true",
        help="deploy once, for the sessions, from a kept synth if there is one: no fresh-synth,"
        " no-change or one-change deploy figures (a shorter run)",
    )
    bench_parser.add_argument(
        "--child",
        action="store_true",
        help="measure the one emulator and write its figures, no table (what a bench runs"
        " for its other columns)",
    )
    for name, text in (
        ("watch", "follow a session live, then print its timeline"),
        ("history", "a session's journal transitions and workflow states"),
    ):
        sub_parser = sub.add_parser(name, help=text)
        sub_parser.add_argument("session", help="the session id (the event id)")
        if name == "watch":
            sub_parser.add_argument(
                "--timeout",
                type=float,
                metavar="SECONDS",
                help="how long to watch (default: the workflow's own bound + 30 s)",
            )
        _verbose_option(sub_parser)
    list_parser = sub.add_parser("list", help="the sessions in the journal, newest first")
    list_parser.add_argument(
        "--limit", type=int, default=20, help="show at most this many (default: 20)"
    )
    ui_parser = sub.add_parser(
        "ui", help="serve the live page of the sessions on 127.0.0.1 (Ctrl-C stops it)"
    )
    ui_parser.add_argument(
        "--port",
        type=int,
        help="the port on 127.0.0.1 (default: HARNESS_UI_PORT, else 8077; 0 picks a free one)",
    )
    sub.add_parser(
        "engine", help="the checkout's private Docker engine: start, stop, status, images, env"
    ).add_argument(
        "action",
        choices=("start", "stop", "status", "images", "env"),
        help="start or stop it, show its status, build the images, or print its environment",
    )
    report_parser = sub.add_parser("report", help="write a session's timeline as HTML and PNG")
    report_parser.add_argument("session", help="the session id (the event id)")
    report_parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT / "reports",
        help="the folder to write session-<id>.html and .png into (default: reports/)",
    )
    return parser


def _verbose_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: without the option here, the top-level -v/--verbose stays as given.
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="also print the full errors with their stack traces (and debug logging)",
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM (kill, a CI timeout) stops a command the way Ctrl-C does: its clean-up runs.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        # And Ctrl-C (SIGINT) always does, even for a command started with SIGINT ignored, as
        # a script's background jobs are: Python then keeps it ignored unless told otherwise.
        # Set inside the try: a Ctrl-C from then on (reading the settings, say) ends the same.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        return _run(args)
    except KeyboardInterrupt:
        # Stopping: a second Ctrl-C during the interpreter's own shutdown (~0.5 s on a loaded
        # machine) would otherwise kill it with SIGINT instead of exiting with 130.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        console().print("[yellow]interrupted[/yellow]")
        # CPython (3.11-3.13) marks a KeyboardInterrupt that ends code run from a string
        # (exec/eval: a dataclass's generated methods, say) as unhandled even when caught, and
        # under ``python -m`` then kills the process with SIGINT at exit instead of letting it
        # exit 130. Each string eval clears that mark first: an empty one clears it for good.
        exec("")
        return 130


def _run(args: argparse.Namespace) -> int:
    """The command ``args`` names, with its settings; an error it raises in one line."""
    configure_logging(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        settings = Settings(target=args.target) if args.target else Settings()
    except SettingError as error:
        exit_on(error, "python -m harness")  # as argparse stops on a bad argument
    try:
        return COMMANDS[args.command](args, settings)
    except _loaded_errors("agent.journal", "SessionNotFound", also=(HarnessError,)) as error:
        console().print(f"[bold red]error:[/bold red] {error}")
        return 1
    except _loaded_errors("botocore.exceptions", "BotoCoreError") as error:
        # The endpoint went away mid-command (LocalStack stopped, the network dropped).
        console().print(f"[bold red]error:[/bold red] {unreachable(settings, error)}")
        return 1


def _loaded_errors(
    module: str, *names: str, also: tuple[type[Exception], ...] = ()
) -> tuple[type[Exception], ...]:
    """``also``, and the exception classes ``names`` of ``module`` if a command imported it: a
    command imports what it uses in its own body, and one that never loaded ``module`` cannot
    have raised them (so telling an error apart needs no import of boto3)."""
    loaded = sys.modules.get(module)
    return also if loaded is None else (*also, *(getattr(loaded, name) for name in names))


if __name__ == "__main__":
    sys.exit(main())
