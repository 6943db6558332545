"""`make lint`'s mypy starts a new checkout from the third-party types another checkout
published on this machine (harness/typecheck.py), with real mypy runs on a small project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import typecheck

PYPROJECT = '[tool.mypy]\nfiles = ["mine"]\nstrict = true\n'
# annotated_types: a small typed package of the project's lock.
MODULE = "import annotated_types\n\nLIMIT = annotated_types.Gt(1)\n"


def _checkout(path: Path) -> Path:
    (path / "mine").mkdir(parents=True)
    (path / "pyproject.toml").write_text(PYPROJECT)
    (path / "mine" / "__init__.py").write_text(MODULE)
    return path


def _mypy(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *args],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A first checkout that ran mypy and published its cache; the shared folder. One mypy
    run for the module: its tests only read both (the last one checks nothing changed)."""
    tmp_path = tmp_path_factory.mktemp("published")
    first = _checkout(tmp_path / "first")
    _mypy(first)
    shared = tmp_path / "machine-cache" / "mypy" / "key"
    assert typecheck.publish(first / typecheck.CACHE_NAME, shared, typecheck.project_modules(first))
    return first, shared


def test_a_new_checkout_reuses_the_third_party_types_and_checks_its_own_code(published, tmp_path):
    _, shared = published
    second = _checkout(tmp_path / "second")

    assert typecheck.seed(second / typecheck.CACHE_NAME, shared)
    log = _mypy(second, "--verbose").stderr

    assert "Metadata fresh for annotated_types" in log
    assert "Metadata not found for mine" in log  # the first checkout's own rows were left out


def test_the_published_cache_holds_no_row_of_the_project(published):
    _, shared = published
    rows = typecheck.cache_rows(shared)

    assert any(row.startswith("annotated_types/") for row in rows)
    assert not [row for row in rows if typecheck.is_project_row(row, {"mine"})]


def test_publishing_is_once_per_machine_and_a_seed_never_replaces_a_cache(published):
    first, shared = published
    before = typecheck.cache_rows(shared)

    assert not typecheck.publish(first / typecheck.CACHE_NAME, shared, {"mine"})
    assert not typecheck.seed(first / typecheck.CACHE_NAME, shared)
    assert typecheck.cache_rows(shared) == before
    assert any(
        typecheck.is_project_row(r, {"mine"}) for r in typecheck.cache_rows(first / ".mypy_cache")
    )


def test_a_cache_of_json_files_is_not_published(tmp_path):
    cache = tmp_path / typecheck.CACHE_NAME / "3.12"
    cache.mkdir(parents=True)
    (cache / "mine.meta.json").write_text("{}")
    shared = tmp_path / "shared"

    assert not typecheck.publish(cache.parent, shared, {"mine"})
    assert not shared.exists()
