"""The AgentCore app: ``POST /invocations`` accepts a session and runs it in the background.

Payload: ``{"session_id", "task", "journal_table_name", "detail"?, "fault"?}``. Session id:
payload, then the ``X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`` header, then env SESSION_ID;
table: payload, then env JOURNAL_TABLE_NAME. The answer comes at once
(``{"session_id", "status": "accepted"}``); an unusable payload gets 400 ``{"error": "..."}``
naming the field, and nothing starts. ``GET /ping`` says HealthyBusy while sessions run.
A ``fault`` is ignored (with a warning) unless AGENT_ALLOW_FAULTS=1; an unknown one is a 400.
The scripted model and faults are test doubles (agent/testing/, loaded by agent/doubles.py):
asked for in an image without them, the app stops at start with one line saying so.
``python -m agent.app`` serves on AGENT_HOST:AGENT_PORT.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from bedrock_agentcore.runtime import BedrockAgentCoreApp
from botocore.config import Config
from starlette.responses import JSONResponse

from agent.doubles import InvalidFault, TestDoublesMissing, check_available, requested_fault
from agent.environment import SettingError, exit_on
from agent.identity import AGENT_CODE, IDENTITY_PATH, identity
from agent.journal import Journal
from agent.logs import configure_logging
from agent.runner import run_session
from agent.settings import AgentSettings
from contract.aws_calls import record_aws_calls

if TYPE_CHECKING:  # a test double, absent from the production image
    from agent.testing.faults import Fault

logger = logging.getLogger(__name__)

app = BedrockAgentCoreApp()
try:
    SETTINGS = AgentSettings.from_env()
except SettingError as bad_setting:
    # Read at import (the app's handlers use it): a bad variable stops the process with a
    # one-line message, whether it is started as ``python -m agent.app`` or imported.
    exit_on(bad_setting, "python -m agent.app")
# Local runs log each AWS call for the IAM sufficiency check (RECORD_AWS_CALLS=1, which the
# local runtime sets and AgentCore never does). Before any client exists.
record_aws_calls("agent")

# Sessions run in threads (the Strands agent is synchronous), each holding one for its whole
# run: sized so that a burst of sessions (`make bench`: 100 at once) never queues for one (with
# 64, the burst's last sessions waited seconds to be marked BUSY). Idle threads cost little.
SESSION_THREADS = 256
EXECUTOR = ThreadPoolExecutor(max_workers=SESSION_THREADS, thread_name_prefix="agent-session")
RUNNING: set[asyncio.Task[Any]] = set()
# Taken at import, i.e. when the process starts: the code this process runs.
IDENTITY = identity("agent", AGENT_CODE)


@cache
def dynamodb() -> Any:
    """One client for all sessions: boto3 clients are thread-safe, creating them is not. Its
    connection pool has room for every session thread (botocore keeps 10 by default: in a
    burst, the other sessions' connections were opened and thrown away for each call)."""
    return boto3.client("dynamodb", config=Config(max_pool_connections=SESSION_THREADS))


class InvalidInvocation(ValueError):
    """The invocation cannot start a session; the message names the field."""


@dataclass(frozen=True)
class Invocation:
    session_id: str
    task: str
    table_name: str
    fault: Fault | None


def parse_invocation(
    payload: Any, header_session_id: str | None, settings: AgentSettings
) -> Invocation:
    """Session id: payload, then the AgentCore session header, then env SESSION_ID."""
    if not isinstance(payload, dict):
        raise InvalidInvocation("the payload must be a JSON object")
    session_id = payload.get("session_id") or header_session_id or settings.session_id
    if not isinstance(session_id, str) or not session_id:
        raise InvalidInvocation("session_id is missing (payload, session header or SESSION_ID)")
    task = payload.get("task")
    if not isinstance(task, str) or not task.strip():
        raise InvalidInvocation("task is missing or empty")
    table_name = payload.get("journal_table_name") or settings.journal_table_name
    if not table_name:
        raise InvalidInvocation("journal_table_name is missing (payload or JOURNAL_TABLE_NAME)")
    try:
        fault = requested_fault(payload, settings.allow_faults)
    except (InvalidFault, TestDoublesMissing) as error:
        raise InvalidInvocation(str(error)) from None
    return Invocation(session_id, task, table_name, fault)


@app.async_task
async def run_in_background(invocation: Invocation) -> None:
    journal = Journal(invocation.table_name, client=dynamodb())  # on the loop thread
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(
        EXECUTOR,
        lambda: run_session(
            invocation.session_id,
            invocation.task,
            SETTINGS,
            journal=journal,
            fault=invocation.fault,
        ),
    )


@app.entrypoint
async def invoke(payload: Any, context: Any) -> Any:
    try:
        invocation = parse_invocation(payload, getattr(context, "session_id", None), SETTINGS)
    except InvalidInvocation as error:
        logger.warning("invocation rejected: %s", error)
        return JSONResponse({"error": str(error)}, status_code=400)
    task = asyncio.create_task(run_in_background(invocation))
    RUNNING.add(task)
    task.add_done_callback(RUNNING.discard)
    logger.info("session_id=<%s> | accepted", invocation.session_id)
    return {"session_id": invocation.session_id, "status": "accepted"}


async def harness_identity(request: Any) -> JSONResponse:
    """``GET /_harness/identity``: this agent's checkout and code fingerprint at start."""
    return JSONResponse(IDENTITY)


app.add_route(IDENTITY_PATH, harness_identity, methods=["GET"])


def main() -> None:
    """Serve on AGENT_HOST:AGENT_PORT; the host is always explicit (the SDK would pick 0.0.0.0
    whenever /.dockerenv exists). Uvicorn logs through the root handler (log_config=None)."""
    configure_logging()
    try:
        check_available(SETTINGS)
    except TestDoublesMissing as missing:
        raise SystemExit(f"error: {missing}") from None
    logger.info(
        "model=<%s>, host=<%s>, port=<%s> | serving", SETTINGS.model, SETTINGS.host, SETTINGS.port
    )
    app.run(port=SETTINGS.port, host=SETTINGS.host, log_config=None)


if __name__ == "__main__":
    main()
