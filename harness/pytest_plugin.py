"""pytest fixtures for tests that need the local runtime (loaded with ``-p harness.pytest_plugin``).

Session-scoped and reuse-first: a runtime of this checkout that is already up (``make up``)
is used and left running (its agent or stand-in restarted first if their code changed since
they started); whatever a fixture had to start, it stops at the end of the session. When
another checkout's runtime holds the configured ports, the session runs its own on free ports.
Under pytest-xdist (``pytest -n N``) the workers share one runtime (``harness.xdist_run``).

``pytest --target aws`` (or HARNESS_TARGET=aws) runs the tests marked ``any_target`` against
the stack deployed on AWS with ``make deploy-aws``: nothing is started or deployed, the
fixtures read that stack; every other test needs the local runtime and is deselected.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

import pytest

from harness import aws, deploy, pytest_budget
from harness.errors import HarnessError
from harness.file_lock import held_unless_taken
from harness.pytest_budget import setup_budget
from harness.runtime import (
    ComposeRuntime,
    on_free_ports,
    select_runtime,
    settings_of_this_checkout,
)
from harness.runtime.docker import COMPOSE_FILE
from harness.runtime.images import ImageBuilder
from harness.sessions import SessionReader
from harness.settings import (
    LOCAL_REGION,
    REPO_ROOT,
    SHELL_AWS_VARIABLES_IGNORED_LOCALLY,
    Settings,
)
from harness.stack import StackOutputs
from harness.trigger import publish
from harness.xdist_head_start import HeadStart, needs_of
from harness.xdist_run import APART, EXCLUSIVE, SharedRun, is_worker, run_id

ANY_TARGET = "any_target"
# Under the shared cache: the locks by which test sessions claim their ports (_port_claim).
PORT_CLAIMS = "port-claims"
_SHARED_RUN = pytest.StashKey[SharedRun | None]()
_HEAD_START = pytest.StashKey[tuple[HeadStart, ExitStack]]()
_HEAD_START_WANTED = pytest.StashKey[bool]()


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
    config.addinivalue_line(
        "markers",
        f"{EXCLUSIVE}: the test changes the shared runtime (stops or restarts a service): "
        "under pytest-xdist it runs while no other test does",
    )
    config.addinivalue_line(
        "markers",
        f"{APART}: the test uses no service of the shared runtime (runs its own on free ports, "
        "or none): under pytest-xdist it goes first and runs beside the exclusive tests",
    )
    if not config.pluginmanager.is_registered(pytest_budget):
        config.pluginmanager.register(pytest_budget)
    uid = run_id(config)
    config.stash[_SHARED_RUN] = SharedRun.of(uid) if uid else None
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


def shared_run(config: pytest.Config) -> SharedRun | None:
    """The xdist run whose runtime this worker shares (None without xdist, and in the
    controller, which runs no test)."""
    run = config.stash.get(_SHARED_RUN, None)
    return run if run is not None and is_worker(config) else None


def pytest_sessionstart(session: pytest.Session) -> None:
    """The controller of an xdist run chooses the run's ports and starts bringing the shared
    runtime up before its workers have started (``harness.xdist_head_start``)."""
    config = session.config
    run = config.stash.get(_SHARED_RUN, None)
    if run is None or is_worker(config) or config.option.collectonly:
        return
    if not config.stash.get(_HEAD_START_WANTED, False):
        return
    claims = ExitStack()  # the run's claim on its ports, held until the run's end
    head_start = HeadStart(run, session_settings(config, claims))
    config.stash[_HEAD_START] = (head_start, claims)
    head_start.start()


def bring_up_early(config: pytest.Config) -> None:
    """For a tier's conftest (its ``pytest_configure``): under xdist, the run's controller
    brings the shared runtime up as the run starts (``harness.xdist_head_start``)."""
    config.stash[_HEAD_START_WANTED] = True


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reports its collection
def pytest_collection_finish(session: pytest.Session) -> None:
    """A worker writes down what its tests need of the shared runtime, for the head start."""
    run = shared_run(session.config)
    if run is not None:
        with run.state() as state:
            state["needs"] = needs_of(getattr(i, "fixturenames", ()) for i in session.items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """The controller: a worker has collected; the head start goes on with what it needs."""
    head_start = node.config.stash.get(_HEAD_START, None)
    run = node.config.stash.get(_SHARED_RUN, None)
    if head_start is not None and run is not None:
        head_start[0].collected(run.read()["needs"])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller of an xdist run stops what its workers started, once all are done."""
    run = session.config.stash.get(_SHARED_RUN, None)
    if run is None or is_worker(session.config):
        return
    head_start, claims = session.config.stash.get(_HEAD_START, (None, ExitStack()))
    if head_start is not None:
        head_start.finish()
    state = run.read()
    try:
        if state["ports"] is None:
            return
        endpoint, agent, standin = state["ports"]
        settings = replace(
            Settings(), endpoint_url=endpoint, agent_port=int(agent), standin_port=int(standin)
        )
        runtime = select_runtime(settings)
        if isinstance(runtime, ComposeRuntime):
            with pytest.MonkeyPatch.context() as patch:
                for name, value in runtime.environment().items():
                    patch.setenv(name, value)
                if state["compose"]:
                    _compose(runtime).stop()
                if state["engine"]:
                    runtime.engine.stop()
        elif state["started"]:
            runtime.down(state["started"])
    finally:
        run.remove()
        claims.close()


