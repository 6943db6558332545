"""Why a published event started no session: the dead-letter queue, then the emulator's log.

EventBridge accepts an event before it delivers it. When the delivery to the workflow fails,
AWS retries it and then puts the event in the rule target's dead-letter queue with the
reason; LocalStack keeps no dead letters but logs the failure. Both places are read here,
so the harness can say why instead of waiting out its timeout.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness import aws
from harness.settings import Settings
from harness.stack import StackOutputs

logger = logging.getLogger(__name__)

# LocalStack's log lines for an event it matched but could not deliver.
DELIVERY_FAILURE_MARKERS = (
    "Replaced template is not valid json",
    "TargetDeliveryFailure",
    "Failed to deliver to target",
)
# How many receive calls to peek through the dead-letter queue (10 messages each).
DEAD_LETTER_PEEKS = 10
PEEK_VISIBILITY_SECONDS = 5


@dataclass(frozen=True)
class Undelivered:
    """An event the workflow never received, and what the harness found about it."""

    session_id: str
    reason: str
    where: str

    def message(self) -> str:
        return (
            f"event {self.session_id} was accepted by EventBridge but never started the "
            f"workflow: {self.reason} (found in {self.where})."
        )


def find_dead_letter(
    settings: Settings, outputs: StackOutputs, session_id: str
) -> Undelivered | None:
    """The event's dead letter, if EventBridge gave up delivering it (peeked, not consumed)."""
    if not outputs.dead_letter_queue_url:
        return None
    sqs = aws.client("sqs", settings)
    url = outputs.dead_letter_queue_url
    hidden: list[dict[str, str]] = []
    try:
        for _ in range(DEAD_LETTER_PEEKS):
            # Each receive hides what it returned for a moment, so the next one pages on.
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return None
            hidden += [
                {"Id": str(len(hidden) + i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)
            ]
            for message in messages:
                if _event_id(message.get("Body", "")) == session_id:
                    return Undelivered(
                        session_id, _dead_letter_reason(message), "the rule's dead-letter queue"
                    )
    except (ClientError, BotoCoreError) as error:
        logger.debug("queue=<%s>, error=<%s> | cannot read the dead-letter queue", url, error)
    finally:
        _show_again(sqs, url, hidden)
    return None


def _show_again(sqs: Any, url: str, hidden: list[dict[str, str]]) -> None:
    """Peeked dead letters stay in the queue, visible to the next reader at once."""
    for start in range(0, len(hidden), 10):
        batch = [{**entry, "VisibilityTimeout": 0} for entry in hidden[start : start + 10]]
        try:
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=batch)
        except (ClientError, BotoCoreError) as error:
            logger.debug("queue=<%s>, error=<%s> | could not show messages again", url, error)


def _event_id(body: str) -> str | None:
    try:
        event = json.loads(body)
    except ValueError:
        return None
    return event.get("id") if isinstance(event, dict) else None


def _dead_letter_reason(message: dict[str, Any]) -> str:
    attributes = {
        name: value.get("StringValue", "")
        for name, value in message.get("MessageAttributes", {}).items()
    }
    code = attributes.get("ERROR_CODE", "unknown error")
    text = attributes.get("ERROR_MESSAGE", "")
    return f"{code}: {text}" if text else code


def find_in_log(log_text: str, session_id: str, since_offset: int = 0) -> Undelivered | None:
    """A delivery failure the emulator logged: a line naming the event, or (past
    ``since_offset``, i.e. after the event was published) any delivery-failure line."""
    recent = log_text[since_offset:]
    for line in log_text.splitlines():
        if session_id in line and any(marker in line for marker in DELIVERY_FAILURE_MARKERS):
            return Undelivered(session_id, _log_reason(line), "LocalStack's log")
    for line in recent.splitlines():
        if any(marker in line for marker in DELIVERY_FAILURE_MARKERS):
            return Undelivered(
                session_id,
                _log_reason(line) + " (logged after the event was published)",
                "LocalStack's log",
            )
    return None


def _log_reason(line: str, limit: int = 400) -> str:
    """The JSON message of a LocalStack log line, shortened for a terminal."""
    start = line.find("{")
    text = line[start:] if start >= 0 else line
    try:
        fields = json.loads(text)
        text = f"{fields.get('InfoCode') or fields.get('ErrorCode')}: " + str(
            fields.get("InfoMessage") or fields.get("ErrorMessage")
        )
    except ValueError:
        pass
    return text if len(text) <= limit else text[:limit] + " …"


def explain(
    settings: Settings,
    outputs: StackOutputs,
    session_id: str,
    emulator_log: Callable[[], str] = lambda: "",
    since_offset: int = 0,
) -> Undelivered | None:
    """What the dead-letter queue, then the emulator's log, say about this event (or None)."""
    return find_dead_letter(settings, outputs, session_id) or (
        find_in_log(emulator_log(), session_id, since_offset) if settings.is_local else None
    )
