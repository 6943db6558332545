"""Every environment variable the agent reads, in one place, with local defaults.

JOURNAL_TABLE_NAME, AGENT_MODEL (bedrock|openai|scripted; bedrock), BEDROCK_MODEL_ID,
OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL_ID, AGENT_HOST (127.0.0.1), AGENT_PORT (8080),
AGENT_ALLOW_FAULTS ("1" enables), AGENT_SESSION_TIMEOUT_SECONDS (900), SESSION_ID (one-shot
CLI). The AWS endpoint, region and credentials come from the standard AWS variables, read by
boto3 itself (locally AWS_ENDPOINT_URL=http://127.0.0.1:4566).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from contract import DEFAULT_BEDROCK_MODEL_ID

MODELS = ("scripted", "bedrock", "openai")
# Logs go to stderr (logging.basicConfig) with timestamps.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class AgentSettings:
    journal_table_name: str
    model: str
    bedrock_model_id: str
    openai_base_url: str
    openai_api_key: str
    openai_model_id: str
    host: str
    port: int
    allow_faults: bool
    session_timeout_seconds: float
    session_id: str

    @classmethod
    def from_env(cls) -> AgentSettings:
        return cls(
            journal_table_name=_env("JOURNAL_TABLE_NAME"),
            model=_env("AGENT_MODEL", "bedrock").lower(),
            bedrock_model_id=_env("BEDROCK_MODEL_ID", DEFAULT_BEDROCK_MODEL_ID),
            openai_base_url=_env("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
            openai_api_key=_env("OPENAI_API_KEY", "local"),
            openai_model_id=_env("OPENAI_MODEL_ID", "llama3.2"),
            host=_env("AGENT_HOST", "127.0.0.1"),
            port=int(_env("AGENT_PORT", "8080")),
            allow_faults=_env("AGENT_ALLOW_FAULTS") == "1",
            session_timeout_seconds=float(_env("AGENT_SESSION_TIMEOUT_SECONDS", "900")),
            session_id=_env("SESSION_ID"),
        )
