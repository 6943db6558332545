"""Stage settings, read once from CDK context (`cdk -c key=value`), with per-stage defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import Node

from contract import DEFAULT_MAX_TASK_CHARS

LOCAL_ACCOUNT = "000000000000"
LOCAL_AGENT_RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local-agent"
STAGE_DEFAULTS: dict[str, dict[str, Any]] = {
    # LocalStack runs Wait states in real time: poll fast, give up after 30 s.
    "local": {"poll_interval_seconds": 1, "max_polls": 30},
    # AWS bills per state transition: poll every 10 s, for up to 15 minutes.
    "aws": {"poll_interval_seconds": 10, "max_polls": 90},
}


@dataclass(frozen=True)
class StageConfig:
    stage: str
    poll_interval_seconds: int
    max_polls: int
    max_task_chars: int = DEFAULT_MAX_TASK_CHARS
    # local only: where the invoker reaches the AgentCore stand-in, and the ARN it names.
    agentcore_endpoint: str = "http://127.0.0.1:8090"
    local_agent_runtime_arn: str = LOCAL_AGENT_RUNTIME_ARN
    # aws only: the model the agent may invoke on Bedrock.
    bedrock_model_id: str = "us.anthropic.claude-sonnet-4-20250514-v1:0"

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def environment(self) -> cdk.Environment | None:
        """Local deploys target LocalStack's account; AWS uses the CLI's credentials."""
        if self.is_local:
            return cdk.Environment(account=LOCAL_ACCOUNT, region="us-east-1")
        return None

    @classmethod
    def from_context(cls, node: Node) -> StageConfig:
        stage = str(node.try_get_context("stage") or "local")
        if stage not in STAGE_DEFAULTS:
            raise ValueError(
                f"context stage must be one of {sorted(STAGE_DEFAULTS)}, got {stage!r}"
            )
        values: dict[str, Any] = {"stage": stage, **STAGE_DEFAULTS[stage]}
        for name, field in cls.__dataclass_fields__.items():
            raw = node.try_get_context(name)
            if raw is not None and name != "stage":
                default = values.get(name, field.default)
                values[name] = int(raw) if isinstance(default, int) else str(raw)
        config = cls(**values)
        if config.poll_interval_seconds < 1 or config.max_polls < 1:
            raise ValueError("poll_interval_seconds and max_polls must be at least 1")
        return config
