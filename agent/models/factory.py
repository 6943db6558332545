"""Build the model named by AGENT_MODEL: a setting, not a code change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent import doubles
from agent.settings import MODELS, AgentSettings

if TYPE_CHECKING:  # a test double, absent from the production image
    from agent.testing.faults import Fault


def build_model(settings: AgentSettings, fault: Fault | None = None) -> Any:
    """The model AGENT_MODEL names, recording its turns when AGENT_RECORD names a file."""
    model = _selected_model(settings, fault)
    if settings.record_path:
        from agent.models.recorded import RecordingModel

        return RecordingModel(model, settings.record_path)
    return model


def _selected_model(settings: AgentSettings, fault: Fault | None) -> Any:
    if settings.model == "replay":
        from agent.models.recorded import ReplayModel

        return ReplayModel(settings.replay_path)
    if settings.model == "scripted":
        return doubles.scripted_model(fault)
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
