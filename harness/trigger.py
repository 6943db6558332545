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

PUT_EVENTS_MAX_ENTRIES = 10  # EventBridge's limit per PutEvents call


class PublishFailed(HarnessError):
    """EventBridge refused the event."""


def manual_trigger_detail(task: str, **extra: Any) -> dict[str, Any]:
    """The event detail users publish: ``{"task": ..., **extra}``."""
    return {"task": task, **extra}


def publish(settings: Settings, detail: dict[str, Any], event_bus_name: str = "default") -> str:
    """Publish one ManualTrigger event; returns its event id (= the session id)."""
    return publish_many(settings, [detail], event_bus_name)[0]


def publish_many(
    settings: Settings, details: list[dict[str, Any]], event_bus_name: str = "default"
) -> list[str]:
    """Publish up to ``PUT_EVENTS_MAX_ENTRIES`` ManualTrigger events in one PutEvents call;
    returns their event ids (= session ids) in order. Any refused entry fails the call."""
    if not 1 <= len(details) <= PUT_EVENTS_MAX_ENTRIES:
        raise ValueError(
            f"PutEvents takes 1 to {PUT_EVENTS_MAX_ENTRIES} entries, not {len(details)}"
        )
    response = aws.client("events", settings).put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": EVENT_DETAIL_TYPE,
                "Detail": json.dumps(detail),
                "EventBusName": event_bus_name,
            }
            for detail in details
        ]
    )
    entries = response["Entries"]
    refused = [e for e in entries if "EventId" not in e]
    if response.get("FailedEntryCount") or refused or len(entries) != len(details):
        first = refused[0] if refused else {}
        raise PublishFailed(
            f"EventBridge rejected the event: {first.get('ErrorCode')}: {first.get('ErrorMessage')}"
        )
    event_ids: list[str] = [entry["EventId"] for entry in entries]
    for event_id in event_ids:
        logger.debug("session_id=<%s> | ManualTrigger published", event_id)
    return event_ids
