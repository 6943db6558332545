"""Errors the harness reports to people as a message, never as a traceback."""


class HarnessError(RuntimeError):
    """Base class: the message says what went wrong and what to do next."""
