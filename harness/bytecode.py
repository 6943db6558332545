"""Bytecode kept out of the sources instead of thrown away.

With ``PYTHONDONTWRITEBYTECODE`` in the shell, Python compiles every module it imports on
every start: the CDK app's aws-cdk-lib modules (megabytes of source each), and a test run's
pytest, hypothesis, moto, boto3 and the rewritten test modules (seconds per tier). The CDK
synth and the test runs keep their bytecode in the runtime's cache instead
(``PYTHONPYCACHEPREFIX``): nothing is written beside the sources, as the variable asks, and
nothing is compiled twice. A shell without the variable is left as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

DONT_WRITE_BYTECODE = "PYTHONDONTWRITEBYTECODE"
PYCACHE_PREFIX = "PYTHONPYCACHEPREFIX"


def cache_dir(runtime_dir: Path) -> Path:
    return runtime_dir / "cache" / "pycache"


def kept_in_cache(env: Mapping[str, str], runtime_dir: Path) -> dict[str, str]:
    """``env`` for a Python process that keeps its bytecode in the runtime's cache when
    ``env`` says not to write it beside the sources (a prefix already chosen is kept)."""
    kept = dict(env)
    if kept.pop(DONT_WRITE_BYTECODE, None):
        kept.setdefault(PYCACHE_PREFIX, str(cache_dir(runtime_dir)))
    return kept


def keep_in_cache_here(runtime_dir: Path) -> None:
    """The same for this interpreter (from its next import on) and the processes it starts."""
    if not sys.dont_write_bytecode:
        return
    prefix = sys.pycache_prefix or str(cache_dir(runtime_dir))
    os.environ.pop(DONT_WRITE_BYTECODE, None)
    os.environ[PYCACHE_PREFIX] = prefix
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False
