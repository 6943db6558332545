"""`make bench`: how fast is the loop from an edit to a green end-to-end check?

One run per emulator measures, on this machine: the runtime's start (installs cached),
deploys (first, no-change, one change), end-to-end latency of sequential sessions, the wall
time of bursts of concurrent sessions (none lost, none run twice), an agent restart to a
completed session, and the memory (RSS and PSS) of every runtime process. The emulator the
settings name is measured in this process; any other (MiniStack beside LocalStack) in a
child process on free ports, so both columns come from the same harness in the same run.
``harness.bench_report`` puts them side by side.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract import TERMINAL_STATUSES, SessionStatus
from harness import aws, deploy
from harness.bench_report import BURSTS
from harness.errors import HarnessError
from harness.polling import PollTimeout, poll
from harness.runtime import select_runtime
from harness.runtime.host import HostRuntime
from harness.runtime.ports import HOST, free_ports
from harness.runtime.processes import (
    ManagedProcess,
    cmdline,
    descendants,
    pss_mb,
    rss_mb,
    signals_deferred,
)
from harness.sessions import SessionReader
from harness.settings import REPO_ROOT, Settings
from harness.stack import StackOutputs
from harness.trigger import PUT_EVENTS_MAX_ENTRIES, manual_trigger_detail, publish, publish_many

logger = logging.getLogger(__name__)

POLL = 0.02  # seconds between journal reads while timing a session
PUBLISHERS = 16  # threads publishing a burst's events (PutEvents calls of up to 10)
CHILD_CLEANUP_SECONDS = 120  # an interrupted child bench's time to stop its runtime
SERVICES = ("localstack", "agent", "agentcore-standin")
# The journal history of a session that went right.
HAPPY_PATH = [SessionStatus.INITIATED, SessionStatus.BUSY, SessionStatus.COMPLETED]


@dataclass
class SessionTiming:
    session_id: str
    journal_completed: float | None = None
    execution_succeeded: float | None = None
    statuses: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(statistics.median(values), 3),
        "p95": round(percentile(values, 0.95), 3),
        "max": round(max(values), 3),
        "n": len(values),
    }


def _timed(action: Callable[[], Any]) -> float:
    started = time.monotonic()
    action()
    return round(time.monotonic() - started, 3)


# What a journal read gives the timer: (status, history statuses, execution ARN) or None.
JournalState = tuple[str, list[str], str] | None


def time_until_ended(
    timing: SessionTiming,
    started: float,
    journal: Callable[[], JournalState],
    execution_status: Callable[[str], str],
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SessionTiming:
    """Fill ``timing``: seconds from ``started`` (the publish) to the journal's terminal status,
    then to the execution's end (SUCCEEDED only; None for any other end). A session that does
    not end within ``timeout`` of ``started`` keeps None figures: reported, not raised."""
    execution_arn = ""

    def ended() -> bool:
        nonlocal execution_arn
        if timing.journal_completed is None:
            state = journal()
            if state and state[0] in TERMINAL_STATUSES:
                timing.journal_completed = clock() - started
                _, timing.statuses, execution_arn = state
            return False
        if not execution_arn:
            return True  # an item the workflow did not write: no execution to time
        status = execution_status(execution_arn)
        if status == "RUNNING":
            return False
        timing.execution_succeeded = clock() - started if status == "SUCCEEDED" else None
        return True

    with contextlib.suppress(PollTimeout):
        poll(
            ended,
            timeout=max(0.0, started + timeout - clock()),
            interval=POLL,
            what=f"session {timing.session_id} to end",
            clock=clock,
            sleep=sleep,
        )
    return timing


def burst_figures(
    ids: list[str], histories: dict[str, list[str]], wall: float, publish: float
) -> dict[str, Any]:
    """A burst's figures: sessions with the happy path's full history, those never ended
    (lost) and those whose agent ran more than once (BUSY twice)."""
    return {
        "sessions": len(ids),
        "publish_s": round(publish, 3),
        "wall_s": round(wall, 3),
        "completed_full_history": sum(histories.get(i) == HAPPY_PATH for i in ids),
        "lost": sum(i not in histories for i in ids),
        "duplicate_runs": sum(h.count(SessionStatus.BUSY) > 1 for h in histories.values()),
    }


def record_ended(
    items: dict[str, dict[str, Any]], pending: set[str], histories: dict[str, list[str]]
) -> None:
    """Move each pending session whose journal item (in ``items``) has a terminal status
    from ``pending`` to ``histories`` (its history's statuses)."""
    for session_id, item in items.items():
        if session_id in pending and item.get("status") in TERMINAL_STATUSES:
            histories[session_id] = [h["status"] for h in item.get("history", [])]
            pending.discard(session_id)


class Bench:
    def __init__(self, settings: Settings, report: Callable[[str], None]) -> None:
        self.settings = settings
        self.report = report
        self.runtime = select_runtime(settings)
        self.figures: dict[str, Any] = {
            "runtime_mode": self.runtime.mode,
            "emulator": settings.emulator,
            "sfn_wait_scale": settings.sfn_wait_scale,  # Wait states last this share locally
        }

    # -- runtime and deploys ---------------------------------------------------------------
    def running_services(self) -> set[str]:
        return {status.name for status in self.runtime.status() if status.healthy}

    def stop_services(self, exclude: set[str]) -> None:
        """Stop the runtime's services but ``exclude`` (they ran before the bench: restarted,
        they stay up, as `make up` would leave them)."""
        names = [spec for spec in SERVICES if spec not in exclude]
        if names and (stopped := self.runtime.down(names)):
            self.report(f"stopped what the bench started: {', '.join(stopped)}")

    def restart_runtime(self) -> None:
        self.report("restarting the local runtime (installs cached)")
        self.runtime.down()
        self.figures["make_up_warm_s"] = _timed(self.runtime.up)

    def deploys(self, once: bool = False) -> StackOutputs:
        """The deploy figures; ``once``: only the first deploy (what the sessions need), from a
        kept synth of the same inputs where there is one (a shorter run: its figure is
        ``deploy_first_kept_synth_s``, not the fresh clone's ``deploy_first_s``)."""
        mode = self.runtime.mode
        synth = "a kept synth if there is one" if once else "a fresh synth"
        self.report(f"deploying (fresh runtime and {synth}: bootstrap + create)")
        first = deploy.deploy(self.settings, runtime_mode=mode, force=True, fresh_synth=not once)
        figure = "deploy_first_kept_synth_s" if once else "deploy_first_s"
        self.figures[figure] = round(first.seconds, 3)
        if once:
            return StackOutputs.load(self.settings)
        self.report("deploying again with no change (cdk deploy, forced)")
        self.figures["deploy_no_change_cdk_s"] = round(
            deploy.deploy(self.settings, runtime_mode=mode, force=True).seconds, 3
        )
        self.figures["deploy_no_change_skipped_s"] = round(
            deploy.deploy(self.settings, runtime_mode=mode).seconds, 3
        )
        outputs = StackOutputs.load(self.settings)
        self.report("deploying one change (max polls + 1), then back")
        changed = {"max_polls": str(outputs.max_polls + 1)}
        self.figures["deploy_one_change_s"] = round(
            deploy.deploy(self.settings, runtime_mode=mode, context=changed).seconds, 3
        )
        deploy.deploy(self.settings, runtime_mode=mode)
        return StackOutputs.load(self.settings)

    # -- sessions ----------------------------------------------------------------------------
    def time_session(self, outputs: StackOutputs, task: str, timeout: float = 60) -> SessionTiming:
        reader = SessionReader(self.settings, outputs)
        sfn = aws.client("stepfunctions", self.settings)
        started = time.monotonic()
        session_id = publish(self.settings, manual_trigger_detail(task), outputs.event_bus_name)

        def journal() -> JournalState:
            item = reader.item(session_id)
            if not item:
                return None
            history = [h["status"] for h in item.get("history", [])]
            return item.get("status", ""), history, item.get("execution_arn", "")

        def execution_status(arn: str) -> str:
            status: str = sfn.describe_execution(executionArn=arn)["status"]
            return status

        return time_until_ended(
            SessionTiming(session_id), started, journal, execution_status, timeout=timeout
        )

    def sequential(self, outputs: StackOutputs, count: int) -> None:
        self.report(f"{count} sequential sessions")
        self.time_session(outputs, "warm-up")
        timings = [self.time_session(outputs, f"bench task {i}") for i in range(count)]
        ok = [t for t in timings if t.statuses == HAPPY_PATH]
        self.figures["sequential"] = {
            "sessions": count,
            "completed": len(ok),
            "journal_completed_s": summary(
                [seconds for t in ok if (seconds := t.journal_completed) is not None]
            ),
            "execution_succeeded_s": summary(
                [seconds for t in ok if (seconds := t.execution_succeeded) is not None]
            ),
        }

    def concurrent(self, outputs: StackOutputs, count: int) -> None:
        details = [manual_trigger_detail(f"load {i}") for i in range(count)]
        batches = [
            details[i : i + PUT_EVENTS_MAX_ENTRIES] for i in range(0, count, PUT_EVENTS_MAX_ENTRIES)
        ]
        publishers = min(len(batches), PUBLISHERS)
        self.report(
            f"{count} concurrent sessions ({len(batches)} PutEvents of up to"
            f" {PUT_EVENTS_MAX_ENTRIES}, {publishers} threads)"
        )
        reader = SessionReader(self.settings, outputs)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=publishers) as pool:
            published_ids = pool.map(
                lambda batch: publish_many(self.settings, batch, outputs.event_bus_name), batches
            )
            ids = [session_id for batch_ids in published_ids for session_id in batch_ids]
        published = time.monotonic() - started
        pending = set(ids)
        histories: dict[str, list[str]] = {}

        def all_ended() -> bool:
            # One BatchGetItem per 100 pending sessions: the observer adds a request per poll,
            # not one per session (100 GetItems a round took LocalStack's CPU from the burst).
            record_ended(reader.items(sorted(pending)), pending, histories)
            return not pending

        # Sessions still pending at the bound are reported as lost, not raised.
        bound = started + outputs.session_timeout_seconds + 60 - time.monotonic()
        with contextlib.suppress(PollTimeout):
            poll(all_ended, timeout=max(0.0, bound), interval=0.1, what="the burst to end")
        wall = time.monotonic() - started
        self.figures[f"concurrent_{count}"] = burst_figures(ids, histories, wall, published)

    def agent_reload(self, outputs: StackOutputs) -> None:
        """An agent code change to a completed session, with no redeploy."""
        if not isinstance(self.runtime, HostRuntime):
            return
        self.report("agent restart (a code change) to a completed session")
        started = time.monotonic()
        self.runtime.down(["agent"])
        self.runtime.up(["agent"])
        timing = self.time_session(outputs, "after reload")
        if timing.journal_completed is not None:
            self.figures["agent_change_to_completed_s"] = round(time.monotonic() - started, 3)

    # -- memory ------------------------------------------------------------------------------
    def _process_groups(self, runtime: HostRuntime) -> dict[str, list[int]]:
        """The runtime's processes by role (the emulator's children split into DynamoDB Local
        and Lambda environments, zygotes included)."""
        groups: dict[str, list[int]] = {}
        for spec in runtime.specs():
            pid = ManagedProcess(spec, runtime.run_dir).pid()
            if pid is None:
                continue
            if spec.name != "localstack":
                groups[spec.name] = [pid]
                continue
            groups["emulator"] = [pid]
            children = descendants(pid)
            groups["dynamodb_local"] = [c for c in children if "java" in cmdline(c)]
            groups["lambda_processes"] = [c for c in children if c not in groups["dynamodb_local"]]
        return groups

    def memory(self, when: str) -> None:
        """Memory of every runtime process, as RSS and as PSS (shared pages counted once)."""
        if not isinstance(self.runtime, HostRuntime):
            return
        groups = self._process_groups(self.runtime)
        for measure, read in (("rss_mb", rss_mb), ("pss_mb", pss_mb)):
            figures = {name: round(sum(read(p) for p in pids), 1) for name, pids in groups.items()}
            figures["total"] = round(sum(figures.values()), 1)
            self.figures[f"{measure}_{when}"] = figures
        self.figures[f"lambda_processes_{when}"] = len(groups.get("lambda_processes", []))

    def settle(self, idle_processes: int) -> None:
        """Wait for LocalStack to stop the burst's idle Lambda environments (keep-alive).
        MiniStack keeps its Lambda workers, so there is nothing to wait for."""
        runtime = self.runtime
        if not isinstance(runtime, HostRuntime) or self.settings.emulator != "localstack":
            return
        keepalive = self.settings.lambda_keepalive_ms / 1000
        self.report(f"waiting for idle Lambda environments to end (keep-alive {keepalive:g} s)")
        started = time.monotonic()
        with contextlib.suppress(PollTimeout):  # environments left at the bound are reported
            poll(
                lambda: (
                    len(self._process_groups(runtime).get("lambda_processes", [])) <= idle_processes
                ),
                timeout=keepalive + 30,
                interval=1,
                what="idle Lambda environments to end",
            )
        self.figures["settle_s"] = round(time.monotonic() - started, 1)


