"""The shared runtime of an xdist run, brought up by the run's controller as the run starts.

The workers of ``pytest -n N`` share one runtime (``harness.xdist_run``); whichever worker's
test first needed a service started it, so the run's first minute went: the workers start and
collect (~2-3 s), then one worker starts LocalStack, deploys the stack and starts the agent
while its exclusive tests wait, and a deploy of an apart test (the bench's, on a runtime of its
own) could take the checkout's CDK lock first. The controller, which runs no test, starts
LocalStack instead the moment the run starts (when the end-to-end tier's conftest asks for it:
``pytest_plugin.bring_up_early``), then deploys the stack (at once if the workers are still
collecting: nearly every run of the tier uses it) and, once the workers have collected, starts
the agent and the stand-in beside the deploy, as far as the collected tests use them (the
fixtures ``deployed_stack``, ``agent_services``). All that under the same locks the fixtures
take, so a test that needs the runtime waits for it as it waited for another worker's start.
Whatever a test needs and the head start did not do (it failed, or was not asked) the test's
fixtures still do; what it started is the run's, stopped by the controller at the end, or at
once when the collected tests use none of it. Host mode only (docker mode's compose and engine
are the fixtures' own)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from harness import deploy
from harness.runtime import select_runtime
from harness.runtime.host import HostRuntime
from harness.settings import Settings
from harness.xdist_run import SharedRun

logger = logging.getLogger(__name__)

# The plug-in's fixtures a test may use, and what of the shared runtime each one needs (the
# fixtures that use these, e.g. ``trigger``, are in a test's fixture closure with them).
STACK, AGENT = "stack", "agent"
NEEDS = {
    "localstack": frozenset(),
    "aws_client": frozenset(),
    "deployed_stack": frozenset({STACK}),
    "agent_services": frozenset({AGENT}),
}
# How long the head start waits for the first worker's collection (else it leaves the rest
# to the fixtures).
COLLECTION_TIMEOUT_SECONDS = 600.0


def needs_of(fixture_closures: Iterable[Iterable[str]]) -> list[str] | None:
    """What the collected tests, given by their fixture closures, need of the shared runtime:
    None if nothing, else [] (LocalStack), or the stack and the agent besides."""
    needs: set[str] | None = None
    for closure in fixture_closures:
        for name in closure:
            if name in NEEDS:
                needs = (needs or set()) | NEEDS[name]
    return None if needs is None else sorted(needs)


class HeadStart:
    """The controller's bring-up of the run's shared runtime, in a thread of its own."""

    def __init__(self, run: SharedRun, settings: Settings) -> None:
        self.run = run
        self.settings = settings
        self.error: BaseException | None = None
        self._needs: list[str] | None = None
        self._started: list[str] = []
        self._collected = threading.Event()
        self._thread = threading.Thread(target=self._main, name="harness-head-start")

    def start(self) -> None:
        self._thread.start()

    def collected(self, needs: list[str] | None) -> None:
        """The first worker's collection: what its tests need (None: nothing)."""
        if not self._collected.is_set():
            self._needs = needs
            self._collected.set()

    def finish(self) -> None:
        """Wait for the bring-up to end (the run ends: nothing more will be asked)."""
        self._collected.set()
        if self._thread.is_alive():
            self._thread.join()

    def _main(self) -> None:
        try:
            if not self.settings.is_local:
                return
            runtime = select_runtime(self.settings)
            if not isinstance(runtime, HostRuntime):
                return
            # A test waits for it as for another worker's start: the shared test lock for the
            # whole bring-up (an exclusive test waits), the run's start lock for each start.
            with self.run.test_lock(exclusive=False):
                self._bring_up(runtime)
        except KeyboardInterrupt as interrupt:  # Ctrl-C reached its command: the run ends
            logger.debug("the shared runtime's head start: %s", interrupt)
            self.error = interrupt
        except BaseException as error:  # noqa: BLE001 - the fixtures meet it again, and say it
            logger.warning("the shared runtime's head start failed: %s", error)
            self.error = error

    def _bring_up(self, runtime: HostRuntime) -> None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="head-start-deploy") as aside:
            self._up(runtime, ["localstack"])
            # The workers still collecting: nearly every run of the tier uses the stack, so it
            # is deployed meanwhile (the agent waits for the collection: its start would only
            # slow the workers down).
            deploying = None if self._collected.is_set() else aside.submit(self._deploy, runtime)
            self._collected.wait(COLLECTION_TIMEOUT_SECONDS)
            needs = self._needs
            if needs is not None and STACK in needs and deploying is None:
                deploying = aside.submit(self._deploy, runtime)
            if needs is not None and AGENT in needs:
                self._up(runtime, ["agent", "agentcore-standin"])  # beside the deploy
            if deploying is not None:
                deploying.result()
            if needs is None:
                self._stop(runtime)

    def _deploy(self, runtime: HostRuntime) -> None:
        deploy.deploy(self.settings, runtime_mode=runtime.mode, report=logger.info)

    def _up(self, runtime: HostRuntime, services: list[str]) -> None:
        with self.run.state() as state:
            started = runtime.up(services)
            state["started"] = sorted({*state["started"], *started})
        self._started.extend(started)

    def _stop(self, runtime: HostRuntime) -> None:
        """No test needs what the head start started: stopped now, not at the run's end."""
        with self.run.state() as state:
            runtime.down(self._started)
            state["started"] = [name for name in state["started"] if name not in self._started]
