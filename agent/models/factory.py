"""Build the model named by AGENT_MODEL: a setting, not a code change."""

from __future__ import annotations

from typing import Any

from agent.faults import Fault
from agent.models.scripted import ScriptedModel
from agent.settings import MODELS, AgentSettings


def build_model(settings: AgentSettings, fault: Fault | None = None) -> Any:
    if settings.model == "scripted":
        return ScriptedModel(fault=fault)
    if settings.model == "bedrock":
        from strands.models.bedrock import BedrockModel

        return BedrockModel(model_id=settings.bedrock_model_id)
    if settings.model == "openai":
        from strands.models.openai import OpenAIModel

        return OpenAIModel(
            client_args={"base_url": settings.openai_base_url, "api_key": settings.openai_api_key},
            model_id=settings.openai_model_id,
        )
    raise ValueError(
        f"AGENT_MODEL={settings.model!r} is unknown: choose one of {', '.join(MODELS)}"
    )
