"""Several checkouts on one machine, and edited agent code (issue 12, items 3 and 6a).

The first checkout is this one, with the suite's runtime. The second is a copy of this
working tree in a temporary folder, run with this checkout's interpreter and its own
PYTHONPATH, on the same ports: it only has to notice the runtime is not its own and refuse,
which needs none of the big installs (.venv, .runtime, node_modules).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import commands
from harness.runtime import HostRuntime
from harness.runtime.ownership import Owner, process_owner
from harness.runtime.ports import free_ports
from harness.runtime.processes import ManagedProcess
from harness.settings import REPO_ROOT, Settings
from tests.support.helpers import run_command, run_harness, wait_for

SCRIPTED_MODEL = REPO_ROOT / "agent" / "testing" / "scripted_model.py"
ANSWER = 'f"Analysed the task: '


def _copy_of_this_checkout(dest: Path) -> Path:
    """The working tree as it is (tracked and new files, not ignored ones): a second clone."""
    listed = commands.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        what="git ls-files",
        cwd=REPO_ROOT,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def second_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_of_this_checkout(tmp_path_factory.mktemp("second-checkout"))


def _env(settings: Settings, checkout: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_RUNTIME_DIR"}
    return {
        **env,
        "PYTHONPATH": str(checkout),
        "HARNESS_RUNTIME": "host",
        "AWS_ENDPOINT_URL": settings.endpoint_url,
        "AGENT_PORT": str(settings.agent_port),
        "AGENTCORE_STANDIN_PORT": str(settings.standin_port),
    }


def _harness(checkout: Path, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return run_harness(*args, env=_env(settings, checkout), timeout=120, cwd=checkout)


def _pids(settings: Settings) -> dict[str, int | None]:
    runtime = HostRuntime(settings)
    return {spec.name: ManagedProcess(spec, runtime.run_dir).pid() for spec in runtime.specs()}


@pytest.mark.parametrize(
    "command",
    [["up"], ["trigger", "--task", "t", "--wait"], ["deploy"], ["agent", "--reload"]],
    ids=["up", "trigger", "deploy", "agent"],
)
def test_a_second_checkout_refuses_the_first_checkouts_runtime(
    command, second_checkout, deployed_stack, agent_services, harness_settings
):
    # GIVEN this checkout's runtime, up and deployed
    before = _pids(harness_settings)
    assert all(before.values()), before

    # WHEN the second checkout runs a command on the same ports
    result = _harness(second_checkout, harness_settings, *command)

    # THEN it refuses, naming the first checkout and both ways out
    output = result.stdout + result.stderr
    flat = " ".join(output.split())
    assert result.returncode == 1, output
    assert "error:" in result.stdout
    assert "Traceback" not in output
    assert f"belongs to another checkout, {REPO_ROOT}" in flat
    assert f"cd {REPO_ROOT} && make down" in flat
    for variable in ("AWS_ENDPOINT_URL=", "AGENT_PORT=", "AGENTCORE_STANDIN_PORT="):
        assert variable in flat
    # ... and leaves the first checkout's runtime as it was, starting nothing of its own
    assert _pids(harness_settings) == before
    assert not list((second_checkout / ".runtime" / "run").glob("*.pid"))


def test_pytest_in_a_second_checkout_gets_a_runtime_of_its_own(
    second_checkout, localstack, agent_services, harness_settings, tmp_path
):
    # Tests in the second checkout's end-to-end tier that only read their settings (they
    # start nothing): first one that, as `make agent`'s tests do, reads the environment alone
    # and never asks for the fixture, then one through the fixture.
    seen, seen_env = tmp_path / "seen.json", tmp_path / "seen-env.json"
    probe = second_checkout / "tests" / "integration" / "test_ports_probe.py"
    probe.write_text(
        textwrap.dedent(
            f"""
            import json, os

            def test_environment_only():
                with open({str(seen_env)!r}, "w") as out:
                    json.dump([os.environ.get(name) for name in
                               ("AWS_ENDPOINT_URL", "AGENT_PORT", "AGENTCORE_STANDIN_PORT")], out)

            def test_probe(harness_settings):
                with open({str(seen)!r}, "w") as out:
                    json.dump([harness_settings.endpoint_url, harness_settings.agent_port,
                               harness_settings.standin_port, os.environ["AWS_ENDPOINT_URL"]], out)
            """
        )
    )
    result = run_command(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
        cwd=second_checkout,
        env=_env(harness_settings, second_checkout),
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    endpoint, agent_port, standin_port, exported = json.loads(seen.read_text())
    # Its own ports, exported for the commands its tests run; it says why, even captured.
    assert endpoint != harness_settings.endpoint_url
    assert exported == endpoint
    assert agent_port != harness_settings.agent_port
    assert standin_port != harness_settings.standin_port
    # A test that never asks for the fixture runs on those ports too.
    assert json.loads(seen_env.read_text()) == [endpoint, str(agent_port), str(standin_port)]
    flat = " ".join(output.split())
    assert "is not this checkout's" in flat
    assert str(REPO_ROOT) in flat
    assert f"AWS_ENDPOINT_URL={endpoint}" in flat


def test_the_deployed_stack_says_whose_it_is(deployed_stack, harness_settings, aws_client):
    from harness import deploy

    stack = aws_client("cloudformation").describe_stacks(StackName=harness_settings.stack_name)
    tags = {tag["Key"]: tag["Value"] for tag in stack["Stacks"][0]["Tags"]}
    assert tags[deploy.CHECKOUT_TAG] == deploy.tag_value(str(REPO_ROOT))
    args = deploy.context_args(harness_settings, "host", {})
    assert tags[deploy.FINGERPRINT_TAG] == deploy.stack_fingerprint(harness_settings, "host", args)


def test_an_emulators_owner_is_read_from_its_process(tmp_path):
    # A stand-in for an emulator the harness started: a server with the owner markers.
    (port,) = free_ports(1)
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        env={**os.environ, "HARNESS_CHECKOUT": "/some/checkout", "HARNESS_CODE_FINGERPRINT": "f"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def listening_owner() -> Owner:
            assert server.poll() is None, f"the server exited with status {server.returncode}"
            return process_owner(port)

        owner = wait_for(
            listening_owner,
            30,
            f"a process listening on {port}",
            0.1,
            accept=lambda found: found.pid is not None,
        )
        assert (owner.checkout, owner.fingerprint, owner.pid) == ("/some/checkout", "f", server.pid)
        assert "http.server" in owner.command
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextlib.contextmanager
def _edited(path: Path, old: str, new: str) -> Iterator[None]:
    """``path`` with ``old`` replaced by ``new``; the exact original bytes put back after. Each
    version is written whole and renamed into place: the other lanes of make test read the
    same checkout meanwhile, and never see half a file."""
    original = path.read_bytes()
    assert old.encode() in original

    def put(content: bytes) -> None:
        partial = path.with_name(path.name + ".edit")  # not a .py file: not the agent's code
        partial.write_bytes(content)
        os.replace(partial, path)

    try:
        put(original.replace(old.encode(), new.encode()))
        yield
    finally:
        put(original)


@pytest.mark.exclusive  # edits the agent's code and restarts it
def test_trigger_restarts_an_agent_whose_code_changed(
    deployed_stack, agent_services, harness_settings
):
    probe = uuid.uuid4().hex[:8]
    marker = f"Edited {probe}: "
    task = f"restart probe {probe}"
    here = Path(REPO_ROOT)
    agent_pid = _pids(harness_settings)["agent"]
    try:
        # GIVEN the running agent, and then an edit of its scripted answer to this test's task
        # (the other lanes of make test run the same code meanwhile: any other task is
        # answered as before)
        edit = f'("{marker}" if task == "{task}" else "") + {ANSWER}'
        with _edited(SCRIPTED_MODEL, ANSWER, edit):
            # WHEN a session is triggered
            result = _harness(here, harness_settings, "trigger", "--task", task, "--wait")

        # THEN the agent was restarted first, and the answer is the edited one
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "agent code changed since it started: restarting it" in output
        assert f"COMPLETED: {marker}" in " ".join(result.stdout.split())
        assert _pids(harness_settings)["agent"] != agent_pid
    finally:
        # `up` notices the change back too, and restarts it on the original code.
        restored = _harness(here, harness_settings, "up", "--service", "agent")
    assert "agent code changed since it started: restarting it" in restored.stdout
    assert restored.returncode == 0, restored.stdout + restored.stderr
