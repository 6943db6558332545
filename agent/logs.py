"""Logging, set up once per process: one handler, on the root logger, writing to stderr."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int = logging.INFO) -> None:
    """Root handler on stderr with LOG_FORMAT (kept if the process has one already)."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
