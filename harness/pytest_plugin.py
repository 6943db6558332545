"""pytest fixtures for tests that need the local runtime (loaded with ``-p harness.pytest_plugin``).

Session-scoped and reuse-first: a runtime of this checkout that is already up (``make up``)
is used and left running (its agent or stand-in restarted first if their code changed since
they started); whatever a fixture had to start, it stops at the end of the session. When
another checkout's runtime holds the configured ports, the session runs its own on free ports.

``pytest --target aws`` (or HARNESS_TARGET=aws) runs the tests marked ``any_target`` against
the stack deployed on AWS with ``make deploy-aws``: nothing is started or deployed, the
fixtures read that stack; every other test needs the local runtime and is deselected.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness import aws, deploy
from harness.errors import HarnessError
from harness.runtime import ComposeRuntime, select_runtime, settings_of_this_checkout
from harness.runtime.docker import COMPOSE_FILE
from harness.runtime.images import ImageBuilder
from harness.sessions import SessionReader
from harness.settings import LOCAL_REGION, SHELL_AWS_VARIABLES_IGNORED_LOCALLY, Settings
from harness.stack import StackOutputs
from harness.trigger import publish

ANY_TARGET = "any_target"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--target",
        choices=("local", "aws"),
        default=None,
        help="where the end-to-end tests run: the local runtime (default; HARNESS_TARGET) or "
        f"the stack deployed on AWS by `make deploy-aws` (only tests marked {ANY_TARGET})",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Tests of the local runtime talk to LocalStack whatever the shell exports for real AWS
    (a profile, a token, service endpoints, another region): the run sets what it needs."""
    config.addinivalue_line(
        "markers",
        f"{ANY_TARGET}: the test also runs against a stack on AWS (pytest --target aws)",
    )
    target = config.getoption("--target", default=None)
    if target:
        os.environ["HARNESS_TARGET"] = target
    if not Settings().is_local:
        return
    for name in [n for n in os.environ if n.startswith(SHELL_AWS_VARIABLES_IGNORED_LOCALLY)]:
        del os.environ[name]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": LOCAL_REGION,
            "AWS_DEFAULT_REGION": LOCAL_REGION,
        }
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On AWS only the tests marked ``any_target`` run; the others are deselected, and said so."""
    if Settings().is_local:
        return
    local_only = [item for item in items if item.get_closest_marker(ANY_TARGET) is None]
    if not local_only:
        return
    config.hook.pytest_deselected(items=local_only)
    items[:] = [item for item in items if item.get_closest_marker(ANY_TARGET) is not None]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"harness: --target aws runs the {len(items)} tests marked {ANY_TARGET}; "
            f"{len(local_only)} need the local runtime and are deselected",
            yellow=True,
        )


@pytest.fixture(scope="session")
def harness_settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """This checkout's settings. If another checkout's runtime answers on the configured ports,
    the same settings on free ports instead, exported for the session so that the commands
    tests run (``python -m harness ...``) use that runtime too."""
    settings, foreign = settings_of_this_checkout(Settings())
    if foreign is None:
        yield settings
        return
    whose = foreign.owner.checkout or "owner unknown"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    message = (
        f"the runtime on the configured ports is not this checkout's ({foreign.service}: "
        f"{whose}); this test session runs its own on free ports (AWS_ENDPOINT_URL="
        f"{settings.endpoint_url} AGENT_PORT={settings.agent_port} "
        f"AGENTCORE_STANDIN_PORT={settings.standin_port})"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown even when output is captured
            reporter.write_line(f"harness: {message}", yellow=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", settings.endpoint_url)
        patch.setenv("AGENT_PORT", str(settings.agent_port))
        patch.setenv("AGENTCORE_STANDIN_PORT", str(settings.standin_port))
        yield settings


def _say(request: pytest.FixtureRequest, message: str) -> None:
    """A line on the terminal, shown even while output is captured."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"harness: {message}", yellow=True)


