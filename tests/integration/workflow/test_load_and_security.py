"""Load: 50 sessions at once, none lost, none run twice. Security: loopback only, no `*`
resources deployed, no credentials in the repository or in the runtime's logs (issue 7)."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from contract import TERMINAL_STATUSES
from harness import commands
from harness.runtime import HostRuntime, select_runtime
from harness.runtime.processes import ManagedProcess, cmdline, descendants
from harness.settings import REPO_ROOT
from tests.support.helpers import PollTimeout, wait_for

CONCURRENT_SESSIONS = 50
# AWS access key ids and secret-looking assignments; LocalStack's "test"/"test" is not one.
SECRET_PATTERNS = [
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"aws_secret_access_key\s*[=:]\s*['\"]?(?!test\b)[A-Za-z0-9/+]{40}"),
    re.compile(r"-----BEGIN (RSA |EC )?PRIVATE KEY-----"),
]


@pytest.mark.slow(seconds=20)
def test_fifty_concurrent_sessions_all_complete_once(
    trigger, session_reader, deployed_stack, aws_client
):
    # GIVEN 50 ManualTrigger events published at once
    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(lambda i: trigger(f"load task {i}"), range(CONCURRENT_SESSIONS)))
    assert len(set(ids)) == CONCURRENT_SESSIONS

    # THEN every session reaches COMPLETED with a full history, and ran once
    histories: dict[str, list[str]] = {}

    def all_ended() -> bool:
        for session_id in set(ids) - set(histories):
            item = session_reader.item(session_id)
            if item and item["status"] in TERMINAL_STATUSES:
                histories[session_id] = [h["status"] for h in item["history"]]
        return len(histories) == len(ids)

    with contextlib.suppress(PollTimeout):  # the assertion below names the lost sessions
        wait_for(
            all_ended, deployed_stack.session_timeout_seconds + 120, "every session to end", 0.2
        )
    lost = set(ids) - set(histories)
    assert not lost, f"{len(lost)} sessions never ended: {sorted(lost)[:5]}"
    bad = {s: h for s, h in histories.items() if h != ["INITIATED", "BUSY", "COMPLETED"]}
    assert not bad, {s: (h, session_reader.item(s).get("error")) for s, h in bad.items()}
    # One execution per session (LocalStack names them after the event id): no duplicate run.
    pages = aws_client("stepfunctions").get_paginator("list_executions")
    names = [
        execution["name"]
        for page in pages.paginate(stateMachineArn=deployed_stack.state_machine_arn)
        for execution in page["executions"]
    ]
    assert {session_id: names.count(session_id) for session_id in ids} == dict.fromkeys(ids, 1)


def _is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1, or an IPv4 loopback address mapped into IPv6 (::ffff:127.0.0.1)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def _listening_sockets() -> list[tuple[str, int, set[int]]]:
    """(address, port, pids) of every listening TCP socket on this machine (IPv4 and IPv6); the
    pids are those psutil can map to the socket, as ``ss -p`` (all of them for our own user)."""
    sockets: dict[tuple[str, int], set[int]] = {}
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN:
            address = (connection.laddr.ip, connection.laddr.port)
            sockets.setdefault(address, set()).update({connection.pid} - {None})
    return [(address, port, pids) for (address, port), pids in sockets.items()]


def test_runtime_listens_on_loopback_only(
    deployed_stack, aws_client, agent_services, harness_settings
):
    """Host mode: every socket of every runtime process (LocalStack, DynamoDB Local, the
    Lambda environments, the agent, the stand-in). Docker mode: every published port."""
    aws_client("dynamodb").list_tables()  # DynamoDB Local starts on first use
    runtime = select_runtime(harness_settings)
    if not isinstance(runtime, HostRuntime):
        published = {
            harness_settings.gateway_port,
            harness_settings.agent_port,
            harness_settings.standin_port,
        }
        seen = [(address, port) for address, port, _ in _listening_sockets() if port in published]
        assert {port for _, port in seen} == published, seen
        assert all(_is_loopback(address) for address, _ in seen), seen
        return
    pids: dict[int, str] = {}
    for spec in runtime.specs():
        pid = ManagedProcess(spec, runtime.run_dir).pid()
        assert pid is not None, f"{spec.name} is not running"
        pids.update({p: cmdline(p) for p in {pid} | descendants(pid)})
    ours = [
        (address, owners & pids.keys())
        for address, _, owners in _listening_sockets()
        if owners & pids.keys()
    ]
    assert any("DynamoDBLocal" in pids[p] for _, owners in ours for p in owners), (
        "DynamoDB Local is not listening"
    )
    exposed = {
        address: [pids[p][:120] for p in owners]
        for address, owners in ours
        if not _is_loopback(address)
    }
    assert not exposed, f"runtime processes listening beyond loopback: {exposed}"


def test_deployed_policies_have_no_star_resources(aws_client, deployed_stack):
    iam = aws_client("iam")
    cloudformation = aws_client("cloudformation")
    resources = cloudformation.describe_stack_resources(StackName="AgentWorkflow")
    policies = [
        r["PhysicalResourceId"]
        for r in resources["StackResources"]
        if r["ResourceType"] == "AWS::IAM::Policy"
    ]
    assert policies
    roles = {
        r["PhysicalResourceId"]
        for r in resources["StackResources"]
        if r["ResourceType"] == "AWS::IAM::Role"
    }
    for role in roles:
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            document = json.loads(document) if isinstance(document, str) else document
            for statement in document["Statement"]:
                resources_ = statement["Resource"]
                resources_ = resources_ if isinstance(resources_, list) else [resources_]
                assert "*" not in resources_, (role, statement)


def test_no_credentials_in_the_repository_or_the_runtime_logs(agent_services, harness_settings):
    tracked = commands.run(["git", "ls-files"], what="git ls-files", cwd=REPO_ROOT).stdout.split()
    files = [REPO_ROOT / name for name in tracked]
    files += list((harness_settings.runtime_dir / "run").glob("*.log"))
    scanned = 0
    for path in files:
        if not path.is_file() or path.suffix in {".png", ".jar"}:
            continue
        text = path.read_text(errors="replace")
        scanned += 1
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(text), f"{path}: {pattern.pattern}"
    assert scanned > 50
