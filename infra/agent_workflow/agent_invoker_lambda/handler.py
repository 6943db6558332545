"""agent-invoker Lambda: validate the session input, start the agent on AgentCore Runtime.

Input (from the workflow): ``{"session_id": <event id>, "detail": <the event's detail>}``;
the task is ``detail.task``. The agent's payload is ``{session_id, task, journal_table_name,
detail}``.

It is deployed with the ``contract`` package beside it (agent_invoker.py bundles both): the
names it shares with the workflow and the agent. The same code runs in AWS and locally;
locally only the endpoint differs (``AWS_ENDPOINT_URL_BEDROCK_AGENTCORE`` points the client
at the AgentCore stand-in).
Raising makes the workflow's catch record the session as FAILED with the message, except
``AgentInvocationTimeout``: no answer in time, the agent may have started, so the workflow
polls the journal instead (neither retried nor recorded FAILED).
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from typing import Any

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

from contract import (
    DEFAULT_MAX_TASK_CHARS,
    ENV_AGENT_RUNTIME_ARN,
    ENV_JOURNAL_TABLE_NAME,
    ENV_MAX_TASK_CHARS,
    INVOKER_CONNECT_TIMEOUT_SECONDS,
    INVOKER_MAX_ATTEMPTS,
    INVOKER_READ_TIMEOUT_SECONDS,
    INVOKER_SDK_LOG,
    MIN_SESSION_ID_CHARS,
)
from contract.aws_calls import record_aws_calls

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# botocore retries a refused or dropped call once; the Lambda's timeout (agent_invoker.py) is
# sized so every attempt and the wait between them fit, so a timeout is this handler's to
# report. The state machine retries a refused invocation as a whole.
CLIENT_CONFIG = Config(
    connect_timeout=INVOKER_CONNECT_TIMEOUT_SECONDS,
    read_timeout=INVOKER_READ_TIMEOUT_SECONDS,
    retries={"max_attempts": INVOKER_MAX_ATTEMPTS, "mode": "standard"},
)


class InvalidInput(Exception):
    """The execution input cannot start a session; the message names the field."""


class AgentInvocationError(Exception):
    """AgentCore did not accept the session (agent unreachable, throttled, erroring)."""


class AgentInvocationTimeout(Exception):
    """AgentCore took the request but sent no answer in time: the agent may have started."""


class AgentRefused(Exception):
    """The agent runtime answered and refused the session (HTTP 4xx other than throttling):
    asking again would get the same answer, so the workflow does not retry it."""


# 4xx answers that mean "not now" rather than "not this": worth another try.
RETRYABLE_CLIENT_ERRORS = frozenset({"ThrottlingException", "TooManyRequestsException"})


def _refusal_text(message: str) -> str:
    """The agent's own words from an AgentCore error message: a JSON ``{"error": ...}`` body
    quoted in it is unwrapped, so the message reads as one sentence."""
    head, brace, body = message.partition("{")
    if brace:
        try:
            parsed = json.loads(brace + body)
        except ValueError:
            return message
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
            return f"{head}{parsed['error']}"
    return message


@cache
def agentcore_client() -> Any:
    return boto3.client("bedrock-agentcore", config=CLIENT_CONFIG)


@cache
def log_sdk() -> None:
    """Once per execution environment, at its first invocation (where both Lambda and the
    local host runtime keep the output): which boto3 runs, from where (the SDK layer's)."""
    sdk = {"boto3": boto3.__version__, "botocore": botocore.__version__, "path": boto3.__file__}
    logger.info("%s%s", INVOKER_SDK_LOG, json.dumps(sdk))


def validate(event: Any, max_task_chars: int) -> tuple[str, str]:
    if not isinstance(event, dict):
        raise InvalidInput(f"input must be a JSON object, got {type(event).__name__}")
    session_id = event.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise InvalidInput("session_id is missing or not a string")
    if len(session_id) < MIN_SESSION_ID_CHARS:
        raise InvalidInput(
            f"session_id must be at least {MIN_SESSION_ID_CHARS} characters "
            f"(AgentCore runtimeSessionId), got {len(session_id)}"
        )
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidInput(f"detail must be a JSON object, got {type(detail).__name__}")
    task = detail.get("task")
    if not isinstance(task, str):
        raise InvalidInput(f"task must be a string, got {type(task).__name__}")
    if not task.strip():
        raise InvalidInput("task must not be empty")
    if len(task) > max_task_chars:
        raise InvalidInput(
            f"task is too long: {len(task)} characters (at most {max_task_chars}, "
            "the stack's max_task_chars)"
        )
    return session_id, task


def handler(event: Any, context: Any) -> dict[str, Any]:
    log_sdk()
    max_task_chars = int(os.environ.get(ENV_MAX_TASK_CHARS, DEFAULT_MAX_TASK_CHARS))
    session_id, task = validate(event, max_task_chars)
    runtime_arn = os.environ[ENV_AGENT_RUNTIME_ARN]
    payload: dict[str, Any] = {
        "session_id": session_id,
        "task": task,
        "journal_table_name": os.environ[ENV_JOURNAL_TABLE_NAME],
        "detail": event["detail"],  # the whole event detail, for the agent
    }
    logger.info("session_id=<%s>, runtime=<%s> | invoking agent", session_id, runtime_arn)
    try:
        response = agentcore_client().invoke_agent_runtime(
            agentRuntimeArn=runtime_arn,
            runtimeSessionId=session_id,
            payload=json.dumps(payload).encode(),
        )
        body = response["response"].read()
    except ReadTimeoutError as error:
        raise AgentInvocationTimeout(
            f"no answer from the agent runtime {runtime_arn} within "
            f"{INVOKER_READ_TIMEOUT_SECONDS} s ({INVOKER_MAX_ATTEMPTS} attempts); the agent "
            "may have started: the journal decides"
        ) from error
    except ClientError as error:
        answer = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = answer.get("Code", "")
        if 400 <= status < 500 and code not in RETRYABLE_CLIENT_ERRORS:
            raise AgentRefused(
                f"the agent runtime refused the session: it answered HTTP {status} {code}: "
                f"{_refusal_text(answer.get('Message', ''))}"
            ) from error
        raise AgentInvocationError(
            f"could not reach the agent runtime {runtime_arn}: {error}"
        ) from error
    except BotoCoreError as error:
        raise AgentInvocationError(
            f"could not reach the agent runtime {runtime_arn}: {error}"
        ) from error
    try:
        agent_response = json.loads(body) if body else None
    except ValueError:
        agent_response = body.decode(errors="replace")
    logger.info("session_id=<%s> | agent accepted the session", session_id)
    return {"session_id": session_id, "accepted": True, "agent_response": agent_response}


# In Lambda, build the client during the init phase, as AWS recommends: once per execution
# environment, off the invocation's clock. Locally the host executor imports this module
# once and forks environments from it, so they share the client's parsed service model.
if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    record_aws_calls("invoker")  # local stage only (RECORD_AWS_CALLS=1); before the client
    agentcore_client()