@dataclass(frozen=True)
class BenchOptions:
    """What a bench measures, the same in each emulator's run: ``sessions`` sequential ones,
    a burst of concurrent ones per count in ``bursts``, and (``deploy_once``) the first
    deploy's figure only, not the redeploys'."""

    sessions: int
    bursts: tuple[int, ...] = BURSTS
    deploy_once: bool = False

    def arguments(self) -> list[str]:
        """The same options on a child bench's command line."""
        return [
            "--sessions", str(self.sessions),
            "--bursts", ",".join(map(str, self.bursts)),
            *(["--deploy-once"] if self.deploy_once else []),
        ]  # fmt: skip


def run(
    settings: Settings,
    options: BenchOptions,
    *,
    output: Path,
    report: Callable[[str], None],
) -> dict[str, Any]:
    """Measure the emulator ``settings`` name; write its figures to ``output``."""
    if not settings.is_local:
        raise HarnessError("make bench measures the local runtime; unset HARNESS_TARGET")
    bench = Bench(settings, report)
    was_running = bench.running_services()
    try:
        bench.restart_runtime()
        outputs = bench.deploys(once=options.deploy_once)
        bench.sequential(outputs, options.sessions)
        bench.memory("after_sequential")
        idle = bench.figures.get("lambda_processes_after_sequential", 0)
        for number, count in enumerate(options.bursts):
            bench.concurrent(outputs, count)
            if number == 0:  # the first burst's memory, then settled after ~100 sessions
                bench.memory("after_burst")
                bench.agent_reload(outputs)
                bench.settle(idle)
                bench.memory("settled")
    finally:
        # Also on an error or Ctrl-C: what was not running before the bench does not outlive it.
        with signals_deferred():
            bench.stop_services(exclude=was_running)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(bench.figures, indent=2))
    return bench.figures


