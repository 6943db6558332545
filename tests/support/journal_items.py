"""The journal item of a new session, as the workflow's InitializeSession writes it, for the
agent's tests that start sessions without the workflow."""

from __future__ import annotations

from typing import Any

from agent.journal import now_iso
from contract import journal_key

# The journal table the functional tests create in moto.
MOTO_JOURNAL_TABLE = "journal-test"


def initiated_item(session_id: str, task: str) -> dict[str, Any]:
    """A DynamoDB item (attribute-value form) for put_item."""
    at = now_iso()
    return {
        **journal_key(session_id),
        "status": {"S": "INITIATED"},
        "task": {"S": task},
        "start_time": {"S": at},
        "created_at": {"S": at},
        "updated_at": {"S": at},
        "history": {
            "L": [
                {
                    "M": {
                        "status": {"S": "INITIATED"},
                        "at": {"S": at},
                        "note": {"S": "session initiated by workflow"},
                    }
                }
            ]
        },
    }
