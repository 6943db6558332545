"""pytest plug-in loaded before any other (first ``-p`` in pyproject.toml's addopts): with
``PYTHONDONTWRITEBYTECODE`` in the shell, the run and the Python processes it starts (xdist
workers, the harness's CLI, a pytest inside a test) keep their bytecode in the runtime's cache
instead of compiling every module again on every run (``harness.bytecode``)."""

from __future__ import annotations

from harness.bytecode import keep_in_cache_here
from harness.settings import Settings

keep_in_cache_here(Settings().runtime_dir)
