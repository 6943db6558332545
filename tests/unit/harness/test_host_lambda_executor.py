"""The host Lambda executor's zygote socket lives in a private directory (no tempfile.mktemp:
another process could take that name between choosing it and binding it); a function's layers
are on its import path where Lambda puts them."""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
import types
from pathlib import Path

import pytest

from harness.settings import REPO_ROOT

EXECUTOR = REPO_ROOT / "harness/localstack_host_lambda/localstack_host_lambda/executor.py"


@pytest.fixture
def executor(monkeypatch, tmp_path):
    """The executor module with stand-ins for the LocalStack modules it imports (LocalStack
    lives in its own virtualenv, not in the project's)."""
    names = {
        "localstack": {"config": types.SimpleNamespace()},
        "localstack.services": {},
        "localstack.services.lambda_": {},
        "localstack.services.lambda_.invocation": {},
        "localstack.services.lambda_.invocation.executor_endpoint": {
            "ExecutorEndpoint": object,
            "StatusErrorException": Exception,
        },
        "localstack.services.lambda_.invocation.lambda_models": {
            "FunctionVersion": object,
            "InvocationResult": object,
        },
        "localstack.services.lambda_.invocation.runtime_executor": {
            "LambdaRuntimeException": RuntimeError,
            "RuntimeExecutor": object,
        },
    }
    for name, attributes in names.items():
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**attributes))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    spec = importlib.util.spec_from_file_location("host_lambda_executor", EXECUTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeZygoteProcess:
    """What ``bootstrap.py --zygote SOCKET READY_FD`` does first: bind the socket (here: create
    it), then say ready on the pipe."""

    def __init__(self, command, **kwargs):
        socket_path, ready_fd = command[-2], int(command[-1])
        Path(socket_path).touch()
        os.write(ready_fd, b"ready\n")
        self.returncode = None

    def poll(self):
        return self.returncode

    def terminate(self):
        self.returncode = -15


def test_the_zygote_socket_is_in_a_fresh_private_directory_removed_on_stop(
    executor, tmp_path, monkeypatch
):
    monkeypatch.setattr(executor.subprocess, "Popen", FakeZygoteProcess)
    zygote = executor.Zygote("python3.12", str(tmp_path), {})
    socket_dir = Path(zygote.socket_path).parent
    assert socket_dir.parent == tmp_path
    assert socket_dir.name.startswith("host-lambda-")
    mode = os.stat(socket_dir).st_mode
    assert stat.S_IMODE(mode) == 0o700
    assert os.stat(socket_dir).st_uid == os.getuid()
    other = executor.Zygote("python3.12", str(tmp_path), {})
    assert Path(other.socket_path).parent != socket_dir  # one directory per zygote
    zygote.stop()
    assert not socket_dir.exists()
    other.stop()
    assert list(tmp_path.glob("host-lambda-*")) == []


def test_layers_come_after_the_code_and_before_the_interpreters_packages(executor):
    # As Lambda: /var/task, then /opt/python/lib/python3.12/site-packages and /opt/python (the
    # layers merged, a later one winning), then the runtime's own packages (not on PYTHONPATH).
    path = executor.python_path("python3.12", "/code", ["/layer-a", "/layer-b"])
    assert path.split(os.pathsep) == [
        "/code",
        "/layer-b/python/lib/python3.12/site-packages",
        "/layer-b/python",
        "/layer-a/python/lib/python3.12/site-packages",
        "/layer-a/python",
    ]
    assert executor.python_path("python3.12", "/code", []) == "/code"
