"""Logging, set up once per process: one handler, on the root logger, writing to stderr.

Every line once. bedrock_agentcore's app adds its own (JSON) handler to the
``bedrock_agentcore.app`` logger when the app is made, unless that logger has one already, and
the records it handles also reach the root logger's handler: each SDK line was written twice.
``configure_logging`` removes that handler, so the SDK's records go through the root handler
like everyone else's. Uvicorn is run with ``log_config=None`` for the same reason (agent/app.py).
"""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that libraries give handlers of their own; their records propagate to root instead.
LIBRARY_LOGGERS = ("bedrock_agentcore.app",)


def configure_logging(level: int = logging.INFO) -> None:
    """Root handler on stderr with LOG_FORMAT (kept if the process has one already)."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    for name in LIBRARY_LOGGERS:
        library_logger = logging.getLogger(name)
        for handler in list(library_logger.handlers):
            library_logger.removeHandler(handler)
        library_logger.propagate = True
