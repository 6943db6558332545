"""Images with no project code, built once per machine instead of once per checkout.

Each checkout has its own private engine, so a new clone built them all again: the offline
base (``debootstrap`` of Debian's packages and a copy of the machine's Pythons, ~40 s on a
quiet 2-core machine) and the third-party stages of the compose file's images (the JDK from
apt, LocalStack's and the agent's locked packages from PyPI: minutes beside the other tiers
of a first ``make test``). None holds project code (Debian packages, the interpreters, the
machine's CAs, the locked packages), so each is saved once into the machine's cache
(``docker save``), named after its inputs hash, and loaded by the next checkout
(``docker load``, seconds). What is loaded is checked like a built image: by its inputs
label. The archive is written to a file of its own and renamed into place, so two checkouts
never read half of one; each engine loads its own copy, so two checkouts may load or build at
once. An image's archives (~0.3-1.3 GB each) are pruned when a new one is saved: the
``KEPT_PER_IMAGE`` most recently saved or loaded stay (a checkout on older lock files still
finds its own); a removed one is only built again by whoever needs it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from harness import recently_used

# Runs ``docker ARGS`` on the checkout's engine; True if it succeeded.
Docker = Callable[..., bool]

KEPT_PER_IMAGE = 2


def archive(cache_dir: Path, name: str, inputs: str) -> Path:
    """Where the machine keeps the image ``name`` whose inputs hash is ``inputs``."""
    return cache_dir / "docker" / f"{name}-{inputs}.tar"


def load(docker: Docker, label: Callable[[], str | None], path: Path, inputs: str) -> bool:
    """Load the machine's saved image, if any; True if the engine now has it (its label
    matches ``inputs``)."""
    if not path.is_file():
        return False
    if not (docker("load", "--quiet", "--input", str(path)) and label() == inputs):
        return False
    with contextlib.suppress(OSError):
        os.utime(path)  # used: kept by the next prune
    return True


def save(docker: Docker, tag: str, path: Path) -> bool:
    """Save ``tag`` at ``path`` unless the machine has it; True if this call saved it."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        if not docker("save", "--output", str(partial), tag):
            return False
        partial.rename(path)
        prune(path)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def prune(kept: Path) -> list[Path]:
    """Remove the older archives of the image ``kept`` is one of (same name, other inputs),
    keeping the ``KEPT_PER_IMAGE`` most recently used, ``kept`` always; the ones removed."""
    name = kept.name.rsplit("-", 1)[0]
    same_image = re.compile(rf"{re.escape(name)}-[0-9a-f]+\.tar")

    others = [p for p in kept.parent.iterdir() if p != kept and same_image.fullmatch(p.name)]
    return recently_used.prune(others, KEPT_PER_IMAGE - 1)
