"""Content fingerprints, so installs and deploys are skipped when nothing changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

_IGNORED_PARTS = frozenset({"__pycache__", "build", "node_modules", "cdk.out"})


def fingerprint(*paths: Path, extra: str = "") -> str:
    """A short hash of the files under ``paths`` (recursively) and of ``extra``."""
    sha = hashlib.sha256(extra.encode())
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if _IGNORED_PARTS & set(file.parts) or ".egg-info" in str(file):
                continue
            sha.update(str(file.relative_to(path.parent)).encode())
            sha.update(file.read_bytes())
    return sha.hexdigest()[:16]