@pytest.fixture(scope="session")
def docker_compose(request: pytest.FixtureRequest, harness_settings: Settings) -> Iterator[Any]:
    """This checkout's docker-compose.yml as a running testcontainers ``DockerCompose``
    (docker mode: HARNESS_RUNTIME=docker, or auto with an engine).

    The engine is the user's when one answers, else this checkout's private engine, started
    here (and stopped at the end if this started it), with the images built offline first.
    The session's environment gets that engine and the ports of the settings, so
    ``DockerCompose`` methods (``get_service_host``, ``exec_in_container``, ``get_logs``) and
    the commands tests run use them too. Where no engine can be started the tests that need
    it are skipped, saying why; on CI (CI=true) they fail instead: a CI run must not pass
    without its docker tests.
    """
    from testcontainers.compose import DockerCompose

    runtime = select_runtime(harness_settings)
    if not isinstance(runtime, ComposeRuntime):
        pytest.skip("docker_compose needs docker mode (HARNESS_RUNTIME=docker)")
    engine_started = False
    try:
        if runtime.private_engine:
            engine_started = runtime.engine.start()
            ImageBuilder(runtime.engine, lambda line: _say(request, line)).build_all(
                offline_base=harness_settings.docker_base == "offline"
            )
    except HarnessError as problem:
        if engine_started:
            runtime.engine.stop()
        reason = f"no Docker engine could be started for docker mode: {problem}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{reason} (CI=true: docker-mode tests must run)", pytrace=False)
        pytest.skip(reason)
    compose = DockerCompose(
        COMPOSE_FILE.parent,
        compose_file_name=COMPOSE_FILE.name,
        build=not runtime.private_engine,
        wait=True,
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in runtime.environment().items():
            if os.environ.get(name) != value:
                patch.setenv(name, value)
        patch.setenv("HARNESS_RUNTIME", "docker")
        was_running = set(runtime.running_services()) >= {"localstack", "agent"}
        try:
            if not was_running:
                _say(request, "docker compose up (testcontainers DockerCompose)")
                compose.start()
            yield compose
        finally:
            if not was_running:
                compose.stop()
            if engine_started:
                runtime.engine.stop()


@contextmanager
def running(settings: Settings, services: list[str]) -> Iterator[None]:
    """The named runtime services, started if needed and stopped after if this started them."""
    runtime = select_runtime(settings)
    started = runtime.up(services)
    try:
        yield
    finally:
        if started:
            runtime.down(started)


@pytest.fixture(scope="session")
def localstack(request: pytest.FixtureRequest, harness_settings: Settings) -> Iterator[str]:
    """LocalStack, running; yields its endpoint URL."""
    if not harness_settings.is_local:
        pytest.fail(f"this test needs the local runtime: mark it local-only (no {ANY_TARGET})")
    if select_runtime(harness_settings).mode == "docker":
        request.getfixturevalue("docker_compose")
        yield harness_settings.endpoint_url
        return
    with running(harness_settings, ["localstack"]):
        yield harness_settings.endpoint_url


@pytest.fixture(scope="session")
def aws_client(request: pytest.FixtureRequest, harness_settings: Settings) -> Callable[[str], Any]:
    """``aws_client("dynamodb")``: a boto3 client for the target (the local runtime, started
    if needed, or AWS with the shell's credentials)."""
    if harness_settings.is_local:
        request.getfixturevalue("localstack")
    return lambda service: aws.client(service, harness_settings)


@pytest.fixture(scope="session")
def agent_services(request: pytest.FixtureRequest, harness_settings: Settings) -> Iterator[str]:
    """The agent and the AgentCore stand-in, running; yields the agent's URL. On AWS the agent
    runs on AgentCore Runtime: nothing to start, and no URL (empty)."""
    if not harness_settings.is_local:
        yield ""
        return
    request.getfixturevalue("localstack")
    if select_runtime(harness_settings).mode == "docker":
        yield harness_settings.agent_url  # docker_compose runs every service
        return
    with running(harness_settings, ["agent", "agentcore-standin"]):
        yield harness_settings.agent_url


@pytest.fixture(scope="session")
def deployed_stack(request: pytest.FixtureRequest, harness_settings: Settings) -> StackOutputs:
    """The real CDK stack deployed into the local runtime by cdklocal (skipped if up to date);
    on AWS, the stack `make deploy-aws` deployed, read as it is."""
    if harness_settings.is_local:
        request.getfixturevalue("localstack")
        mode = select_runtime(harness_settings).mode
        deploy.deploy(harness_settings, runtime_mode=mode)
    return StackOutputs.load(harness_settings)


@pytest.fixture(scope="session")
def session_reader(deployed_stack: StackOutputs, harness_settings: Settings) -> SessionReader:
    return SessionReader(harness_settings, deployed_stack)


@pytest.fixture(scope="session")
def trigger(
    deployed_stack: StackOutputs, agent_services: str, harness_settings: Settings
) -> Callable[..., str]:
    """``trigger(task, **extra_detail)`` publishes a ManualTrigger event; returns the session id."""

    def publish_trigger(task: Any, **extra: Any) -> str:
        detail = {"task": task, **extra}
        return publish(harness_settings, detail, deployed_stack.event_bus_name)

    return publish_trigger
