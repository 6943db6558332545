"""Every environment variable the agent reads, in one place, with local defaults.

JOURNAL_TABLE_NAME, AGENT_MODEL (bedrock|openai|scripted|replay; bedrock), BEDROCK_MODEL_ID,
OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL_ID, AGENT_HOST (127.0.0.1), AGENT_PORT (8080),
AGENT_ALLOW_FAULTS ("1" enables), AGENT_SESSION_TIMEOUT_SECONDS (900), SESSION_ID (one-shot
CLI), AGENT_RECORD and AGENT_REPLAY (recorded conversations). The AWS endpoint, region and
credentials come from the standard AWS variables, read by boto3 itself (locally
AWS_ENDPOINT_URL=http://127.0.0.1:4566). A bad value is a SettingError naming the variable
(agent/environment.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.environment import flag, http_url, one_of, port_number, seconds, setting, text
from contract import DEFAULT_BEDROCK_MODEL_ID

MODELS = ("scripted", "bedrock", "openai", "replay")


@dataclass(frozen=True)
class AgentSettings:
    """Fields default to their environment variables, then to local defaults."""

    journal_table_name: str = setting("JOURNAL_TABLE_NAME", "", text)
    model: str = setting("AGENT_MODEL", "bedrock", one_of(*MODELS))
    bedrock_model_id: str = setting("BEDROCK_MODEL_ID", DEFAULT_BEDROCK_MODEL_ID, text)
    openai_base_url: str = setting("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1", http_url)
    openai_api_key: str = setting("OPENAI_API_KEY", "local", text)
    openai_model_id: str = setting("OPENAI_MODEL_ID", "llama3.2", text)
    host: str = setting("AGENT_HOST", "127.0.0.1", text)
    port: int = setting("AGENT_PORT", 8080, port_number)
    allow_faults: bool = setting("AGENT_ALLOW_FAULTS", False, flag)
    session_timeout_seconds: float = setting("AGENT_SESSION_TIMEOUT_SECONDS", 900.0, seconds)
    session_id: str = setting("SESSION_ID", "", text)
    # Recorded conversations (agent/models/recorded.py): write every turn of any model to
    # this file; AGENT_MODEL=replay plays the file named by AGENT_REPLAY back.
    record_path: str = setting("AGENT_RECORD", "", text)
    replay_path: str = setting("AGENT_REPLAY", "", text)

    @classmethod
    def from_env(cls) -> AgentSettings:
        """Every field from the environment; raises SettingError for a bad value."""
        return cls()
