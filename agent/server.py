"""The AgentCore app the agent serves (``python -m agent.app`` builds and runs it).

``POST /invocations`` accepts a session and runs it in the background: the payload
``{"session_id", "task", "journal_table_name", "detail"?, "fault"?}``; session id: payload,
then the ``X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`` header, then env SESSION_ID; table:
payload, then env JOURNAL_TABLE_NAME. The answer comes at once
(``{"session_id", "status": "accepted"}``); an unusable payload gets 400 ``{"error": "..."}``
naming the field, and nothing starts. ``GET /ping`` says HealthyBusy while sessions run.
A ``fault`` is ignored (with a warning) unless AGENT_ALLOW_FAULTS=1; an unknown one is a 400.

The Strands agent (agent/runner.py: strands, its telemetry, its tools) is imported by the
first session, in its session thread, not at start: an agent that is started and stopped
without a session (``make up`` in a test, a restart for new code) never loads it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from bedrock_agentcore.runtime import BedrockAgentCoreApp
from botocore.config import Config
from starlette.responses import JSONResponse

from agent.doubles import InvalidFault, TestDoublesMissing, requested_fault
from agent.heap import kept_for_good
from agent.identity import AGENT_CODE, IDENTITY_PATH, identity
from agent.journal import Journal
from agent.settings import AgentSettings

if TYPE_CHECKING:  # a test double, absent from the production image
    from agent.testing.faults import Fault

logger = logging.getLogger(__name__)

# Sessions run in threads (the Strands agent is synchronous), each holding one for its whole
# run: sized so that a burst of sessions (`make bench`: 100 at once) never queues for one (with
# 64, the burst's last sessions waited seconds to be marked BUSY). Idle threads cost little.
SESSION_THREADS = 256


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


@cache
def session_runner() -> Callable[..., str | None]:
    """``agent.runner.run_session``, imported by the first session (Strands, its telemetry,
    its tools) and kept for good (agent/heap.py: ~0.06 CPU-s of a first session and the
    next nine). Sessions that start meanwhile wait for the import, as before."""
    with kept_for_good():
        from agent.runner import run_session
    return run_session


def run(invocation: Invocation, journal: Journal, settings: AgentSettings) -> str | None:
    """One session, in its session thread (the first one imports the Strands agent)."""
    return session_runner()(
        invocation.session_id,
        invocation.task,
        settings,
        journal=journal,
        fault=invocation.fault,
    )


def build_app(settings: AgentSettings) -> BedrockAgentCoreApp:
    """The app, with ``settings``; its identity (checkout, code fingerprint) is taken now."""
    app = BedrockAgentCoreApp()
    executor = ThreadPoolExecutor(max_workers=SESSION_THREADS, thread_name_prefix="agent-session")
    running: set[asyncio.Task[Any]] = set()
    answer = identity("agent", AGENT_CODE)  # the code this process runs

    @app.async_task
    async def run_in_background(invocation: Invocation) -> None:
        journal = Journal(invocation.table_name, client=dynamodb())  # on the loop thread
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor, run, invocation, journal, settings)

    @app.entrypoint
    async def invoke(payload: Any, context: Any) -> Any:
        try:
            invocation = parse_invocation(payload, getattr(context, "session_id", None), settings)
        except InvalidInvocation as error:
            logger.warning("invocation rejected: %s", error)
            return JSONResponse({"error": str(error)}, status_code=400)
        task = asyncio.create_task(run_in_background(invocation))
        running.add(task)
        task.add_done_callback(running.discard)
        logger.info("session_id=<%s> | accepted", invocation.session_id)
        return {"session_id": invocation.session_id, "status": "accepted"}

    async def harness_identity(request: Any) -> JSONResponse:
        """``GET /_harness/identity``: this agent's checkout and code fingerprint at start."""
        return JSONResponse(answer)

    app.add_route(IDENTITY_PATH, harness_identity, methods=["GET"])
    return app
