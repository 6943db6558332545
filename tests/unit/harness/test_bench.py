"""`make bench`'s figures: percentiles and the printed table's rows."""

from __future__ import annotations

from harness.bench import summary
from harness.cli import _flatten


def test_summary_percentiles():
    assert summary([]) == {}
    assert summary([0.3, 0.1, 0.2, 0.4]) == {"p50": 0.25, "p95": 0.4, "max": 0.4, "n": 4}


def test_nested_figures_become_dotted_rows():
    rows = _flatten({"emulator": "localstack", "concurrent": {"wall_s": 10.3, "lost": 0}})
    assert rows == [("emulator", "localstack"), ("concurrent.wall_s", 10.3), ("concurrent.lost", 0)]
