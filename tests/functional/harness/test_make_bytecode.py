"""With PYTHONDONTWRITEBYTECODE in the shell, a Python process make starts keeps its bytecode in
the runtime's cache from its first import: a tier's pytest and pluggy, imported before the test
run's own plug-in (harness/pytest_bytecode.py) chooses the cache, were compiled at every run.
A shell without the variable is left as it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.settings import REPO_ROOT

# A make target of the checkout's Makefile, added for the test only (--eval).
# Its Python's first import of a module of its own (keyword: small, imports nothing) keeps the
# module's bytecode.
PROBE = 'probe: ; @$(PY) -c "import sys, keyword; print(sys.pycache_prefix)"'


def run_probe(runtime_dir: Path, **shell: str) -> str:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(runtime_dir), **shell}
    env.pop("PYTHONPYCACHEPREFIX", None)  # this run's own choice
    if "PYTHONDONTWRITEBYTECODE" not in shell:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", f"--eval={PROBE}", "probe"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_pythons_make_starts_keep_their_bytecode_from_their_first_import(tmp_path):
    cache = tmp_path / "cache" / "pycache"
    assert run_probe(tmp_path, PYTHONDONTWRITEBYTECODE="1") == str(cache)
    kept = [path.name for path in cache.rglob("*.pyc")]
    assert f"keyword.{sys.implementation.cache_tag}.pyc" in kept, kept


def test_a_shell_that_writes_bytecode_is_left_as_it_is(tmp_path):
    assert run_probe(tmp_path) == "None"
    assert not (tmp_path / "cache").exists()
