"""Lambda runtime loop for one host execution environment (stdlib only).

Started by ``HostRuntimeExecutor`` in the function's own interpreter, with the function's
environment (``_HANDLER``, ``LOCALSTACK_RUNTIME_ENDPOINT``, ``LOCALSTACK_RUNTIME_ID``,
``AWS_LAMBDA_FUNCTION_TIMEOUT``, ``HOST_LAMBDA_LISTEN_PORT`` ...). It imports the handler,
reports ready (or the import error) to LocalStack, then serves ``POST /invoke`` one at a time.
An environment forked from a zygote reports ready to the executor instead, once it listens.
"""

from __future__ import annotations

import ctypes
import gc
import http.client
import importlib
import io
import json
import logging
import os
import signal
import socket
import sys
import sysconfig
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TextIO


def runtime_id() -> str:
    return os.environ["LOCALSTACK_RUNTIME_ID"]


def timeout_seconds() -> float:
    return float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))


class RuntimeConnection:
    """One kept-alive HTTP connection to LocalStack's runtime endpoint per environment (a new
    connection per post cost LocalStack an accept and a thread each time, in a burst).

    A connection idle for longer than ``MAX_IDLE`` is replaced before use, well inside the
    server's keep-alive timeout (hypercorn: 5 s), so a post is never sent on a connection the
    server may be closing, and none is ever sent twice.
    """

    MAX_IDLE = 2.0  # seconds

    def __init__(self) -> None:
        self._connection: http.client.HTTPConnection | None = None
        self._used = 0.0
        self._lock = threading.Lock()

    def post(self, path: str, body: bytes) -> None:
        endpoint = urllib.parse.urlsplit(os.environ["LOCALSTACK_RUNTIME_ENDPOINT"])
        with self._lock:
            if self._connection is None or time.monotonic() - self._used > self.MAX_IDLE:
                self.close()
                self._connection = http.client.HTTPConnection(
                    endpoint.hostname or "127.0.0.1", endpoint.port, timeout=30
                )
            try:
                self._connection.request(
                    "POST",
                    f"{endpoint.path}{path}",
                    body=body,
                    headers={"Content-Type": "application/json"},
                )
                response = self._connection.getresponse()
                response.read()
            except BaseException:
                self.close()
                raise
            self._used = time.monotonic()
            if response.status >= 400:
                raise RuntimeError(f"LocalStack answered {response.status} to POST {path}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


RUNTIME = RuntimeConnection()


def post(path: str, body: bytes) -> None:
    RUNTIME.post(path, body)


def error_body(error: BaseException, error_type: str | None = None) -> bytes:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    return json.dumps(
        {
            "errorMessage": str(error),
            "errorType": error_type or type(error).__name__,
            "stackTrace": traceback.format_list(frames),
        }
    ).encode()


class LambdaContext:
    """The subset of the Lambda context object handlers use."""

    def __init__(self, request_id: str, function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline = time.monotonic() + timeout_seconds()

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InvocationOutput(io.TextIOBase):
    """stdout/stderr of the handler: echoed to the process output and kept for CloudWatch."""

    def __init__(self, echo: TextIO) -> None:
        self.echo = echo
        self.buffer_text: list[str] = []

    def write(self, text: str) -> int:
        self.buffer_text.append(text)
        self.echo.write(text)
        return len(text)

    def flush(self) -> None:
        self.echo.flush()

    def take(self) -> str:
        text, self.buffer_text = "".join(self.buffer_text), []
        return text


OUTPUT = InvocationOutput(sys.__stdout__ or sys.stdout)


def configure_logging() -> None:
    """Like the managed runtime: the root logger writes through stdout, level from the env.
    Once, before the handler's import (a level the handler sets at import is kept, as in
    Lambda); forked environments inherit it."""
    handler = logging.StreamHandler(OUTPUT)
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "WARNING").upper())
    sys.stdout = sys.stderr = OUTPUT


def load_handler() -> Any:
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    return getattr(module, function_name)


def run_invocation(handler: Any, invocation: dict[str, Any]) -> None:
    request_id = invocation["invoke-id"]
    context = LambdaContext(request_id, invocation.get("invoked-function-arn", ""))
    outcome: dict[str, Any] = {}
    OUTPUT.write(f"START RequestId: {request_id}\n")

    def call() -> None:
        try:
            outcome["result"] = handler(json.loads(invocation.get("payload") or "null"), context)
        except BaseException as error:  # noqa: BLE001 - every failure is reported to Lambda
            outcome["error"] = error

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    limit = timeout_seconds()
    worker.join(limit)
    OUTPUT.write(f"END RequestId: {request_id}\n")
    if worker.is_alive():
        message = f"Task timed out after {limit:.2f} seconds"
        OUTPUT.write(f"{message}\n")
        body, path = error_body(TimeoutError(message), "Sandbox.Timedout"), "error"
    elif "error" in outcome:
        traceback.print_exception(outcome["error"], file=OUTPUT)
        body, path = error_body(outcome["error"]), "error"
    else:
        try:
            body, path = json.dumps(outcome.get("result")).encode(), "response"
        except (TypeError, ValueError) as error:
            body, path = error_body(error, "Runtime.MarshalError"), "error"
    post(f"/invocations/{request_id}/logs", json.dumps({"logs": OUTPUT.take()}).encode())
    post(f"/invocations/{request_id}/{path}", body)


