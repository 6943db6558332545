"""The workflow's contract: the one place for every name the deployables share.

The agent, the agent-invoker Lambda (bundled with this package), the CDK app (at synth time),
the harness and the tests import these names instead of writing them out again, so a change
of contract is one edit here (and tests/functional/contract/ shows they still agree):

- the event users publish (``EVENT_SOURCE``, ``EVENT_DETAIL_TYPE``); its id is the session id,
  which AgentCore wants at least ``MIN_SESSION_ID_CHARS`` long;
- the journal table (``JOURNAL_TABLE_SCHEMA``), its one item per session
  (``journal_key``: ``PK=<session id>``, ``SK="SESSION"``) and the agent's steps beside it
  (``event_sort_key``: ``SK="EVENT#<time>#<n>"``, at most ``MAX_AGENT_STEPS``);
- the statuses a session moves through (``SessionStatus``), the forward-only moves
  (``ALLOWED_PREVIOUS``) and the statuses a session ends in (``TERMINAL_STATUSES``);
- the names of the environment variables one deployable sets for another (``ENV_*``);
- the invoker's client timeouts (``INVOKER_*``), which the CDK app sizes the Lambda from.

Standard library only: it runs in the Lambda, the agent image and the CDK app alike.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

# -- the event -------------------------------------------------------------------------------
EVENT_SOURCE: Final = "agent.workflow"
EVENT_DETAIL_TYPE: Final = "ManualTrigger"
# AgentCore's runtimeSessionId minimum length; the session id (an event id, a UUID) has 36.
MIN_SESSION_ID_CHARS: Final = 33
# The longest task the stack accepts by default (CDK context ``max_task_chars``).
DEFAULT_MAX_TASK_CHARS: Final = 16_000

# -- the journal -----------------------------------------------------------------------------
PARTITION_KEY: Final = "PK"  # attribute name; its value is the session id
SORT_KEY: Final = "SK"  # attribute name; SESSION_SORT_KEY for the session item itself
SESSION_SORT_KEY: Final = "SESSION"

# The table's shape, as the CDK stack creates it (tests create local copies with it).
JOURNAL_TABLE_SCHEMA: Final[dict[str, Any]] = {
    "KeySchema": [
        {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
        {"AttributeName": SORT_KEY, "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def journal_key(session_id: str) -> dict[str, dict[str, str]]:
    """The DynamoDB key (attribute-value form) of a session's journal item."""
    return {PARTITION_KEY: {"S": session_id}, SORT_KEY: {"S": SESSION_SORT_KEY}}


# The agent's steps (model turns, tool calls), items of the session beside SESSION:
# SK = "EVENT#<ISO time>#<n>" (sorts by time, then by the agent's own sequence number).
# A session holds at most MAX_AGENT_STEPS of them; each is a few hundred bytes.
EVENT_SORT_KEY_PREFIX: Final = "EVENT#"
MAX_AGENT_STEPS: Final = 200


def event_sort_key(at: str, sequence: int) -> str:
    """The sort key of an agent step that started at ``at`` (ISO 8601, UTC) as step
    ``sequence`` of its session."""
    return f"{EVENT_SORT_KEY_PREFIX}{at}#{sequence:04d}"


class SessionStatus(StrEnum):
    """A session's status in the journal; it only moves forward (``ALLOWED_PREVIOUS``)."""

    INITIATED = "INITIATED"
    BUSY = "BUSY"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


# The statuses a session ends in: once there, it never changes.
TERMINAL_STATUSES: Final = frozenset({SessionStatus.COMPLETED, SessionStatus.FAILED})

# The statuses a session may be in for a move to the key status (INITIATED is only ever
# written by the workflow, when it creates the item).
ALLOWED_PREVIOUS: Final[dict[SessionStatus, tuple[SessionStatus, ...]]] = {
    SessionStatus.INITIATED: (),
    SessionStatus.BUSY: (SessionStatus.INITIATED,),
    SessionStatus.COMPLETED: (SessionStatus.BUSY,),
    SessionStatus.FAILED: (SessionStatus.INITIATED, SessionStatus.BUSY),
}