def child_bench_environment(emulator: str) -> dict[str, str]:
    """The environment a child bench runs ``emulator`` with: host mode, on free ports (beside
    whatever this checkout runs)."""
    gateway, agent, standin = free_ports(3)
    return {
        **os.environ,
        "HARNESS_EMULATOR": emulator,
        "HARNESS_RUNTIME": "host",
        "AWS_ENDPOINT_URL": f"http://{HOST}:{gateway}",
        "AGENT_PORT": str(agent),
        "AGENTCORE_STANDIN_PORT": str(standin),
    }


def measure(
    settings: Settings,
    options: BenchOptions,
    *,
    emulators: tuple[str, ...],
    report: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Each emulator's figures, in the order given: the settings' own emulator here, any
    other in a child `harness bench` (it starts and stops its own runtime)."""
    figures: dict[str, dict[str, Any]] = {}
    # In the checkout's runtime folder, not the machine's /tmp: a bench killed mid clean-up
    # (an interrupt reaching both the bench and its child) leaves nothing outside the checkout.
    settings.runtime_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=settings.runtime_dir) as scratch:
        for emulator in emulators:
            output = Path(scratch) / f"{emulator}.json"
            if emulator == settings.emulator:
                figures[emulator] = run(settings, options, output=output, report=report)
                continue
            report(f"{emulator}: the same bench in a child process, on free ports")
            command = [
                sys.executable, "-m", "harness", "bench", "--child",
                "--emulators", emulator,
                *options.arguments(),
                "--output", str(output),
            ]  # fmt: skip
            status = _run_child(command, child_bench_environment(emulator))
            if status != 0:
                raise HarnessError(
                    f"the {emulator} bench exited with status {status} (its output is"
                    f" above); `make bench EMULATORS={settings.emulator}` skips it"
                )
            figures[emulator] = json.loads(output.read_text())
    return figures


def _run_child(command: list[str], env: dict[str, str]) -> int:
    """Run a child bench; interrupted, pass the interrupt on and let it stop what it
    started (subprocess.run would kill it a quarter of a second later, mid clean-up)."""
    child = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    try:
        return child.wait()
    except BaseException:
        with signals_deferred():
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=CHILD_CLEANUP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        raise