HANDLER: list[Any] = []  # the imported handler function, set once by main()
INVOKE_LOCK = threading.Lock()  # one invocation at a time per environment, as in Lambda


class InvokeServer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        invocation = json.loads(self.rfile.read(length))
        self.send_response(202)
        self.end_headers()
        threading.Thread(target=self._run, args=(invocation,), daemon=True).start()

    def _run(self, invocation: dict[str, Any]) -> None:
        with INVOKE_LOCK:
            run_invocation(HANDLER[0], invocation)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request access logs."""


def listen(handler: Any) -> HTTPServer:
    """This execution environment's invoke server, listening (its env says where)."""
    HANDLER.append(handler)
    return HTTPServer(("127.0.0.1", int(os.environ["HOST_LAMBDA_LISTEN_PORT"])), InvokeServer)


def serve(handler: Any) -> None:
    """Serve invocations for this execution environment, once ready is reported."""
    server = listen(handler)
    post(f"/status/{runtime_id()}/ready", b"{}")
    server.serve_forever()


def main() -> None:
    configure_logging()  # before the import, as in Lambda: the handler may set its level
    try:
        handler = load_handler()
    except BaseException as error:  # noqa: BLE001 - an import failure is an init error
        traceback.print_exception(error, file=OUTPUT)
        post(f"/status/{runtime_id()}/error", error_body(error, "Runtime.ImportModuleError"))
        sys.exit(1)
    serve(handler)


# Modules an HTTP client imports on its first request (http.client encodes the host name with
# the IDNA codec: encodings.idna, stringprep, unicodedata). Imported in the zygote, they are
# shared; imported in each environment at its first invocation, each had its own (~1 MB).
PRELOADED_MODULES = ("encodings.idna",)


def preload() -> None:
    for name in PRELOADED_MODULES:
        importlib.import_module(name)


# PEP 683's immortal reference count (CPython 3.12 and 3.13, 64-bit, GIL builds): an object
# whose count's low 32 bits read as negative is never counted up or down, so reading it writes
# nothing to its page.
IMMORTAL_REFCOUNT = 0xFFFFFFFF


def immortals_supported() -> bool:
    """Whether this interpreter keeps PEP 683's 32-bit immortal marker in ``ob_refcnt``, the
    first word of every object (not a debug, free-threaded or big-endian build)."""
    return (
        sys.implementation.name == "cpython"
        and (3, 12) <= sys.version_info[:2] <= (3, 13)
        and sys.maxsize > 2**32
        and sys.byteorder == "little"
        and not hasattr(sys, "gettotalrefcount")  # a debug build's object header differs
        and not sysconfig.get_config_var("Py_GIL_DISABLED")
    )


def immortalize(roots: list[Any]) -> int:
    """Make every object reachable from ``roots`` immortal; returns how many it changed.

    A forked environment touches thousands of the zygote's objects when it runs the handler,
    and each reference it takes or drops writes the object's count: the kernel then copies the
    whole page for that child (gc.freeze keeps the collector's writes off them; the counts
    remain). Immortal objects are never counted, so those pages stay shared. Only for the
    zygote, which keeps all of them for its life anyway: an immortal object is never freed.
    """
    changed = 0
    stack = list(roots)
    while stack:
        obj = stack.pop()
        refcount = ctypes.c_uint32.from_address(id(obj))
        if refcount.value & 0x80000000:  # immortal already (or seen)
            continue
        refcount.value = IMMORTAL_REFCOUNT
        changed += 1
        stack.extend(gc.get_referents(obj))
    return changed


def trim_heap() -> None:
    """Hand glibc's free heap pages back to the system (nothing where libc has no
    malloc_trim): what the imports and ``immortalize`` freed is then in no environment's RSS."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)


def zygote_main(socket_path: str, ready_fd: int) -> None:
    """Import the handler once, then fork a ready-to-serve environment per request.

    A request is one JSON line, the environment's variables; the answer is the child's pid,
    sent by the child itself once it listens: that answer is its readiness (no HTTP round trip
    through LocalStack's gateway), and no answer (the connection closes) is its failure.
    Children stay in LocalStack's process group, so stopping LocalStack stops them too.
    """
    # No collection in the zygote: one would leave freed holes across its pages that a child's
    # allocations then fill, copying those pages (Python's advice for gc.freeze and fork).
    gc.disable()
    configure_logging()  # before the import, as in Lambda: the handler may set its level
    handler = load_handler()  # an import error ends the zygote: the executor falls back
    preload()
    if immortals_supported():
        immortalize([*gc.get_objects(), *sys.modules.values()])
    trim_heap()
    # Move everything imported so far out of the collector's reach: a collection in a child
    # would otherwise write to (and so copy) every page holding a tracked object. Collections
    # (here and in the children) only look at what is made from now on.
    gc.freeze()
    gc.enable()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(64)
    os.write(ready_fd, b"ready\n")  # the executor waits for this line (EOF: we died)
    os.close(ready_fd)  # not inherited by the environments forked below
    while True:
        connection, _ = server.accept()
        with connection:
            request = connection.makefile("rb").readline()
            env = json.loads(request)
            pid = os.fork()
            if pid == 0:
                server.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.environ.clear()
                os.environ.update(env)
                try:
                    invoke_server = listen(handler)
                    connection.sendall(f"{os.getpid()}\n".encode())
                    connection.close()
                    invoke_server.serve_forever()
                finally:
                    os._exit(1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--zygote":
        zygote_main(sys.argv[2], int(sys.argv[3]))
    else:
        main()
