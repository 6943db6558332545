"""Ctrl-C during a synth ends the CDK app at once and quietly: no traceback through the CDK's
imports, no jsii broken pipe at exit, no jsii child and no temporary file left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from harness.settings import REPO_ROOT
from tests.support.helpers import wait_for


def test_ctrl_c_ends_a_synth_quietly(tmp_path: Path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    app = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT / "infra",
        env={**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out"), "TMPDIR": str(temporary)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    try:
        # jsii's node child runs: the app is inside the CDK, where Ctrl-C used to print traces
        children = wait_for(
            lambda: psutil.Process(app.pid).children(), timeout=60, what="jsii's node child"
        )
        app.send_signal(signal.SIGINT)
        _, stderr = app.communicate(timeout=60)
    finally:
        app.kill()
    assert app.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    wait_for(
        lambda: not any(child.is_running() for child in children),
        timeout=30,
        what="jsii's node child to end with the app",
    )
    # jsii's unpacked runtime and its node child's folder went with the app
    assert sorted(p.name for p in temporary.iterdir()) == []
