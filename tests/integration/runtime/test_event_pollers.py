"""The LocalStack plug-in's event_pollers hook, in LocalStack's own interpreter: stopping a
Lambda function's event manager ends its poller's long poll on the function's event queue at
once, so LocalStack's stop (every `down`) no longer waits the poll out. The poll here is
longer than the stop's wait for its poller (3 s), so without the hook the poller outlives the
stop whatever the machine's speed."""

from __future__ import annotations

import json
import subprocess

from harness.runtime.installer import Installer
from harness.settings import REPO_ROOT, Settings

PROBE = """
import json, sys, threading
from types import SimpleNamespace
sys.path.insert(0, sys.argv[1])
from localstack_host_lambda import event_pollers
if sys.argv[2] == "hook":
    event_pollers.wake_event_pollers_to_stop()
from localstack.services.lambda_.invocation import event_manager
from localstack.services.lambda_.invocation.internal_sqs_queue import get_fake_sqs_client

sqs = get_fake_sqs_client()
queue_url = sqs.create_queue(QueueName="probe-events")["QueueUrl"]
function_version = SimpleNamespace(qualified_arn="arn:aws:lambda:us-east-1:0:function:probe")
manager = event_manager.LambdaEventManager(SimpleNamespace(function_version=function_version))
manager.event_queue_url = queue_url
manager.poller = SimpleNamespace(stop=lambda: None)
polling = threading.Event()

def poll():  # as the event manager's poller does, with a poll longer than the stop waits
    polling.set()
    sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=30, MaxNumberOfMessages=10)

poller = manager.poller_thread = threading.Thread(target=poll, daemon=True)
poller.start()
polling.wait()
manager.stop()
ended = {"poller_ended": not poller.is_alive(), "queue_deleted": not sqs.queue_manager.queues}
print(json.dumps(ended))
"""


def test_stopping_a_functions_event_manager_ends_its_pollers_long_poll(
    localstack: str, harness_settings: Settings
) -> None:
    run = subprocess.run(
        [
            str(Installer(harness_settings).localstack_python),
            "-c",
            PROBE,
            str(REPO_ROOT / "harness" / "localstack_host_lambda"),
            "hook",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"poller_ended": True, "queue_deleted": True}
