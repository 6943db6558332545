"""``python -m agent.app``: the agent, served on AGENT_HOST:AGENT_PORT (what AgentCore Runtime
runs; the app itself, its ``POST /invocations`` and ``GET /ping``, is agent/server.py).

The settings are read first, before the web framework and the AWS SDK are imported: a bad
variable stops the process at once with one line (exit status 2), whether it is started as
``python -m agent.app`` or imported. The scripted model and faults are test doubles
(agent/testing/, loaded by agent/doubles.py): asked for in an image without them, the app
stops at start with one line saying so.
"""

from __future__ import annotations

import atexit
import gc
import logging
from typing import TYPE_CHECKING

from agent.doubles import TestDoublesMissing, check_available
from agent.environment import SettingError, exit_on
from agent.heap import kept_for_good
from agent.logs import configure_logging
from agent.settings import AgentSettings
from contract.aws_calls import record_aws_calls

if TYPE_CHECKING:  # imported by built_app, once the settings are good
    from bedrock_agentcore.runtime import BedrockAgentCoreApp

logger = logging.getLogger(__name__)

try:
    SETTINGS = AgentSettings.from_env()
except SettingError as bad_setting:
    exit_on(bad_setting, "python -m agent.app")


def built_app() -> BedrockAgentCoreApp:
    """The app, built and ready to serve; its modules are loaded for good (agent/heap.py:
    measured with 20 sessions, ~0.05 of a ~0.38 CPU-s start, ~0.09 CPU-s in all)."""
    with kept_for_good():
        try:
            check_available(SETTINGS)
        except TestDoublesMissing as missing:
            raise SystemExit(f"error: {missing}") from None
        # Local runs log each AWS call for the IAM sufficiency check (RECORD_AWS_CALLS=1,
        # which the local runtime sets and AgentCore never does). Before any client exists.
        record_aws_calls("agent")
        from agent.server import build_app

        app = build_app(SETTINGS)
    return app


def main() -> None:
    """Serve on AGENT_HOST:AGENT_PORT; the host is always explicit (the SDK would pick 0.0.0.0
    whenever /.dockerenv exists). Uvicorn logs through the root handler (log_config=None)."""
    # At exit the heap is left to the system, not collected and freed object by object (the
    # harness's processes do the same: harness/exit_heap.py, which is not in this image).
    atexit.register(gc.freeze)
    app = built_app()
    configure_logging()  # after the SDK made its app (its own handler on its logger goes)
    logger.info(
        "model=<%s>, host=<%s>, port=<%s> | serving", SETTINGS.model, SETTINGS.host, SETTINGS.port
    )
    app.run(port=SETTINGS.port, host=SETTINGS.host, log_config=None)


if __name__ == "__main__":
    main()
