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

from agent.doubles import TestDoublesMissing, check_available
from agent.environment import SettingError, exit_on
from agent.logs import configure_logging
from agent.settings import AgentSettings
from contract.aws_calls import record_aws_calls

logger = logging.getLogger(__name__)

try:
    SETTINGS = AgentSettings.from_env()
except SettingError as bad_setting:
    exit_on(bad_setting, "python -m agent.app")


def main() -> None:
    """Serve on AGENT_HOST:AGENT_PORT; the host is always explicit (the SDK would pick 0.0.0.0
    whenever /.dockerenv exists). Uvicorn logs through the root handler (log_config=None)."""
    # At exit the heap is left to the system, not collected and freed object by object (the
    # harness's processes do the same: harness/exit_heap.py, which is not in this image).
    atexit.register(gc.freeze)
    try:
        check_available(SETTINGS)
    except TestDoublesMissing as missing:
        raise SystemExit(f"error: {missing}") from None
    # Local runs log each AWS call for the IAM sufficiency check (RECORD_AWS_CALLS=1, which
    # the local runtime sets and AgentCore never does). Before any client exists.
    record_aws_calls("agent")
    from agent.server import build_app

    app = build_app(SETTINGS)
    configure_logging()  # after the SDK made its app (its own handler on its logger goes)
    logger.info(
        "model=<%s>, host=<%s>, port=<%s> | serving", SETTINGS.model, SETTINGS.host, SETTINGS.port
    )
    app.run(port=SETTINGS.port, host=SETTINGS.host, log_config=None)


if __name__ == "__main__":
    main()
