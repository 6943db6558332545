"""`make lint`'s mypy, started from the machine's cache of the third-party types.

A new checkout's first mypy run analyses every third-party module the code imports (most of
it aws-cdk-lib's types): ~50 CPU-s, minutes beside the other tiers of a first `make test`,
for results that depend on the pinned packages alone. After a run, mypy's cache
(``.mypy_cache``: sqlite shards of per-module rows) is published once per machine, keyed by
the lock, the mypy configuration and the interpreter, with every row of this project's own
modules left out; a checkout with no cache of its own starts from a copy of it. mypy still
checks each row against its source (path, size, hash) before it trusts it, so a stale row is
only re-analysed. Publishing is whole or not at all (a folder renamed into place; the first
checkout wins), and a copy is taken, never a link: mypy writes into its shards.

``python -m harness.typecheck [mypy arguments]`` runs ``python -m mypy`` with them.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path

from harness.fingerprint import fingerprint
from harness.settings import REPO_ROOT, Settings

CACHE_NAME = ".mypy_cache"
# mypy's sqlite cache: one table of rows named after the module ("agent/app.meta.ff").
SHARD_GLOB = "*/cache*.db"
ROWS_TABLE = "files2"


def mypy_config(repo: Path) -> dict[str, object]:
    """The [tool.mypy] table of ``repo``'s pyproject.toml (with its overrides)."""
    with (repo / "pyproject.toml").open("rb") as file:
        config: dict[str, object] = tomllib.load(file).get("tool", {}).get("mypy", {})
    return config


def cache_key(repo: Path) -> str:
    """What the third-party rows depend on: the pinned packages (mypy among them), the
    configuration and the interpreter."""
    extra = json.dumps(
        {"mypy": mypy_config(repo), "python": list(sys.version_info[:2])}, sort_keys=True
    )
    return fingerprint(repo / "requirements" / "dev.lock", extra=extra)


def project_modules(repo: Path) -> set[str]:
    """Top-level module names of this checkout's own code, wherever mypy finds it (the
    repository root and the configuration's mypy_path)."""
    roots = [repo]
    paths = mypy_config(repo).get("mypy_path", [])
    if isinstance(paths, list):
        roots += [repo / str(path) for path in paths]
    names = set()
    for root in roots:
        for entry in root.iterdir():
            if entry.suffix == ".py":
                names.add(entry.stem)
            elif entry.is_dir() and any(entry.glob("*.py")):
                names.add(entry.name)
    return names


def is_project_row(row: str, project: Iterable[str]) -> bool:
    """Whether a cache row ("agent/app.meta.ff", "app.data.ff") is one of ``project``'s."""
    return row.split("/", 1)[0].split(".", 1)[0] in set(project)


def shared_dir(settings: Settings, repo: Path) -> Path:
    return settings.cache_dir / "mypy" / cache_key(repo)


def seed(cache: Path, shared: Path) -> bool:
    """Copy the shared cache to ``cache`` if this checkout has none; True if it did."""
    if cache.exists() or not shared.is_dir():
        return False
    with tempfile.TemporaryDirectory(dir=cache.parent, prefix=".mypy-seed-") as tmp:
        copy = Path(tmp) / "copy"
        shutil.copytree(shared, copy)
        copy.rename(cache)
    return True


def publish(cache: Path, shared: Path, project: Iterable[str]) -> bool:
    """Publish ``cache`` without ``project``'s rows unless the machine has it; True if done.
    Only mypy's sqlite cache is published (its rows can be told apart; a cache of JSON files
    is left alone)."""
    shards = list(cache.glob(SHARD_GLOB))
    if shared.exists() or not shards:
        return False
    shared.parent.mkdir(parents=True, exist_ok=True)
    project = set(project)
    with tempfile.TemporaryDirectory(dir=shared.parent, prefix=".publishing-") as tmp:
        copy = Path(tmp) / "copy"
        shutil.copytree(cache, copy, ignore=shutil.ignore_patterns("*.db", "*.db-*"))
        for shard in shards:
            _copy_without(shard, copy / shard.relative_to(cache), project)
        with contextlib.suppress(OSError):  # another checkout's copy came first
            copy.rename(shared)
            return True
    return False


def _copy_without(shard: Path, target: Path, project: set[str]) -> None:
    """A consistent copy of a shard (sqlite's backup) with ``project``'s rows deleted. The
    shard is opened for writing: mypy leaves the rows it wrote last in the shard's write-ahead
    log, which a read-only connection does not see."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(shard)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        rows = [row for (row,) in copy.execute(f"SELECT path FROM {ROWS_TABLE}")]
        copy.executemany(
            f"DELETE FROM {ROWS_TABLE} WHERE path = ?",
            [(row,) for row in rows if is_project_row(row, project)],
        )
        copy.commit()
    finally:
        source.close()
        copy.close()


def cache_rows(cache: Path) -> set[str]:
    """The names of the rows in ``cache``'s shards."""
    rows: set[str] = set()
    for shard in cache.glob(SHARD_GLOB):
        connection = sqlite3.connect(shard)
        try:
            rows.update(row for (row,) in connection.execute(f"SELECT path FROM {ROWS_TABLE}"))
        finally:
            connection.close()
    return rows


def main(argv: list[str]) -> int:
    shared = shared_dir(Settings(), REPO_ROOT)
    cache = REPO_ROOT / CACHE_NAME
    if seed(cache, shared):
        sys.stdout.write(
            f"mypy: starting from the machine's cache of third-party types ({shared})\n"
        )
    sys.stdout.flush()
    code = subprocess.run([sys.executable, "-m", "mypy", *argv], cwd=REPO_ROOT).returncode
    if code in (0, 1):  # a finished analysis (1: errors in this project's code)
        try:
            publish(cache, shared, project_modules(REPO_ROOT))
        except (OSError, sqlite3.Error) as problem:  # the cache is an optimisation only
            sys.stderr.write(f"mypy: its cache was not shared ({problem})\n")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
