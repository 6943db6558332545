"""Local stand-in for Bedrock AgentCore Runtime's InvokeAgentRuntime API (stdlib only).

LocalStack has no AgentCore, so locally the invoker's ``bedrock-agentcore`` client is pointed
here (``AWS_ENDPOINT_URL_BEDROCK_AGENTCORE``). It accepts what botocore sends,
``POST /runtimes/{agentRuntimeArn}/invocations`` with the session id in the
``X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`` header and the raw payload as the body, and
forwards it to the agent's ``POST /invocations`` with the same header, as AgentCore does.
Errors come back in the API's shape (``X-Amzn-ErrorType`` + ``{"message"}``), so boto3 raises
them as it would in AWS.

Optional fault injection: ``AGENTCORE_STANDIN_FAULT`` = ``throttle`` | ``error`` |
``delay:<seconds>``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logger = logging.getLogger("agentcore_standin")

SESSION_HEADER = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
MIN_SESSION_ID = 33
INVOKE_PATH = re.compile(r"^/runtimes/(?P<arn>[^/?]+)/invocations(?:\?.*)?$")
AGENT_URL = os.environ.get("AGENT_URL", "http://127.0.0.1:8080").rstrip("/")
FAULT = os.environ.get("AGENTCORE_STANDIN_FAULT", "")
FORWARD_TIMEOUT = float(os.environ.get("AGENTCORE_STANDIN_TIMEOUT", "30"))


class StandIn(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, error_type: str, message: str) -> None:
        logger.warning("%s %s: %s", status, error_type, message)
        body = json.dumps({"message": message}).encode()
        self._reply(
            status,
            body,
            {"Content-Type": "application/json", "X-Amzn-ErrorType": f"{error_type}:"},
        )

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._reply(200, b'{"status": "Healthy"}', {"Content-Type": "application/json"})
        else:
            self._error(404, "ResourceNotFoundException", f"no route {self.path}")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = INVOKE_PATH.match(self.path)
        if not match:
            self._error(404, "ResourceNotFoundException", f"no route {self.path}")
            return
        session_id = self.headers.get(SESSION_HEADER, "")
        if len(session_id) < MIN_SESSION_ID:
            self._error(
                400,
                "ValidationException",
                f"runtimeSessionId must be at least {MIN_SESSION_ID} characters",
            )
            return
        if FAULT == "throttle":
            self._error(429, "ThrottlingException", "injected throttling")
            return
        if FAULT == "error":
            self._error(500, "InternalServerException", "injected internal error")
            return
        if FAULT.startswith("delay:"):
            time.sleep(float(FAULT.split(":", 1)[1]))
        self._forward(session_id, body)

    def _forward(self, session_id: str, body: bytes) -> None:
        request = urllib.request.Request(
            f"{AGENT_URL}/invocations",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SESSION_HEADER: session_id},
        )
        try:
            with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT) as response:
                answer, content_type = response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as refused:
            detail = refused.read().decode(errors="replace")
            if refused.code < 500:
                self._error(400, "ValidationException", f"the agent refused the payload: {detail}")
            else:
                self._error(424, "RuntimeClientError", f"the agent failed: {detail}")
            return
        except (urllib.error.URLError, OSError) as unreachable:
            self._error(
                500,
                "InternalServerException",
                f"the agent at {AGENT_URL} is unreachable: {unreachable}",
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
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host = os.environ.get("AGENTCORE_STANDIN_HOST", "127.0.0.1")
    port = int(os.environ.get("AGENTCORE_STANDIN_PORT", "8090"))
    server = ThreadingHTTPServer((host, port), StandIn)
    logger.info("AgentCore stand-in on %s:%s -> %s", host, port, AGENT_URL)
    server.serve_forever()


if __name__ == "__main__":
    main()