@pytest.fixture(scope="session")
def harness_settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """This checkout's settings. If another checkout's runtime answers on the configured ports
    (or HARNESS_TEST_PORTS=free asks for it), the same settings on free ports instead, exported
    for the session so that the commands tests run (``python -m harness ...``) use that
    runtime too (under xdist: chosen once per run, by the controller, the same for all)."""
    with ExitStack() as claims:  # this session's claim on its ports, if it took one
        settings = session_settings(request.config, claims)
        if _ports(settings) == _ports(Settings()):
            yield settings
            return
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_ENDPOINT_URL", settings.endpoint_url)
            patch.setenv("AGENT_PORT", str(settings.agent_port))
            patch.setenv("AGENTCORE_STANDIN_PORT", str(settings.standin_port))
            yield settings


def session_settings(config: pytest.Config, claims: ExitStack) -> Settings:
    """The settings a test session runs on, said on the terminal when they are not the
    configured ports (under xdist: chosen by the first process to ask, the run's controller
    as it starts, and the same for every worker). ``claims`` holds the session's claim on
    its ports, if it took one."""
    configured = Settings()
    notes: list[str] = []

    def choose() -> Settings:
        settings, note = _chosen(configured, claims)
        notes.append(note)
        return settings

    run = config.stash.get(_SHARED_RUN, None)
    settings = choose() if run is None else run.settings(choose)
    if notes and notes[0]:
        _say(config, notes[0])
    return settings


def _chosen(configured: Settings, claims: ExitStack) -> tuple[Settings, str]:
    """The configured settings, or the same on free ports, with the sentence saying why."""
    if configured.test_ports == "free":
        settings = on_free_ports(configured)
        return settings, (
            f"HARNESS_TEST_PORTS=free: this test session's runtime is on {_env(settings)}"
        )
    settings, foreign = settings_of_this_checkout(configured)
    if foreign is not None:
        whose = foreign.owner.checkout or "owner unknown"
        return settings, (
            f"the runtime on the configured ports is not this checkout's ({foreign.service}: "
            f"{whose}); this test session runs its own on free ports ({_env(settings)})"
        )
    if holder := claims.enter_context(_port_claim(configured)):
        # Another checkout's session, started at the same moment, found them free too.
        settings = on_free_ports(configured)
        return settings, (
            f"another checkout's test session ({holder}) has claimed the configured ports; "
            f"this test session runs its own on free ports ({_env(settings)})"
        )
    return settings, ""


def _env(settings: Settings) -> str:
    return (
        f"AWS_ENDPOINT_URL={settings.endpoint_url} AGENT_PORT={settings.agent_port} "
        f"AGENTCORE_STANDIN_PORT={settings.standin_port}"
    )


def _ports(settings: Settings) -> tuple[str, int, int]:
    return settings.endpoint_url, settings.agent_port, settings.standin_port


@contextmanager
def _port_claim(settings: Settings) -> Iterator[str | None]:
    """This checkout's claim on ``settings``' ports for a test session, machine-wide (a lock
    in the shared cache, held until the session ends): None when it holds it, or when this
    checkout's own session does; else the checkout whose session holds it. Two checkouts'
    sessions started together both found the ports free, and each then refused the other's
    services on them, or both bootstrapped the one LocalStack."""
    gateway, agent, standin = _ports(settings)
    port = gateway.rsplit(":", 1)[-1]
    path = settings.cache_dir / PORT_CLAIMS / f"{port}-{agent}-{standin}.lock"
    with held_unless_taken(path, str(REPO_ROOT)) as holder:
        yield None if holder == str(REPO_ROOT) else holder


