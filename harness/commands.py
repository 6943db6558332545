"""One way to run a command to its end (an install step, ``cdk``, ``docker compose``).

Output captured as text; a failure (non-zero exit, a timeout, a program that cannot start)
becomes the caller's ``HarnessError`` subclass with the command's purpose and the tail of its
output, so the user reads what went wrong rather than a traceback. Processes with a lifecycle
(services, the agent under ``make agent``) are ``harness.runtime.processes``' business.
"""

from __future__ import annotations

import logging
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

from harness.errors import HarnessError

logger = logging.getLogger(__name__)


def output_tail(*outputs: str | bytes | None, lines: int = 25) -> str:
    """The last ``lines`` lines of the outputs put together (stdout, then stderr)."""
    text = "".join(o.decode(errors="replace") if isinstance(o, bytes) else o or "" for o in outputs)
    return "\n".join(text.strip().splitlines()[-lines:])


def run(
    command: list[str],
    *,
    what: str,
    error: type[HarnessError] = HarnessError,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    tail: int = 25,
    advice: str = "",
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end and return it (``stdout``/``stderr`` as text).

    Raises ``error`` naming ``what`` with the exit status (or the timeout) and the last
    ``tail`` lines of its output, then ``advice`` (what to do next) on a line of its own.
    With ``check=False`` a non-zero exit is returned, not raised (a test asserts on it); a
    timeout or a program that cannot start is still raised. A command ended by SIGINT (Ctrl-C)
    raises ``KeyboardInterrupt``.
    """
    logger.debug("command=<%s> | running", " ".join(command))
    after = f"\n{advice}" if advice else ""
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=None if env is None else dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except OSError as problem:  # not found, not executable, a missing cwd
        raise error(f"{what} could not start: {problem}{after}") from None
    except subprocess.TimeoutExpired as expired:
        output = output_tail(expired.stdout, expired.stderr, lines=tail)
        raise error(f"{what} did not finish within {timeout:g} s:\n{output}{after}") from None
    if result.returncode == -signal.SIGINT:
        # Ctrl-C reached the command's process group: the user's interrupt, not its failure
        # (a thread running it, as the test run's head start, would otherwise print its output).
        raise KeyboardInterrupt(f"{what} was interrupted")
    if check and result.returncode != 0:
        output = output_tail(result.stdout, result.stderr, lines=tail)
        raise error(f"{what} failed (exit {result.returncode}):\n{output}{after}")
    return result
