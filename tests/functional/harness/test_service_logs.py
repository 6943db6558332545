"""A service's start keeps the logs of its instances on other ports from piling up in
.runtime/run (each runtime a test or a bench starts on free ports left one: ~50 per make
test, hundreds in a checkout used every day), but never removes a running instance's log."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.runtime.processes import KEPT_LOGS, ManagedProcess, ProcessSpec


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
    running = _log(tmp_path, "svc-2000.log", age_seconds=1000)
    (tmp_path / "svc-2000.pid").write_text("1\n")
    alike = _log(tmp_path, "svc-extra-3000.log", age_seconds=1000)
    spec = ProcessSpec(
        name="svc",
        command=[shutil.which("true") or "true"],
        env={},
        port=5000,
        health_url="http://127.0.0.1:5000/",
    )

    ManagedProcess(spec, tmp_path).start()

    kept = sorted(path.name for path in tmp_path.glob("*.log"))
    assert kept == sorted(
        [log.name for log in stopped[-KEPT_LOGS:]] + [running.name, alike.name, "svc-5000.log"]
    )