# -- environment variables one deployable sets for another -----------------------------------
# The invoker Lambda's (set by the CDK stack).
ENV_JOURNAL_TABLE_NAME: Final = "JOURNAL_TABLE_NAME"
ENV_AGENT_RUNTIME_ARN: Final = "AGENT_RUNTIME_ARN"
ENV_MAX_TASK_CHARS: Final = "MAX_TASK_CHARS"
# Locally, where the invoker's bedrock-agentcore client goes (the AgentCore stand-in): the
# local stage's stack parameter of that name, which the harness sets at each deploy.
ENV_AGENTCORE_ENDPOINT: Final = "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE"
AGENTCORE_ENDPOINT_PARAMETER: Final = "AgentCoreEndpoint"
# The agent's (set by the CDK stack on AgentCore Runtime, by the harness locally).
ENV_AGENT_MODEL: Final = "AGENT_MODEL"
ENV_BEDROCK_MODEL_ID: Final = "BEDROCK_MODEL_ID"
# The model the agent uses on Bedrock unless the stack says otherwise (CDK context
# bedrock_model_id): the US cross-region inference profile of Claude Sonnet 4 (May 2025).
# make deploy-aws checks Bedrock still serves it, not LEGACY, before it deploys.
DEFAULT_BEDROCK_MODEL_ID: Final = "us.anthropic.claude-sonnet-4-20250514-v1:0"
ENV_AGENT_ALLOW_FAULTS: Final = "AGENT_ALLOW_FAULTS"
# Local only (the local stage and the local runtime set it to 1): the agent and the invoker log
# every AWS call they make, for the IAM sufficiency check (contract.aws_calls).
ENV_RECORD_AWS_CALLS: Final = "RECORD_AWS_CALLS"

# -- the invoker's call to AgentCore -----------------------------------------------------------
# Its bedrock-agentcore client (botocore standard retries): each attempt may take a connect and
# a read timeout. The invoker Lambda's timeout is sized from these so botocore's retry fits.
INVOKER_CONNECT_TIMEOUT_SECONDS: Final = 5
INVOKER_READ_TIMEOUT_SECONDS: Final = 60
INVOKER_MAX_ATTEMPTS: Final = 2
# Starts the line the invoker logs once per execution environment: the boto3 and botocore it
# imported, and from where (its SDK layer: requirements/lambda.lock), as JSON.
INVOKER_SDK_LOG: Final = "invoker_sdk="

__all__ = [
    "AGENTCORE_ENDPOINT_PARAMETER",
    "ALLOWED_PREVIOUS",
    "DEFAULT_BEDROCK_MODEL_ID",
    "DEFAULT_MAX_TASK_CHARS",
    "ENV_AGENTCORE_ENDPOINT",
    "ENV_AGENT_ALLOW_FAULTS",
    "ENV_AGENT_MODEL",
    "ENV_AGENT_RUNTIME_ARN",
    "ENV_BEDROCK_MODEL_ID",
    "ENV_JOURNAL_TABLE_NAME",
    "ENV_MAX_TASK_CHARS",
    "ENV_RECORD_AWS_CALLS",
    "EVENT_DETAIL_TYPE",
    "EVENT_SORT_KEY_PREFIX",
    "EVENT_SOURCE",
    "INVOKER_CONNECT_TIMEOUT_SECONDS",
    "INVOKER_MAX_ATTEMPTS",
    "INVOKER_READ_TIMEOUT_SECONDS",
    "INVOKER_SDK_LOG",
    "JOURNAL_TABLE_SCHEMA",
    "MAX_AGENT_STEPS",
    "MIN_SESSION_ID_CHARS",
    "PARTITION_KEY",
    "SESSION_SORT_KEY",
    "SORT_KEY",
    "TERMINAL_STATUSES",
    "SessionStatus",
    "event_sort_key",
    "journal_key",
]
