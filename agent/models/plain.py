"""What the project's own models share (scripted, recording, replay): their configuration is
a plain dict, and they produce no structured output (the agent never asks for it)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from strands.models import Model


class PlainConfigModel(Model):
    config: dict[str, Any]
    # What structured_output raises with: each model says why in its own words.
    no_structured_output = "this model does not produce structured output"

    def update_config(self, **model_config: Any) -> None:
        self.config.update(model_config)

    def get_config(self) -> dict[str, Any]:
        return self.config

    async def structured_output(
        self, output_model: Any, prompt: Any, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, Any], None]:
        raise NotImplementedError(self.no_structured_output)
        yield  # pragma: no cover - makes this an async generator
