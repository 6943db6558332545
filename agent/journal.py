"""The session journal in DynamoDB: status moves forward only, every change in its history.

One item per session (its key: ``contract.journal_key``), ``status``, ``task``, timestamps,
``history`` (a list of ``{status, at, note}``), ``result`` (COMPLETED) or ``error`` (FAILED).
Each transition is ONE conditional UpdateItem: the condition enforces the legal previous
statuses (``contract.ALLOWED_PREVIOUS``), so concurrent writers cannot move a session
backwards or out of a terminal state.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from contract import (
    ALLOWED_PREVIOUS,
    PARTITION_KEY,
    TERMINAL_STATUSES,
    SessionStatus,
    journal_key,
)

logger = logging.getLogger(__name__)

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


class JournalError(Exception):
    """A journal write was refused."""


class IllegalTransition(JournalError):
    """The session is not in a status from which the requested move is allowed."""


class SessionNotFound(JournalError):
    """No journal item for the session (the workflow creates it before the agent starts).

    The harness raises it too, when neither the journal nor a workflow execution knows the
    session id; its command line reports it as an error message."""


def now_iso() -> str:
    """UTC, millisecond precision, ``Z`` suffix: the shape of Step Functions' timestamps."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _value(python_value: Any) -> dict[str, Any]:
    value: dict[str, Any] = _SERIALIZER.serialize(python_value)
    return value


class Journal:
    """Reads and moves sessions in the journal table."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        if not table_name:
            raise ValueError("the journal table name is empty: set JOURNAL_TABLE_NAME")
        self.table_name = table_name
        self.client = client or boto3.client("dynamodb")
        self._ended: dict[str, str] = {}  # session -> the terminal status this journal wrote

    def ended_as(self, session_id: str) -> str | None:
        """The terminal status this journal moved the session to (or found it already in),
        if it did: final, as no status leaves a terminal one, so it needs no read."""
        return self._ended.get(session_id)

    def get(self, session_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table_name,
            Key=journal_key(session_id),
            ConsistentRead=True,
        ).get("Item")
        return {k: _DESERIALIZER.deserialize(v) for k, v in item.items()} if item else None

    def transition(
        self,
        session_id: str,
        status: SessionStatus | str,
        note: str = "",
        result: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Move the session to ``status``; True if it moved, False for an idempotent repeat.

        Raises IllegalTransition (with the current status) or SessionNotFound.
        """
        target = SessionStatus(status)
        previous = ALLOWED_PREVIOUS[target]
        if not previous:
            raise IllegalTransition(f"{target} is only written by the workflow when it starts")
        at = now_iso()
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":status": _value(target.value),
            ":at": _value(at),
            ":entry": _value([{"status": target.value, "at": at, "note": note}]),
            ":none": _value([]),
        }
        sets = [
            "#status = :status",
            "updated_at = :at",
            "history = list_append(if_not_exists(history, :none), :entry)",
        ]
        if result is not None:
            sets.append("#result = :result")
            names["#result"] = "result"
            values[":result"] = _value(result)
        if error is not None:
            sets.append("#error = :error")
            names["#error"] = "error"
            values[":error"] = _value(error)
        allowed = []
        for index, status_before in enumerate(previous):
            values[f":from{index}"] = _value(status_before.value)
            allowed.append(f":from{index}")
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=journal_key(session_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=(
                    f"attribute_exists({PARTITION_KEY}) AND #status IN ({', '.join(allowed)})"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            moved = self._refused(session_id, target, failure)
        else:
            moved = True
            logger.info("session_id=<%s>, status=<%s> | journal updated", session_id, target)
        if target in TERMINAL_STATUSES:
            self._ended[session_id] = target.value
        return moved

    def _refused(self, session_id: str, target: SessionStatus, failure: ClientError) -> bool:
        """Explain a failed condition: an idempotent repeat, a missing item, or illegal."""
        old = failure.response.get("Item")
        current = _DESERIALIZER.deserialize(old["status"]) if old and "status" in old else None
        if old is None:  # not every emulator returns the old item: read it for the message
            item = self.get(session_id)
            current = item.get("status") if item else None
            if item is None:
                raise SessionNotFound(f"session {session_id} is not in the journal") from None
        if current == target.value:
            logger.debug("session_id=<%s>, status=<%s> | already set", session_id, target)
            return False
        raise IllegalTransition(
            f"session {session_id} is {current}: it cannot move to {target} "
            f"(allowed from {', '.join(ALLOWED_PREVIOUS[target])})"
        ) from None
