"""The tests' synths of the CDK app, kept by content: a synth of the same stage and context from
the same inputs (the CDK app and what it bundles or packages: infra/, contract/, agent/, the
invoker's layer lock; aws-cdk-lib's and cdk-nag's pins in requirements/dev.lock; the code
that synthesizes: tests/support/templates.py and this module) is done once, by whichever test
process (the functional tier, an end-to-end worker) needs it first, and read from
.runtime/cache/synths/<key>/ by every other one, in this run and the next ones. An in-process
synth costs seconds of CPU (jsii's node kernel loading aws-cdk-lib, then building the stack);
the same inputs always give the same template.

What no synth reads is not in the key: agent/testing/ (the agent's test doubles) is left out
of the aws stage's image asset (AGENT_IMAGE_EXCLUDE in infra/agent_workflow/agent_runtime.py),
and `make test`'s integration lane edits a file there for a few seconds (test_checkouts): a
synth whose key was read meanwhile missed its kept twin and ran again (~9 s on a busy machine).
The root .dockerignore, which the image asset's hash honours, is in it.

The cache is the checkout's own (its .runtime/), so another checkout's code is never read.
Kept whole or not at all: a synth is copied into a folder of its own, then renamed into
place; a reader only sees complete entries. A synth during which an input changed (a file
saved meanwhile: the result may hold either version) is used but not kept. A synth that is
not the app as it is (a test's deliberate edit, a patched function) comes here only with
options that tell it apart: each patched function and the value it gives, or the edit's
source (tests/support/templates.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from harness import recently_used
from harness.fingerprint import fingerprint
from harness.settings import REPO_ROOT

CACHE_DIR = REPO_ROOT / ".runtime" / "cache" / "synths"
KEPT_ENTRIES = 24  # the most recently used stay (a template ~50 kB; an assembly ~17 MB)
COMPLETE = "harness-synth-complete"  # written last into an entry
STALE_PARTIAL_SECONDS = 3600
INPUTS = (
    REPO_ROOT / "infra" / "app.py",
    REPO_ROOT / "infra" / "cdk.json",
    REPO_ROOT / "infra" / "agent_workflow",
    REPO_ROOT / "contract",
    REPO_ROOT / "agent",  # the aws stage's image asset (less LEFT_OUT)
    REPO_ROOT / ".dockerignore",  # what of the repository root that asset holds
    REPO_ROOT / "requirements" / "lambda.lock",
    REPO_ROOT / "requirements" / "dev.lock",
    REPO_ROOT / "tests" / "support" / "templates.py",
    Path(__file__),
)
# Folders inside the INPUTS that no synth reads (the image asset excludes them).
LEFT_OUT = (REPO_ROOT / "agent" / "testing",)


def synth_key(stage: str, options: Mapping[str, object], *, assembly: bool) -> str:
    """What a synth of ``stage`` with ``options`` (its context, and whatever else tells it
    apart) made now would be made from."""
    extra = json.dumps(
        {
            "stage": stage,
            "options": dict(options),
            "assembly": assembly,
            "python": list(sys.version_info[:2]),
        },
        sort_keys=True,
    )
    return fingerprint(*_read_inputs(), extra=extra)


def _read_inputs() -> list[Path]:
    """INPUTS, a folder holding one of LEFT_OUT as its other entries."""
    paths: list[Path] = []
    for path in INPUTS:
        if any(left_out.parent == path for left_out in LEFT_OUT):
            paths += sorted(entry for entry in path.iterdir() if entry not in LEFT_OUT)
        else:
            paths.append(path)
    return paths


def kept_synth(
    stage: str,
    options: Mapping[str, object],
    outdir: Path,
    synthesize: Callable[[Path], None],
    *,
    assembly: bool,
) -> bool:
    """Fill ``outdir`` with the synth of ``stage`` and ``options``: the kept one if there is
    one (True), else ``synthesize(outdir)``, then kept (False). With ``assembly`` the whole
    cloud assembly (staged assets too) is kept, else its JSON files (templates, manifest,
    validation report)."""
    key = synth_key(stage, options, assembly=assembly)
    entry = CACHE_DIR / key
    if (entry / COMPLETE).is_file():
        try:
            os.utime(entry)  # recently used
            _copy(entry, outdir)
            (outdir / COMPLETE).unlink()
            return True
        except OSError:  # removed meanwhile, as one of the least recently used
            shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True, exist_ok=True)
    synthesize(outdir)
    if synth_key(stage, options, assembly=assembly) == key:
        _keep(outdir, entry, whole=assembly)
    return False


def _copy(source: Path, target: Path, *, whole: bool = True) -> None:
    """``source``'s files into ``target`` as hard links (the files are never written again:
    a synth writes a new folder), or copies across file systems."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    target.mkdir(parents=True, exist_ok=True)
    if whole:
        shutil.copytree(source, target, copy_function=link, dirs_exist_ok=True)
        return
    for file in source.glob("*.json"):
        link(str(file), str(target / file.name))


def _keep(outdir: Path, entry: Path, *, whole: bool) -> None:
    def fill(partial: Path) -> None:
        _copy(outdir, partial, whole=whole)
        (partial / COMPLETE).write_text(entry.name + "\n")

    partial = CACHE_DIR / f".{entry.name}.{os.getpid()}.{threading.get_ident()}"
    if recently_used.put_whole(entry, partial, fill):
        os.utime(entry)  # the most recently used
    now = time.time()
    for stale in CACHE_DIR.glob(".*"):  # left by a process killed while it kept its synth
        with contextlib.suppress(OSError):
            if now - stale.stat().st_mtime > STALE_PARTIAL_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)
    entries = (path for path in CACHE_DIR.iterdir() if not path.name.startswith("."))
    recently_used.prune(entries, KEPT_ENTRIES)
