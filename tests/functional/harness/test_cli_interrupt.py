"""Ctrl-C ends ``python -m harness`` with status 130 and one word, also when it lands in code
Python runs from a string (a dataclass's generated ``__init__``, say): CPython then marks the
KeyboardInterrupt as unhandled although the CLI caught it, and under ``-m`` killed the process
with SIGINT at exit (status -2, seen in `make test` when a test's Ctrl-C came early)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.helpers import REPO_ROOT, run_command

# Run as ``python -m``, as the Makefile and users run the CLI: its command is interrupted in
# code run from a string.
INTERRUPTED_IN_EXEC = """
import sys
from harness import cli
cli._run = lambda args: exec("raise KeyboardInterrupt")
sys.exit(cli.main(["status"]))
"""


def test_ctrl_c_in_code_run_from_a_string_exits_130(tmp_path: Path) -> None:
    (tmp_path / "interrupted_cli.py").write_text(INTERRUPTED_IN_EXEC)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(tmp_path)])}
    run = run_command([sys.executable, "-m", "interrupted_cli"], env=env, timeout=60, cwd=tmp_path)
    assert run.returncode == 130, run.stdout + run.stderr
    assert "interrupted" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
