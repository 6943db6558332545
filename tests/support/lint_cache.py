"""cfn-lint's findings on a template, kept by content: the same template linted by the same
cfn-lint (its pin and every package it uses, in requirements/dev.lock) with the same set-up
(tests/support/templates.py, this module) gives the same findings, so they are found once and
read from .runtime/cache/cfn-lint/<key>.json by every later run. The functional tier lints five
templates (both stages', their rendered definitions, a broken one): importing cfn-lint (sympy
among its imports) and running its rules took ~2.5 of the tier's ~20 CPU-s, at each run, for
templates that change only when the app does (their synths are kept by content already:
tests/support/synth_cache.py).

The findings kept are cfn-lint's own, before templates.py leaves out the accepted ones. An entry
is written whole, then renamed into place; the most recently used stay."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from harness import recently_used
from harness.fingerprint import fingerprint
from harness.settings import REPO_ROOT

CACHE_DIR = REPO_ROOT / ".runtime" / "cache" / "cfn-lint"
KEPT_ENTRIES = 24  # a handful of templates per version of the app; each entry a few bytes
INPUTS = (
    REPO_ROOT / "requirements" / "dev.lock",
    REPO_ROOT / "tests" / "support" / "templates.py",
    Path(__file__),
)

# One of cfn-lint's findings: its rule's id, the path in the template, its message.
Finding = tuple[str, tuple[str | int, ...], str]


def lint_key(text: str, regions: Sequence[str]) -> str:
    """What linting the template ``text`` for ``regions`` now would depend on."""
    extra = json.dumps(
        {"template": text, "regions": list(regions), "python": list(sys.version_info[:2])}
    )
    return fingerprint(*INPUTS, extra=extra)


def kept_findings(
    text: str, regions: Sequence[str], lint: Callable[[str], list[Finding]]
) -> list[Finding]:
    """The findings kept for the template ``text``, else ``lint(text)``'s, then kept."""
    key = lint_key(text, regions)
    entry = CACHE_DIR / f"{key}.json"
    try:
        kept = json.loads(entry.read_text())
        os.utime(entry)  # recently used
    except FileNotFoundError:
        findings = lint(text)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = CACHE_DIR / f".{entry.name}.{os.getpid()}.{threading.get_ident()}"
        recently_used.put_whole(entry, partial, lambda into: into.write_text(json.dumps(findings)))
        entries = (path for path in CACHE_DIR.iterdir() if not path.name.startswith("."))
        recently_used.prune(entries, KEPT_ENTRIES)
        return findings
    return [(rule, tuple(path), message) for rule, path, message in kept]
