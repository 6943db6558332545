"""Load the emulator's services a deploy uses while the CDK app synthesizes.

LocalStack loads each service on its first request, and DynamoDB's on the first DynamoDB
call starts DynamoDB Local's JVM (~5 s). In a fresh runtime those first requests came from
CloudFormation creating the stack, one resource after the other, after the synth. One cheap
read per service, in a background thread started before the synth, moves that work into
time the deploy spends waiting anyway. It changes nothing in the emulator's state; a failed
read is ignored (the deploy reports any real problem itself).
"""

from __future__ import annotations

import logging
import threading

from botocore.exceptions import BotoCoreError, ClientError

from harness import aws
from harness.settings import Settings

logger = logging.getLogger(__name__)

# (service, read-only call), in two threads: DynamoDB (its JVM takes longest) and what else
# CloudFormation creates for the stack and the bootstrap.
DYNAMODB_CALLS = (("dynamodb", "list_tables"),)
OTHER_CALLS = (
    ("lambda", "list_functions"),
    ("stepfunctions", "list_state_machines"),
    ("events", "list_rules"),
    ("sqs", "list_queues"),
    ("iam", "list_roles"),
    ("s3", "list_buckets"),
    ("ssm", "describe_parameters"),
    ("ecr", "describe_repositories"),
)


def _warm(settings: Settings, calls: tuple[tuple[str, str], ...]) -> None:
    for service, call in calls:
        try:
            getattr(aws.client(service, settings), call)()
        except (BotoCoreError, ClientError) as error:
            logger.debug("service=<%s> | warm-up call failed: %s", service, error)


def start_warming(settings: Settings) -> list[threading.Thread]:
    """Start the warm-up in daemon threads (the deploy never waits for them)."""
    threads = [
        threading.Thread(target=_warm, args=(settings, calls), name="warm-up", daemon=True)
        for calls in (DYNAMODB_CALLS, OTHER_CALLS)
    ]
    for thread in threads:
        thread.start()
    return threads
