"""`make bench`'s comparison: one column per emulator, their ratio, and the targets.

Pure functions over the figures each emulator's run produced (``harness.bench``), so the
table and the JSON are checked by unit tests, not by the machine's speed.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.settings import REPO_ROOT

# Concurrent sessions per burst, the bursts TARGETS holds (the first one's memory is measured).
BURSTS = (50, 100)
# The figures a fast local loop is held to (issue 16), for the default emulator's column:
# a row's figure must be at most this (seconds, megabytes, counts).
TARGETS: dict[str, float] = {
    "sequential.execution_succeeded_s.p50": 0.4,
    "sequential.execution_succeeded_s.p95": 0.6,
    "concurrent_50.wall_s": 5.0,
    "concurrent_50.lost": 0,
    "concurrent_50.duplicate_runs": 0,
    "concurrent_100.wall_s": 8.0,
    "concurrent_100.lost": 0,
    "concurrent_100.duplicate_runs": 0,
    "pss_mb_after_burst.total": 800.0,
    "rss_mb_settled.total": 600.0,
    "deploy_first_s": 15.0,
    "deploy_one_change_s": 8.0,
    "agent_change_to_completed_s": 1.5,
}
# Which emulator's column the targets and the ratio's numerator are.
SUBJECT = "localstack"
# /proc/vmstat's count of file pages read back after their eviction from the page cache.
REFAULTS = "workingset_refault_file"
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def flatten(figures: Mapping[str, Any], prefix: str = "") -> dict[str, object]:
    """Nested figures as dotted keys, in their order."""
    rows: dict[str, object] = {}
    for key, value in figures.items():
        if isinstance(value, Mapping):
            rows.update(flatten(value, f"{prefix}{key}."))
        else:
            rows[f"{prefix}{key}"] = value
    return rows


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def timed_or_sized(figure: str) -> bool:
    """Seconds or megabytes (``deploy_first_s``, ``rss_mb_settled.total``): figures a ratio
    means something for, unlike counts (sessions, lost)."""
    return any(part.endswith("_s") or "_mb" in part for part in figure.split("."))


def ratio(subject: object, other: object) -> float | None:
    """``subject / other`` for two numbers (None where either is missing or ``other`` is 0)."""
    a, b = _number(subject), _number(other)
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


@dataclass(frozen=True)
class Row:
    figure: str
    values: dict[str, object]  # emulator -> value (absent where it has no such figure)
    ratio: float | None  # SUBJECT's value / the other emulator's
    target: float | None
    met: bool | None  # None where there is no target or no value to hold to it

    def cells(self, emulators: list[str]) -> list[str]:
        values = [_cell(self.values.get(e)) for e in emulators]
        ratio = "" if self.ratio is None else f"{self.ratio:g}x"
        if self.target is None:
            target = ""
        else:
            mark = {True: "✓", False: "✗", None: "?"}[self.met]
            target = f"≤ {self.target:g} {mark}"
        return [self.figure, *values, ratio, target]


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def compare(
    by_emulator: Mapping[str, Mapping[str, Any]], targets: Mapping[str, float] = TARGETS
) -> list[Row]:
    """One row per figure any emulator has; the ratio (of times and sizes) is SUBJECT's over
    the first other emulator's; targets are held against SUBJECT's value."""
    flat = {emulator: flatten(figures) for emulator, figures in by_emulator.items()}
    others = [e for e in flat if e != SUBJECT]
    names: dict[str, None] = {}
    for figures in flat.values():
        names.update(dict.fromkeys(figures))
    rows = []
    for name in names:
        values = {e: figures[name] for e, figures in flat.items() if name in figures}
        subject = values.get(SUBJECT)
        target = targets.get(name)
        value = _number(subject)
        rows.append(
            Row(
                figure=name,
                values=values,
                ratio=(
                    ratio(subject, values.get(others[0]))
                    if others and timed_or_sized(name)
                    else None
                ),
                target=target,
                met=None if target is None or value is None else value <= target,
            )
        )
    return rows


@dataclass(frozen=True)
class Activity:
    """The whole machine's counters: CPU time its processes used (user, nice, system, irq,
    softirq) and file pages read back into the page cache after their eviction. A bench's
    figures are read beside their growth during it: on a shared VM both vary from hour to
    hour (the same suite took 65 s, then 100 s, as the VM's page cache kept being evicted)."""

    busy_cpu_seconds: float
    page_cache_refaults: int | None


def activity(stat: str, vmstat: str, ticks_per_second: int) -> Activity:
    """The counters from the text of /proc/stat and /proc/vmstat."""
    cpu = next(line.split()[1:] for line in stat.splitlines() if line.startswith("cpu "))
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in cpu[:7])
    refaults = next(
        (int(line.split()[1]) for line in vmstat.splitlines() if line.startswith(REFAULTS + " ")),
        None,
    )
    busy = (user + nice + system + irq + softirq) / ticks_per_second
    return Activity(busy_cpu_seconds=busy, page_cache_refaults=refaults)


def machine_activity() -> Activity | None:
    """This machine's counters now (None where /proc does not have them)."""
    try:
        with open("/proc/stat") as stat, open("/proc/vmstat") as vmstat:
            return activity(stat.read(), vmstat.read(), os.sysconf("SC_CLK_TCK"))
    except (OSError, StopIteration, ValueError):
        return None


def activity_during(before: Activity | None, after: Activity | None) -> dict[str, float]:
    """What the machine did between two readings: busy CPU-s, page cache read again (MB)."""
    if before is None or after is None:
        return {}
    during = {"busy_cpu_s": round(after.busy_cpu_seconds - before.busy_cpu_seconds, 1)}
    if before.page_cache_refaults is not None and after.page_cache_refaults is not None:
        pages = after.page_cache_refaults - before.page_cache_refaults
        during["page_cache_refaulted_mb"] = round(pages * PAGE_BYTES / 1e6, 1)
    return during


def machine(during: Mapping[str, float] | None = None) -> dict[str, object]:
    """What the figures were measured on, and what the machine did meanwhile."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit or "unknown",
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
        **(during or {}),
    }


def document(
    by_emulator: Mapping[str, Mapping[str, Any]], rows: list[Row], about: Mapping[str, object]
) -> dict[str, Any]:
    """The JSON `make bench` writes: the machine, each emulator's figures, ratios, targets."""
    return {
        "machine": dict(about),
        "emulators": {e: dict(figures) for e, figures in by_emulator.items()},
        "ratio": {
            "of": SUBJECT,
            "to": next((e for e in by_emulator if e != SUBJECT), None),
            "figures": {row.figure: row.ratio for row in rows if row.ratio is not None},
        },
        "targets": {
            row.figure: {"at_most": row.target, "value": row.values.get(SUBJECT), "met": row.met}
            for row in rows
            if row.target is not None
        },
    }
