"""A service's start keeps the logs of its instances on other ports from piling up in
.runtime/run (each runtime a test or a bench starts on free ports left one: ~50 per make
test, hundreds in a checkout used every day), but never removes a running instance's log; and
it keeps its own log from growing without end (the runtime on the fixed ports lives on: its
LocalStack and agent logs were 52 MB after five hours of make test runs)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.runtime import processes
from harness.runtime.processes import KEPT_LOGS, ManagedProcess, ProcessSpec
from tests.support.helpers import run_harness


def _log(run_dir: Path, name: str, age_seconds: float) -> Path:
    log = run_dir / name
    log.write_text("a line\n")
    when = log.stat().st_mtime - age_seconds
    os.utime(log, (when, when))
    return log


def test_a_start_keeps_the_most_recent_stopped_logs_and_every_running_ones(
    tmp_path: Path,
) -> None:
    stopped = [_log(tmp_path, f"svc-{1000 + n}.log", age_seconds=100 - n) for n in range(12)]
    # the oldest and the newest stopped instance each have a log they moved aside
    for log in (stopped[0], stopped[-1]):
        _log(tmp_path, log.name.replace(".log", ".previous.log"), age_seconds=0)
    running = _log(tmp_path, "svc-2000.log", age_seconds=1000)
    (tmp_path / "svc-2000.pid").write_text("1\n")
    alike = _log(tmp_path, "svc-extra-3000.log", age_seconds=1000)

    ManagedProcess(_spec(), tmp_path).start()

    kept = sorted(path.name for path in tmp_path.glob("*.log"))
    assert kept == sorted(
        [log.name for log in stopped[-KEPT_LOGS:]]
        + [stopped[-1].name.replace(".log", ".previous.log")]
        + [running.name, alike.name, "svc-5000.log"]
    )


def _spec() -> ProcessSpec:
    """A service on port 5000 that exits at once."""
    return ProcessSpec(
        name="svc",
        command=[shutil.which("true") or "true"],
        env={},
        port=5000,
        health_url="http://127.0.0.1:5000/",
    )


def test_a_start_appends_to_its_log_until_it_outgrows_the_limit_then_begins_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(processes, "LOG_ROTATE_BYTES", 100)
    log, previous = tmp_path / "svc-5000.log", tmp_path / "svc-5000.previous.log"
    previous.write_text("the log before the last\n")
    log.write_text("a first run's line\n")

    # a start under the limit appends: what was said before the restart stays
    ManagedProcess(_spec(), tmp_path).start()
    assert log.read_text() == "a first run's line\n"
    assert previous.read_text() == "the log before the last\n"

    # one over it moves the log aside, replacing the older one, and begins a new one
    log.write_text("x" * 101)
    ManagedProcess(_spec(), tmp_path).start()
    assert previous.read_text() == "x" * 101
    assert log.read_text() == ""


def test_make_logs_names_a_services_earlier_log_beside_its_log(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    earlier = run_dir / "localstack-4566.previous.log"
    earlier.write_text("a line from before the log was moved aside\n")
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(tmp_path), "HARNESS_RUNTIME": "host"}
    env.pop("AWS_ENDPOINT_URL", None)

    done = run_harness("logs", env=env, timeout=60)

    assert done.returncode == 0, done.stdout + done.stderr
    shown = done.stdout
    lines = [" ".join(line.split()) for line in shown.splitlines()]
    localstack = lines.index(f"localstack {run_dir / 'localstack-4566.log'}")
    assert lines[localstack + 1] == f"{earlier} (its earlier lines)"
    assert not any("agent-8080.previous.log" in line for line in lines)  # none for the agent
