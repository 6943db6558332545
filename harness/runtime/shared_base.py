"""The offline base image, built once per machine instead of once per checkout.

Each checkout has its own private engine, so a new clone built the offline base again:
``debootstrap`` of Debian's packages and a copy of the machine's Pythons, ~40 s on a quiet
2-core machine and minutes beside the other tiers of a first ``make test``. The base holds no
project code (Debian packages, the interpreters, the machine's CAs), so it is saved once into
the machine's cache (``docker save``), named after its inputs hash, and loaded by the next
checkout (``docker load``, seconds). What is loaded is checked like a built image: by its
inputs label. The archive is written to a file of its own and renamed into place, so two
checkouts never read half of one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

# Runs ``docker ARGS`` on the checkout's engine; True if it succeeded.
Docker = Callable[..., bool]


def archive(cache_dir: Path, inputs: str) -> Path:
    """Where the machine keeps the base whose inputs hash is ``inputs``."""
    return cache_dir / "docker" / f"offline-base-{inputs}.tar"


def load(docker: Docker, label: Callable[[], str | None], path: Path, inputs: str) -> bool:
    """Load the machine's saved base, if any; True if the engine now has it (its label
    matches ``inputs``)."""
    if not path.is_file():
        return False
    return docker("load", "--quiet", "--input", str(path)) and label() == inputs


def save(docker: Docker, tag: str, path: Path) -> bool:
    """Save ``tag`` as the machine's base unless it has one; True if this call saved it."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        if not docker("save", "--output", str(partial), tag):
            return False
        partial.rename(path)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
