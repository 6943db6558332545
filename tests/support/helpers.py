"""Helpers the test tiers share: one bounded wait, a free port, the harness CLI as users run it,
a boto3 client with test credentials."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import boto3

from harness import commands
from harness.polling import PollTimeout, poll
from harness.runtime.ports import free_port, free_ports
from harness.settings import REPO_ROOT

__all__ = [
    "PollTimeout",
    "client_with_test_credentials",
    "free_port",
    "free_ports",
    "run_command",
    "run_harness",
    "wait_for",
]


# The installed pytest plug-ins no test run of this project uses, which pyproject.toml's addopts
# leave out, for the pytest runs inside tests that do not read it (pytester's): hypothesis's
# imports hypothesis at each session's end (~0.15 CPU-s of a small run), anyio's only adds a
# marker, typeguard's imports unittest.mock for an option nobody passes.
UNUSED_PYTEST_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:typeguard")


def wait_for(
    check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05, **options: Any
) -> Any:
    """``harness.polling.poll`` with the tests' defaults: positional bound and ``what``, a short
    interval, and an OSError (a service not listening yet) counted as "not yet". Raises
    ``PollTimeout`` naming ``what``, the bound and the last value or error seen."""
    options.setdefault("retry_on", OSError)
    return poll(check, timeout=timeout, what=what, interval=interval, **options)


def run_harness(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    cwd: Path = REPO_ROOT,
) -> subprocess.CompletedProcess[str]:
    """``python -m harness ARGS`` in ``cwd`` (the repository), its output captured as text;
    ``env`` is the whole environment (default: this process's). The exit status is the
    caller's to assert; a run past ``timeout`` raises with the tail of its output."""
    return run_command([sys.executable, "-m", "harness", *args], env=env, timeout=timeout, cwd=cwd)


def run_command(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    cwd: Path = REPO_ROOT,
) -> subprocess.CompletedProcess[str]:
    """``command`` as a user runs it, through the harness's one command wrapper, unchecked:
    output captured as text, the exit status left to the test's assertions."""
    return commands.run(
        command,
        what=f"`{shlex.join(command)}`",
        cwd=cwd,
        env=os.environ.copy() if env is None else env,
        timeout=timeout,
        check=False,
    )


def client_with_test_credentials(
    service: str, endpoint_url: str | None = None, **options: Any
) -> Any:
    """A boto3 client of ``service`` in us-east-1 with LocalStack's test credentials, for a
    stub, moto or an emulator at ``endpoint_url`` (never the shell's AWS set-up)."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        **options,
    )


PLUGIN_DIR = REPO_ROOT / "harness/localstack_host_lambda/localstack_host_lambda"


def plugin_module_with_stand_in_hooks(monkeypatch: Any, name: str) -> types.ModuleType:
    """The LocalStack plug-in's module ``name`` (``footprint``, say), loaded with a stand-in
    for LocalStack's hooks whose decorators return the function: LocalStack lives in its own
    virtualenv, not in the project's."""
    hook = lambda: lambda function: function  # noqa: E731 - a decorator factory
    hooks = types.SimpleNamespace(on_infra_start=hook, on_runtime_create=hook)
    monkeypatch.setitem(sys.modules, "localstack", types.SimpleNamespace())
    monkeypatch.setitem(sys.modules, "localstack.runtime", types.SimpleNamespace(hooks=hooks))
    if name != "footprint":  # the other hook modules take footprint's import helpers
        monkeypatch.setitem(sys.modules, "localstack_host_lambda", types.ModuleType("plug-in"))
        footprint = plugin_module_with_stand_in_hooks(monkeypatch, "footprint")
        monkeypatch.setitem(sys.modules, "localstack_host_lambda.footprint", footprint)
    spec = importlib.util.spec_from_file_location(f"localstack_{name}", PLUGIN_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def modules_loaded_after(code: str, modules: Sequence[str], **env: str) -> dict[str, bool]:
    """Which of ``modules`` a fresh interpreter has imported once ``code`` ends (a SystemExit
    from it ends it, as a command line's would): what a start imports, not how long it takes."""
    probe = (
        f"import sys\ntry:\n{textwrap.indent(code, '    ')}\nexcept SystemExit:\n    pass\n"
        f"import json; print(json.dumps({{m: m in sys.modules for m in {tuple(modules)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, bool] = json.loads(result.stdout.splitlines()[-1])
    return loaded
