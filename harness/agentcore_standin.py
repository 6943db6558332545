"""Local stand-in for Bedrock AgentCore Runtime's InvokeAgentRuntime API (stdlib only).

Part of the harness, not of the product: it emulates AWS for the local runtime, so it is not
in the agent's production image (docker-compose.yml runs it from the image's ``local`` target).

LocalStack has no AgentCore, so locally the invoker's ``bedrock-agentcore`` client is pointed
here (``AWS_ENDPOINT_URL_BEDROCK_AGENTCORE``). It accepts what botocore sends,
``POST /runtimes/{url-encoded agentRuntimeArn}/invocations?qualifier=...`` with the session id
in the ``X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`` header and the raw payload as the body,
and forwards it to the agent's ``POST /invocations`` with the same header, as AgentCore does.
The agent's answer comes back with status 200, its ``Content-Type`` and the session header.

Errors come back in the API's shape (``X-Amzn-ErrorType: <Name>`` + ``{"message": ...}``), with
the codes botocore's service model gives them, so boto3 raises (and retries) them as in AWS:
- session id missing or shorter than ``contract.MIN_SESSION_ID_CHARS`` (33) characters, or the
  agent answers 4xx:
  400 ``ValidationException``;
- the agent answers 5xx: 424 ``RuntimeClientError`` (what AgentCore reports for a failing
  runtime);
- the agent is unreachable or does not answer in time: 500 ``InternalServerException`` (the
  operation's only server fault, retried by botocore).

Environment: ``AGENTCORE_STANDIN_HOST`` (127.0.0.1), ``AGENTCORE_STANDIN_PORT`` (8090),
``AGENT_URL`` (http://127.0.0.1:8080), ``AGENTCORE_STANDIN_TIMEOUT`` (seconds, 30), and the
optional fault ``AGENTCORE_STANDIN_FAULT`` = ``throttle`` (429 ThrottlingException) |
``error`` (500 InternalServerException) | ``delay:<seconds>`` (then forward).
``GET /ping`` answers ``{"status": "Healthy"}``; ``GET /_harness/identity`` its checkout and
code fingerprint (agent/identity.py).
Run it with ``python -m harness.agentcore_standin``.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from agent import identity as agent_identity
from agent.environment import SettingError, exit_on, http_url, port_number, seconds, setting, text
from agent.identity import IDENTITY_PATH, identity
from agent.logs import configure_logging
from contract import MIN_SESSION_ID_CHARS

logger = logging.getLogger("agentcore_standin")

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
INVOKE_PATH = re.compile(r"^/runtimes/(?P<arn>[^/?]+)/invocations(?:\?.*)?$")
FORWARDED_HEADERS = ("Content-Type", "Accept", "X-Amzn-Bedrock-AgentCore-Runtime-User-Id")
# The code the stand-in runs, fingerprinted for GET /_harness/identity (and by the harness,
# which restarts a stand-in whose code changed since it started).
STANDIN_CODE = (
    Path(__file__).resolve(),
    Path(agent_identity.__file__).resolve(),
    Path(__file__).resolve().parents[1] / "contract",
)


def fault_spec(value: str) -> str:
    """AGENTCORE_STANDIN_FAULT: throttle, error or delay:<seconds>."""
    accepted = "throttle, error or delay:<seconds>"
    if value in ("throttle", "error"):
        return value
    if value.startswith("delay:"):
        try:
            seconds(value.removeprefix("delay:"))
        except ValueError:
            raise ValueError(accepted) from None
        return value
    raise ValueError(accepted)


@dataclass(frozen=True)
class StandInConfig:
    """Fields default to their environment variables (agent/environment.py)."""

    host: str = setting("AGENTCORE_STANDIN_HOST", "127.0.0.1", text)
    port: int = setting("AGENTCORE_STANDIN_PORT", 8090, port_number)
    agent_url: str = setting("AGENT_URL", "http://127.0.0.1:8080", http_url)
    timeout: float = setting("AGENTCORE_STANDIN_TIMEOUT", 30.0, seconds)
    fault: str = setting("AGENTCORE_STANDIN_FAULT", "", fault_spec)

    @classmethod
    def from_env(cls) -> StandInConfig:
        """Every field from the environment; raises SettingError for a bad value."""
        return cls()


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, config: StandInConfig) -> None:
        super().__init__((config.host, config.port), StandIn)
        self.config = config
        self.identity = json.dumps(identity("agentcore-standin", STANDIN_CODE)).encode()


class StandIn(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandInServer

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, error_type: str, message: str) -> None:
        logger.warning("status=<%s>, error=<%s> | %s", status, error_type, message)
        body = json.dumps({"message": message}).encode()
        headers = {"Content-Type": "application/json", "X-Amzn-ErrorType": error_type}
        self._reply(status, body, headers)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/ping":
            self._reply(200, b'{"status": "Healthy"}', {"Content-Type": "application/json"})
        elif self.path.split("?", 1)[0] == IDENTITY_PATH:
            self._reply(200, self.server.identity, {"Content-Type": "application/json"})
        else:
            self._error(404, "ResourceNotFoundException", f"no route GET {self.path}")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not INVOKE_PATH.match(self.path):
            self._error(404, "ResourceNotFoundException", f"no route POST {self.path}")
            return
        session_id = self.headers.get(SESSION_HEADER, "")
        if len(session_id) < MIN_SESSION_ID_CHARS:
            self._error(
                400,
                "ValidationException",
                f"runtimeSessionId must be at least {MIN_SESSION_ID_CHARS} characters",
            )
            return
        fault = self.server.config.fault
        if fault == "throttle":
            self._error(429, "ThrottlingException", "injected fault: throttling")
            return
        if fault == "error":
            self._error(500, "InternalServerException", "injected fault: internal error")
            return
        if fault.startswith("delay:"):
            time.sleep(float(fault.split(":", 1)[1]))
        self._forward(session_id, body)

    def _forward(self, session_id: str, body: bytes) -> None:
        agent_url = self.server.config.agent_url
        headers = {name: self.headers[name] for name in FORWARDED_HEADERS if self.headers[name]}
        headers.setdefault("Content-Type", "application/json")
        headers[SESSION_HEADER] = session_id
        request = urllib.request.Request(
            f"{agent_url}/invocations", data=body, method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.server.config.timeout) as response:
                answer, content_type = response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as refused:
            detail = refused.read().decode(errors="replace")
            if refused.code < 500:
                self._error(400, "ValidationException", f"the agent refused the payload: {detail}")
            else:
                self._error(
                    424,
                    "RuntimeClientError",
                    f"Received error ({refused.code}) from runtime: {detail}",
                )
            return
        except (urllib.error.URLError, OSError) as unreachable:
            reason = getattr(unreachable, "reason", unreachable)
            self._error(
                500,
                "InternalServerException",
                f"the agent at {agent_url} is unreachable or did not answer: {reason}",
            )
            return
        logger.info("session_id=<%s> | forwarded to the agent", session_id)
        self._reply(
            200,
            answer,
            {"Content-Type": content_type or "application/json", SESSION_HEADER: session_id},
        )

    def log_message(self, format: str, *args: object) -> None:
        logger.debug(format, *args)


def main() -> None:
    configure_logging()
    try:
        config = StandInConfig.from_env()
    except SettingError as error:
        exit_on(error, "python -m harness.agentcore_standin")
    server = StandInServer(config)
    logger.info(
        "host=<%s>, port=<%s>, agent_url=<%s>, fault=<%s> | AgentCore stand-in serving",
        config.host,
        config.port,
        config.agent_url,
        config.fault,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
