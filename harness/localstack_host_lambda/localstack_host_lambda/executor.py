"""A LocalStack ``RuntimeExecutor`` whose execution environments are host processes.

Each environment is one interpreter running ``bootstrap.py`` on its own loopback port. It
speaks the same protocol as LocalStack's Docker executor (see LocalStack's
``executor_endpoint.py``): it reports ``/status/<id>/ready`` once the handler is imported,
receives ``POST /invoke`` and posts logs, then the response or the error, back to LocalStack.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import threading
from collections import deque
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
HOST = "127.0.0.1"
LOG_LINES_KEPT = 2000
# Environment of the LocalStack process that must not leak into a function's process.
_INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


def interpreter_for_runtime(runtime: str | None) -> str:
    """The host interpreter configured for a Lambda runtime such as ``python3.12``."""
    if not runtime or not runtime.startswith("python"):
        raise LambdaRuntimeException(
            f"runtime {runtime!r} is not supported by the host Lambda executor "
            "(only pythonX.Y zip functions run without Docker)"
        )
    variable = "HOST_LAMBDA_PYTHON_" + runtime.removeprefix("python").replace(".", "_")
    interpreter = os.environ.get(variable)
    if not interpreter or not Path(interpreter).exists():
        raise LambdaRuntimeException(
            f"no host interpreter for {runtime}: set {variable} to a {runtime} executable "
            f"(currently {interpreter!r})"
        )
    return interpreter


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class HostRuntimeExecutor(RuntimeExecutor):
    """One Lambda execution environment as a host process."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = _free_port()
        self.executor_endpoint = ExecutorEndpoint(
            id, container_address=HOST, container_port=self.port
        )
        self.process: subprocess.Popen[bytes] | None = None
        self._log_lines: deque[str] = deque(maxlen=LOG_LINES_KEPT)

    def start(self, env_vars: dict[str, str]) -> None:
        interpreter = interpreter_for_runtime(self.function_version.config.runtime)
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        env = {name: os.environ[name] for name in _INHERITED_ENV if name in os.environ}
        env.update({name: str(value) for name, value in env_vars.items()})
        env.update(
            {
                "LAMBDA_TASK_ROOT": code_dir,
                "PYTHONPATH": code_dir,
                "PYTHONUNBUFFERED": "1",
                "HOST_LAMBDA_LISTEN_PORT": str(self.port),
            }
        )
        self.executor_endpoint.start()
        LOG.debug("executor=<%s>, port=<%s> | starting host Lambda process", self.id, self.port)
        self.process = subprocess.Popen(
            [interpreter, str(BOOTSTRAP)],
            cwd=code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._pump_output, daemon=True, name=f"lambda-{self.id}").start()
        self.executor_endpoint.wait_for_startup()

    def _pump_output(self) -> None:
        """Collect the process output; fail a pending startup if the process dies first."""
        process = self.process
        if process is None or process.stdout is None:
            return
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self._log_lines.append(line)
            LOG.debug("lambda <%s> | %s", self.id, line)
        code = process.wait()
        startup = self.executor_endpoint.startup_future
        if startup is not None and not startup.done():
            message = f"host Lambda process exited with code {code} before it was ready"
            startup.set_exception(StatusErrorException(message, payload=self.get_logs().encode()))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        try:
            self.executor_endpoint.shutdown()
        except Exception as error:  # noqa: BLE001 - shutdown is best effort, as in LocalStack
            LOG.debug("executor=<%s>, error=<%s> | endpoint shutdown failed", self.id, error)

    def get_address(self) -> str:
        return HOST

    def get_endpoint_from_executor(self) -> str:
        return HOST

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{HOST}:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        return "\n".join(self._log_lines)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        interpreter_for_runtime(function_version.config.runtime)
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing to clean: LocalStack owns the unpacked code."""

    @classmethod
    def validate_environment(cls) -> bool:
        return True
