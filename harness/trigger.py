"""Publish the workflow's ManualTrigger event; the EventBridge event id is the session id."""

from __future__ import annotations

import json
import logging
from typing import Any

from contract import EVENT_DETAIL_TYPE, EVENT_SOURCE
from harness import aws
from harness.errors import HarnessError
from harness.settings import Settings

logger = logging.getLogger(__name__)


class PublishFailed(HarnessError):
    """EventBridge refused the event."""


def manual_trigger_detail(task: str, **extra: Any) -> dict[str, Any]:
    """The event detail users publish: ``{"task": ..., **extra}``."""
    return {"task": task, **extra}


def publish(settings: Settings, detail: dict[str, Any], event_bus_name: str = "default") -> str:
    """Publish one ManualTrigger event; returns its event id (= the session id)."""
    response = aws.client("events", settings).put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": EVENT_DETAIL_TYPE,
                "Detail": json.dumps(detail),
                "EventBusName": event_bus_name,
            }
        ]
    )
    entry = response["Entries"][0]
    if response.get("FailedEntryCount") or "EventId" not in entry:
        raise PublishFailed(
            f"EventBridge rejected the event: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        )
    event_id: str = entry["EventId"]
    logger.debug("session_id=<%s> | ManualTrigger published", event_id)
    return event_id
