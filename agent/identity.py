"""Whose code a running agent (or AgentCore stand-in) is: its checkout and a code fingerprint.

Several checkouts of this repository can live on one machine. Before the local harness reuses
a service that answers on its port, it asks ``GET /_harness/identity``: the checkout the
service's code was imported from, and a fingerprint of that code taken when it started. A
service of another checkout is then never used silently, and one whose code was edited since
it started is restarted. Stdlib only: the stand-in (harness/agentcore_standin.py) and the
agent image import it too (in AWS nothing routes to this path; AgentCore forwards only
``/invocations`` and ``/ping``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

IDENTITY_PATH = "/_harness/identity"
CODE_DIR = Path(__file__).resolve().parent
CHECKOUT = CODE_DIR.parent
# What a code change is: the same files `make agent` watches.
CODE_SUFFIXES = (".py", ".md")

# The agent's code: its package and the contract it imports.
AGENT_CODE = (CODE_DIR, CHECKOUT / "contract")


def code_files(path: Path) -> list[Path]:
    """The code files under ``path`` (a file or a folder), sorted."""
    if not path.is_dir():
        return [path] if path.exists() else []
    return sorted(
        file
        for file in path.rglob("*")
        if file.suffix in CODE_SUFFIXES and "__pycache__" not in file.parts and file.is_file()
    )


def code_fingerprint(*paths: Path) -> str:
    """A short hash of the code under ``paths`` (names relative to the checkout, contents)."""
    sha = hashlib.sha256()
    for path in paths:
        for file in code_files(path):
            sha.update(str(file.relative_to(CHECKOUT)).encode() + b"\0")
            sha.update(file.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def identity(service: str, code: tuple[Path, ...]) -> dict[str, Any]:
    """The answer to ``GET /_harness/identity``; call it once, when the service starts."""
    return {
        "service": service,
        "checkout": str(CHECKOUT),
        "fingerprint": code_fingerprint(*code),
        "pid": os.getpid(),
    }
