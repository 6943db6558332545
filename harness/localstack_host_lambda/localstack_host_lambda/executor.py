"""A LocalStack ``RuntimeExecutor`` whose execution environments are host processes.

Each environment is one interpreter running ``bootstrap.py`` on its own loopback port. It
speaks the same protocol as LocalStack's Docker executor (see LocalStack's
``executor_endpoint.py``): it reports ``/status/<id>/ready`` once the handler is imported,
receives ``POST /invoke`` and posts logs, then the response or the error, back to LocalStack.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import tempfile
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
ZYGOTE_READY = b"ready\n"  # what bootstrap.py's zygote writes once it listens
HOST = "127.0.0.1"
LOG_LINES_KEPT = 2000
# Variables that differ between environments of one function (not part of a zygote's key).
_PER_ENVIRONMENT = (
    "LOCALSTACK_RUNTIME_",
    "HOST_LAMBDA_LISTEN_PORT",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
)
# Environment of the LocalStack process that must not leak into a function's process.
_INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


def python_path(runtime: str, code_dir: str, layer_dirs: list[str]) -> str:
    """The function's import path, as Lambda orders it: the function's code, then its layers'
    ``python/lib/pythonX.Y/site-packages`` and ``python`` folders (Lambda merges the layers
    into /opt in order, a later one's files winning: so the last layer comes first here),
    then the interpreter's own packages (the runtime's boto3, which a layer's shadows)."""
    version = runtime.removeprefix("python")
    entries = [code_dir]
    for layer in reversed(layer_dirs):
        entries += [f"{layer}/python/lib/python{version}/site-packages", f"{layer}/python"]
    return os.pathsep.join(entries)


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


class Zygote:
    """One pre-imported interpreter per function version: environments are forked from it.

    Forking skips interpreter start-up and the handler's imports (boto3 ...), so a burst of
    concurrent invocations gets its environments in milliseconds and shares memory pages.
    """

    START_TIMEOUT = 30.0

    def __init__(self, interpreter: str, code_dir: str, env: dict[str, str]) -> None:
        # The socket goes in a fresh directory only this user can enter (mkdtemp, mode 0700):
        # no other process can take its name first, or connect to it.
        self.socket_dir = tempfile.mkdtemp(prefix="host-lambda-")
        self.socket_path = os.path.join(self.socket_dir, "zygote.sock")
        # The zygote says "ready" on a pipe once it listens, and the pipe closes if it dies
        # first: one bounded blocking read, no polling for the socket file.
        ready_read, ready_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [interpreter, str(BOOTSTRAP), "--zygote", self.socket_path, str(ready_write)],
                cwd=code_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                pass_fds=(ready_write,),
            )
        finally:
            os.close(ready_write)
        with os.fdopen(ready_read, "rb") as ready:
            answered, _, _ = select.select([ready], [], [], self.START_TIMEOUT)
            said = ready.readline() if answered else b""
        if said != ZYGOTE_READY:
            self.stop()
            raise LambdaRuntimeException("the host Lambda zygote did not start")

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, env: dict[str, str]) -> int:
        """Fork an environment; returns its pid once it listens for invocations (its
        readiness), or raises if it ended first."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(self.START_TIMEOUT)
            connection.connect(self.socket_path)
            connection.sendall(json.dumps(env).encode() + b"\n")
            answer = connection.makefile("rb").readline().strip()
        if not answer.isdigit():
            raise LambdaRuntimeException("the forked host Lambda environment did not start")
        return int(answer)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        with contextlib.suppress(OSError):
            os.rmdir(self.socket_dir)


_ZYGOTES: dict[tuple[str, str, str], Zygote] = {}
_ZYGOTES_LOCK = threading.Lock()


def zygote_for(interpreter: str, code_dir: str, env: dict[str, str]) -> Zygote | None:
    """The zygote for this code and configuration, started on first use; None if it fails
    (an import error, say: the plain start path then reports it to LocalStack)."""
    function_env = {k: v for k, v in env.items() if not k.startswith(_PER_ENVIRONMENT)}
    key = (interpreter, code_dir, json.dumps(function_env, sort_keys=True))
    with _ZYGOTES_LOCK:
        zygote = _ZYGOTES.get(key)
        if zygote is None or not zygote.alive():
            try:
                zygote = Zygote(interpreter, code_dir, env)
            except LambdaRuntimeException as error:
                LOG.debug("code=<%s>, error=<%s> | no zygote", code_dir, error)
                return None
            _ZYGOTES[key] = zygote
        return zygote


def stop_zygotes(code_dir: str) -> None:
    with _ZYGOTES_LOCK:
        for key in [k for k in _ZYGOTES if k[1] == code_dir]:
            _ZYGOTES.pop(key).stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class HostRuntimeExecutor(RuntimeExecutor):
    """One Lambda execution environment as a host process."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = _free_port()
        self.executor_endpoint = ExecutorEndpoint(
            id, container_address=HOST, container_port=self.port
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.forked_pid: int | None = None
        self._log_lines: deque[str] = deque(maxlen=LOG_LINES_KEPT)

    def start(self, env_vars: dict[str, str]) -> None:
        interpreter = interpreter_for_runtime(self.function_version.config.runtime)
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        # LocalStack's community edition stores layers but puts them in no environment (its
        # Docker executor mounts none): their unzipped code goes on the import path here.
        layer_dirs = [
            str(layer.code.get_unzipped_code_location())
            for layer in self.function_version.config.layers
            if layer.code
        ]
        env = {name: os.environ[name] for name in _INHERITED_ENV if name in os.environ}
        env.update({name: str(value) for name, value in env_vars.items()})
        env.update(
            {
                "LAMBDA_TASK_ROOT": code_dir,
                "PYTHONPATH": python_path(
                    self.function_version.config.runtime or "", code_dir, layer_dirs
                ),
                "PYTHONUNBUFFERED": "1",
                "HOST_LAMBDA_LISTEN_PORT": str(self.port),
            }
        )
        self.executor_endpoint.start()
        LOG.debug("executor=<%s>, port=<%s> | starting host Lambda process", self.id, self.port)
        zygote = zygote_for(interpreter, code_dir, env)
        if zygote is not None:
            # The fork answers once it listens: it is ready, with no status call to LocalStack.
            self.forked_pid = zygote.spawn(env)
            startup = self.executor_endpoint.startup_future
            if startup is not None and not startup.done():
                startup.set_result(True)
            return
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
        if self.forked_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.forked_pid, signal.SIGTERM)
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
        for layer in function_version.config.layers:
            if layer.code:
                layer.code.prepare_for_execution()  # unzipped once per layer version

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Stop the version's zygotes; LocalStack owns the unpacked code."""
        if function_version.config.code:
            stop_zygotes(str(function_version.config.code.get_unzipped_code_location()))

    @classmethod
    def validate_environment(cls) -> bool:
        return True
