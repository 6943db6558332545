"""The agent's test doubles (agent/testing/), loaded only when a setting asks for them.

The production image (agent/Dockerfile, target ``production``: what AgentCore Runtime runs)
leaves agent/testing/ out, so the scripted model and fault injection cannot run in AWS. Asked
for where they are absent (``AGENT_MODEL=scripted``, ``AGENT_ALLOW_FAULTS=1``), the agent
stops with one line that says what is missing (``check_available``, called at start).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

from agent.settings import AgentSettings

if TYPE_CHECKING:
    from agent.testing.faults import Fault

logger = logging.getLogger(__name__)

PACKAGE = "agent.testing"


class TestDoublesMissing(RuntimeError):
    """A test double was asked for, and this installation does not have it."""


class InvalidFault(ValueError):
    """An unknown fault name."""


def _load(module: str, wanted_by: str) -> ModuleType:
    name = f"{PACKAGE}.{module}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if missing.name not in (PACKAGE, name):
            raise  # something the double itself imports: a real error
        raise TestDoublesMissing(
            f"{wanted_by} needs the agent's test doubles (agent/testing/{module}.py), which "
            "this installation does not include (the production image ships without them)"
        ) from None


def _check_present(module: str, wanted_by: str) -> None:
    """As ``_load``, without importing the double (the scripted model imports Strands, which
    the agent loads at its first session, not at start)."""
    name = f"{PACKAGE}.{module}"
    try:
        present = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError as missing:
        if missing.name not in (PACKAGE, name):
            raise
        present = False
    if not present:
        _load(module, wanted_by)  # raises TestDoublesMissing, saying what is missing


def scripted_model(fault: Fault | None = None) -> Any:
    """The scripted model (no LLM), with the fault it should play."""
    module = _load("scripted_model", "AGENT_MODEL=scripted")
    return module.ScriptedModel(fault=fault)


def requested_fault(payload: dict[str, Any], allow_faults: bool) -> Fault | None:
    """The fault asked for in a payload (``fault``, or the event detail's ``fault``); None
    when none is, or faults are not allowed. An unknown name raises InvalidFault."""
    raw_detail = payload.get("detail")
    detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
    name = payload.get("fault") or detail.get("fault")
    if not name:
        return None
    if not allow_faults:
        logger.warning("fault=<%s> | ignored: fault injection needs AGENT_ALLOW_FAULTS=1", name)
        return None
    faults = _load("faults", "AGENT_ALLOW_FAULTS=1")
    fault: Fault = faults.Fault.named(str(name))
    return fault


def check_available(settings: AgentSettings) -> None:
    """Raise TestDoublesMissing now, at start, if the settings ask for an absent double."""
    if settings.model == "scripted":
        _check_present("scripted_model", "AGENT_MODEL=scripted")
    if settings.allow_faults:
        _check_present("faults", "AGENT_ALLOW_FAULTS=1")