def _say(config: pytest.Config, message: str) -> None:
    """A line on the terminal, shown even while output is captured."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
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
    without its docker tests. Under xdist the first worker starts them and the controller
    stops them once every worker is done.
    """
    runtime = select_runtime(harness_settings)
    if not isinstance(runtime, ComposeRuntime):
        pytest.skip("docker_compose needs docker mode (HARNESS_RUNTIME=docker)")
    compose = _compose(runtime)
    run = shared_run(request.config)
    with pytest.MonkeyPatch.context() as patch:
        if run is None:
            with setup_budget(request.config):
                engine_started, compose_started = _bring_up(request, runtime, compose, patch)
            try:
                yield compose
            finally:
                if compose_started:
                    compose.stop()
                if engine_started:
                    runtime.engine.stop()
            return
        with setup_budget(request.config), run.test_lock(exclusive=False), run.state() as state:
            engine_started, compose_started = _bring_up(
                request, runtime, compose, patch, build=not state["images"]
            )
            state.update(
                images=True,
                engine=state["engine"] or engine_started,
                compose=state["compose"] or compose_started,
            )
        yield compose


def _compose(runtime: ComposeRuntime) -> Any:
    from testcontainers.compose import DockerCompose

    return DockerCompose(
        COMPOSE_FILE.parent,
        compose_file_name=COMPOSE_FILE.name,
        build=not runtime.private_engine,
        wait=True,
    )


def _bring_up(
    request: pytest.FixtureRequest,
    runtime: ComposeRuntime,
    compose: Any,
    patch: pytest.MonkeyPatch,
    *,
    build: bool = True,
) -> tuple[bool, bool]:
    """The engine (the private one started, its images built unless ``build`` is False and
    it was running), the session's environment pointed at it, compose up unless it runs:
    whether the engine and compose were started here. Skips (fails on CI) without an engine."""
    engine_started = False
    try:
        if runtime.private_engine:
            engine_started = runtime.engine.start()
            if build or engine_started:
                ImageBuilder(runtime.engine, lambda line: _say(request.config, line)).build_all(
                    offline_base=runtime.settings.docker_base == "offline"
                )
    except HarnessError as problem:
        if engine_started:
            runtime.engine.stop()
        reason = f"no Docker engine could be started for docker mode: {problem}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{reason} (CI=true: docker-mode tests must run)", pytrace=False)
        pytest.skip(reason)
    except BaseException:
        # Interrupted (Ctrl-C, a test's time-out) before anyone knew this started the engine:
        # stop it here, else nothing would.
        if engine_started:
            runtime.engine.stop()
        raise
    for name, value in runtime.environment().items():
        if os.environ.get(name) != value:
            patch.setenv(name, value)
    patch.setenv("HARNESS_RUNTIME", "docker")
    if set(runtime.running_services()) >= {"localstack", "agent"}:
        return engine_started, False
    _say(request.config, "docker compose up (testcontainers DockerCompose)")
    try:
        compose.start()
    except BaseException:
        if engine_started:  # its containers stop with it
            runtime.engine.stop()
        raise
    return engine_started, True


@contextmanager
def running(config: pytest.Config, settings: Settings, services: list[str]) -> Iterator[None]:
    """The named runtime services, started if needed (installs first, on the set-up's own
    time budget) and stopped after if this started them (under xdist: by the controller at
    the end of the run)."""
    runtime = select_runtime(settings)
    run = shared_run(config)
    if run is not None:
        with setup_budget(config), run.test_lock(exclusive=False), run.state() as state:
            state["started"] = sorted({*state["started"], *runtime.up(services)})
        yield
        return
    with setup_budget(config):
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
    with running(request.config, harness_settings, ["localstack"]):
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
    with running(request.config, harness_settings, ["agent", "agentcore-standin"]):
        yield harness_settings.agent_url


@pytest.fixture(scope="session")
def deployed_stack(request: pytest.FixtureRequest, harness_settings: Settings) -> StackOutputs:
    """The real CDK stack deployed into the local runtime by cdklocal (skipped if up to date);
    on AWS, the stack `make deploy-aws` deployed, read as it is."""
    if harness_settings.is_local:
        request.getfixturevalue("localstack")
        mode = select_runtime(harness_settings).mode
        with setup_budget(request.config):  # a first synth on a cold machine fetches jsii
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
