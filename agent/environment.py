"""Settings read from environment variables: the one helper the agent, the AgentCore stand-in
and the harness declare their settings with.

A setting is a dataclass field, ``port: int = setting("AGENT_PORT", 8080, port_number)``: when
the object is made, the field is read from the variable (unset or blank: the default), so an
explicit argument beats the environment. The field's metadata names the variable, so tests can
check that every variable is documented (``variables_of``). A value the parser refuses raises
SettingError, whose message is one line naming the variable, the value and what is accepted.

Standard library only: the agent's image installs agent/requirements.txt and nothing else.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from dataclasses import field, fields
from typing import Any, NoReturn
from urllib.parse import urlsplit

# Field metadata key: the variables a setting is read from, in order (the first one set wins).
VARIABLES = "environment_variables"


class SettingError(ValueError):
    """An environment variable holds a value its setting cannot take (a one-line message)."""

    def __init__(self, variable: str, value: str, accepted: str) -> None:
        super().__init__(f"{variable}={value!r} is not valid: expected {accepted}")
        self.variable = variable
        self.value = value
        self.accepted = accepted


def exit_on(error: SettingError, program: str) -> NoReturn:
    """Stop as a command line stops on a bad argument: one line on stderr, exit status 2."""
    sys.stderr.write(f"{program}: error: {error}\n")
    raise SystemExit(2)


def setting[T](
    variables: str | tuple[str, ...],
    default: T,
    parse: Callable[[str], T],
    *,
    verbatim: bool = False,
) -> T:
    """A dataclass field read from ``variables`` (the first set, non-blank one) through
    ``parse``, which raises ValueError with what it accepts. ``verbatim``: a set variable is
    taken as it is, blank or padded (text typed by people, passed on byte for byte)."""
    names = (variables,) if isinstance(variables, str) else variables

    def read() -> T:
        return read_setting(names, default, parse, verbatim=verbatim)

    return field(default_factory=read, metadata={VARIABLES: names})


def read_setting[T](
    names: tuple[str, ...], default: T, parse: Callable[[str], T], *, verbatim: bool = False
) -> T:
    for name in names:
        raw = os.environ.get(name)
        if raw is None or (not verbatim and not raw.strip()):
            continue
        try:
            return parse(raw if verbatim else raw.strip())
        except ValueError as error:
            raise SettingError(name, raw, str(error)) from None
    return default


def variables_of(settings_class: type[Any]) -> list[str]:
    """The environment variables a settings dataclass reads, in field order."""
    return [name for f in fields(settings_class) for name in f.metadata.get(VARIABLES, ())]


# -- parsers: each raises ValueError whose message says what it accepts ----------------------
def text(value: str) -> str:
    return value


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    accepted = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(accepted) from None
        if number < low or (high is not None and number > high):
            raise ValueError(accepted)
        return number

    return parse


port_number = integer(1, 65535)


def positive_number(accepted: str, at_most: float = math.inf) -> Callable[[str], float]:
    """A finite number above 0 (and at most ``at_most``); ``accepted`` says so in errors."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(accepted) from None
        if not (math.isfinite(number) and 0 < number <= at_most):
            raise ValueError(accepted)
        return number

    return parse


# A duration: a finite number greater than 0.
seconds = positive_number("a number of seconds greater than 0")


def one_of(*choices: str) -> Callable[[str], str]:
    """One of ``choices`` (any case; returned as written in ``choices``)."""
    accepted = "one of " + ", ".join(choices)

    def parse(value: str) -> str:
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
        raise ValueError(accepted)

    return parse


def flag(value: str) -> bool:
    accepted = "1 or 0 (also true/false, yes/no)"
    lowered = value.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError(accepted)


def http_url(value: str) -> str:
    """An http(s) URL with a host (and a valid port, if it names one); no trailing slash."""
    accepted = "an http(s) URL such as http://127.0.0.1:4566"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:
        raise ValueError(accepted) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(accepted)
    return value.rstrip("/")
