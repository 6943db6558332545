"""Copies kept by what they were made from (synths, saved images): each written whole, then
renamed into place, so a reader never sees half of one; the few most recently used stay.
Several processes may keep or prune at once: whatever another removed meanwhile is skipped."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path


def last_used(path: Path) -> float:
    """When ``path`` was last kept or used (its mtime; 0 if it is gone meanwhile)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def put_whole(target: Path, partial: Path, fill: Callable[[Path], object]) -> bool:
    """``fill(partial)``, then ``partial`` renamed to ``target``; True if this call put it
    there, False if another process had meanwhile (its copy stays, this one is removed)."""
    shutil.rmtree(partial, ignore_errors=True)
    fill(partial)
    try:
        partial.rename(target)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        return False
    return True


def prune(entries: Iterable[Path], keep: int) -> list[Path]:
    """Remove all but the ``keep`` most recently used of ``entries`` (files or folders); the
    ones removed."""
    removed = sorted(entries, key=last_used, reverse=True)[keep:]
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return removed
