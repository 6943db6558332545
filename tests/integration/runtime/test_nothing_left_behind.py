"""Whatever a harness command starts, it stops, or `make status` shows it (issue 12: after
`make bench-ministack`, MiniStack, an agent, a stand-in and a Lambda worker lived on where
neither `make down` nor `make status` knew about them). Each test runs on free ports."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.runtime.ports import port_in_use
from harness.runtime.processes import pid_alive
from harness.settings import REPO_ROOT, Settings
from tests.support.helpers import PollTimeout, free_port, free_ports, run_harness, wait_for

SERVICES = ("localstack", "agent", "agentcore-standin")


def _parents() -> dict[int, int]:
    """Every process's parent, read straight from /proc/<pid>/stat: a quarter of the CPU of
    psutil.process_iter (a Process object per process, its start time read to match it), which
    the bench tests do five times a second all the bench long, over every process on the
    machine (~3 of a make test's CPU-s)."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{name}/stat", os.O_RDONLY)
            try:
                stat = os.read(fd, 1024)
            finally:
                os.close(fd)
        except OSError:  # ended meanwhile
            continue
        # after the command's ")" (which may itself hold spaces and parentheses): state, ppid
        parents[int(name)] = int(stat[stat.rindex(b")") + 2 :].split(b" ", 2)[1])
    return parents


def _below(roots: set[int]) -> set[int]:
    """Every live process below any of ``roots``, from one look at the process table (a look
    per root read every process's parent each time, five times a second all the bench long)."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class Isolated:
    """A runtime on free ports in the shared runtime dir (installs cached); tracks every
    process it sees: the command's own children and each service's tree."""

    def __init__(self, **extra_env: str) -> None:
        self.ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        self.env = {
            **os.environ,
            "HARNESS_RUNTIME": "host",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.ports['localstack']}",
            "AGENT_PORT": str(self.ports["agent"]),
            "AGENTCORE_STANDIN_PORT": str(self.ports["agentcore-standin"]),
            **extra_env,
        }
        self.run_dir = Settings().runtime_dir / "run"
        self.instance_root = (
            Settings().runtime_dir / "localstack-instances" / str(self.ports["localstack"])
        )
        self.seen: set[int] = set()

    def pid_files(self) -> list[Path]:
        return [self.run_dir / f"{name}-{port}.pid" for name, port in self.ports.items()]

    def look(self, command: subprocess.Popen[bytes]) -> None:
        services: set[int] = set()
        for pid_file in self.pid_files():
            try:
                pid = int(pid_file.read_text())
            except (OSError, ValueError):
                continue
            if pid_alive(pid):
                services.add(pid)
        self.seen |= services | _below({command.pid} | services)

    def leftovers(self, timeout: float = 60) -> set[int]:
        def alive() -> set[int]:
            return {p for p in self.seen if pid_alive(p)}

        with contextlib.suppress(PollTimeout):  # the caller asserts on what is left
            wait_for(alive, timeout, "the runtime's processes to end", 0.2, accept=lambda a: not a)
        return alive()

    def down(self) -> None:
        """Clean up after a failed test (the test's verdict is taken before)."""
        run_harness("down", env=self.env, timeout=120)
        for pid in self.seen:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


def _bench(runtime: Isolated, tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "bench.log"
    with log.open("wb") as out:
        command = subprocess.Popen(
            [sys.executable, "-m", "harness", "bench", "--output", str(tmp_path / "b.json"), *args],
            cwd=REPO_ROOT,
            env=runtime.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return command, log


def _follow(
    runtime: Isolated, command: subprocess.Popen[bytes], until: float, stop_when: str, log: Path
) -> bool:
    """Watch the command's processes until ``stop_when`` is in its log (True) or it exits."""

    def outcome() -> str | None:
        if command.poll() is not None:
            return "exited"
        runtime.look(command)
        if stop_when and stop_when in log.read_text(errors="replace"):
            return "seen"
        return None

    try:
        return wait_for(outcome, until, f"{stop_when!r} in the bench's log", 0.2) == "seen"
    except PollTimeout:
        return False


def _assert_nothing_left(runtime: Isolated, log: Path) -> None:
    assert runtime.seen, "no runtime process was ever seen"
    assert runtime.leftovers() == set(), f"processes outlived the bench:\n{log.read_text()}"
    assert [p for p in runtime.pid_files() if p.exists()] == []
    assert [n for n, port in runtime.ports.items() if port_in_use(port)] == []
    # nor files: the emulator's instance folder (MiniStack's Lambda workers, ~50 MB each)
    assert not runtime.instance_root.exists(), sorted(runtime.instance_root.rglob("*"))


@pytest.mark.apart  # a runtime of its own on free ports
@pytest.mark.slow(seconds=25)
def test_an_interrupted_bench_stops_what_it_started(tmp_path: Path) -> None:
    # GIVEN a bench on ports where nothing ran, interrupted once its runtime is up
    runtime = Isolated()
    command, log = _bench(
        runtime, tmp_path, "--sessions", "1", "--bursts", "1", "--emulators", "localstack"
    )
    try:
        assert _follow(runtime, command, 300, "deploying", log), log.read_text()
        runtime.look(command)

        # WHEN Ctrl-C reaches it
        command.send_signal(signal.SIGINT)
        status = command.wait(timeout=120)

        # THEN it stops the runtime it started
        assert status == 130, log.read_text()
        assert "stopped what the bench started" in log.read_text()
        _assert_nothing_left(runtime, log)
    finally:
        if command.poll() is None:
            command.kill()
        runtime.down()


@pytest.mark.apart  # a runtime of its own on free ports
@pytest.mark.slow(seconds=60)
def test_a_bench_run_on_ministack_leaves_no_process(tmp_path: Path) -> None:
    # GIVEN the bench's MiniStack column on free ports (MiniStack runs Lambda workers), as
    # short as it goes: its runtime, one deploy, a session, a burst, an agent restart
    runtime = Isolated(HARNESS_EMULATOR="ministack")
    command, log = _bench(
        runtime,
        tmp_path,
        *("--sessions", "1", "--bursts", "2", "--emulators", "ministack", "--deploy-once"),
    )
    try:
        # WHEN it runs to its end
        _follow(runtime, command, 900, "", log)
        status = command.wait(timeout=60)

        # THEN it stopped everything it started
        assert status == 0, log.read_text()
        _assert_nothing_left(runtime, log)
    finally:
        if command.poll() is None:
            command.kill()
        runtime.down()


def test_status_shows_services_this_checkout_runs_on_other_ports(tmp_path: Path) -> None:
    # GIVEN an agent-like process recorded under another port in this checkout's run dir
    runtime = Isolated(HARNESS_RUNTIME_DIR=str(tmp_path / "runtime"))
    other_port = free_port()
    run_dir = tmp_path / "runtime" / "run"
    run_dir.mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        (run_dir / f"agent-{other_port}.pid").write_text(str(sleeper.pid))

        # WHEN the status is asked for with the usual ports
        status = run_harness("status", env={**runtime.env, "COLUMNS": "200"}, timeout=60)

        # THEN it names the other instance and how to stop it
        assert f"agent on port {other_port} (pid {sleeper.pid})" in status.stdout, status.stdout
        assert f"AGENT_PORT={other_port} python -m harness down --service agent" in status.stdout
    finally:
        sleeper.kill()
        sleeper.wait()
