"""`make bench`'s measuring code on a fake clock, and its comparison table: what the bench
reports follows from what it saw, whatever the machine's speed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness import bench as bench_module
from harness import bench_report
from harness.bench import (
    Bench,
    SessionTiming,
    burst_figures,
    record_ended,
    summary,
    time_until_ended,
)
from harness.bench_report import TARGETS, compare, document, flatten, ratio
from harness.cli import build_parser
from harness.settings import Settings

ARN = "arn:aws:states:us-east-1:000000000000:execution:wf:s1"
HAPPY = ["INITIATED", "BUSY", "COMPLETED"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _timed(clock: FakeClock, journal_at: float | None, execution: tuple[float, str] | None):
    """Time a session published at 100.0 whose journal ends ``journal_at`` s later and whose
    execution ends (``execution``: seconds, status) later still."""

    def journal():
        if journal_at is None or clock.now - 100.0 < journal_at:
            return ("BUSY", HAPPY[:2], ARN) if clock.now > 100.1 else None
        return "COMPLETED", HAPPY, ARN if execution else ""

    def execution_status(arn: str) -> str:
        assert arn == ARN
        assert execution is not None
        seconds, status = execution
        return status if clock.now - 100.0 >= seconds else "RUNNING"

    return time_until_ended(
        SessionTiming("s1"),
        100.0,
        journal,
        execution_status,
        timeout=10,
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_session_is_timed_from_its_publish_to_the_journal_then_to_the_execution():
    timing = _timed(clock := FakeClock(), journal_at=0.3, execution=(1.1, "SUCCEEDED"))

    assert timing.journal_completed == pytest.approx(0.3, abs=0.021)  # one 0.02 s poll
    assert timing.execution_succeeded == pytest.approx(1.1, abs=0.021)
    assert timing.statuses == HAPPY
    assert clock.now - 100.0 == pytest.approx(1.1, abs=0.021), "it stops once the execution ended"


def test_an_execution_that_did_not_succeed_has_no_execution_figure():
    timing = _timed(FakeClock(), journal_at=0.3, execution=(0.5, "FAILED"))

    assert timing.journal_completed == pytest.approx(0.3, abs=0.021)
    assert timing.execution_succeeded is None


def test_a_journal_item_without_an_execution_ends_at_the_journal():
    timing = _timed(FakeClock(), journal_at=0.2, execution=None)

    assert timing.journal_completed == pytest.approx(0.2, abs=0.021)
    assert timing.execution_succeeded is None


def test_a_session_that_never_ends_is_reported_without_figures_at_the_bound():
    timing = _timed(clock := FakeClock(), journal_at=None, execution=None)

    assert (timing.journal_completed, timing.execution_succeeded) == (None, None)
    assert clock.now == pytest.approx(110.0), "it gave up at the bound, not before or after"


def _journal(status: str, *history: str) -> dict[str, object]:
    return {"status": status, "history": [{"status": s, "at": "t"} for s in history]}


def test_a_burst_round_records_only_pending_sessions_that_ended():
    pending = {"a", "b", "c"}
    histories: dict[str, list[str]] = {}
    items = {
        "a": _journal("COMPLETED", *HAPPY),
        "b": _journal("BUSY", "INITIATED", "BUSY"),  # still running: stays pending
        "x": _journal("COMPLETED", *HAPPY),  # not this burst's
        # "c": no item yet
    }

    record_ended(items, pending, histories)
    assert (pending, histories) == ({"b", "c"}, {"a": HAPPY})

    record_ended({"b": _journal("FAILED", "INITIATED", "BUSY", "FAILED")}, pending, histories)
    assert pending == {"c"}
    assert histories["b"] == ["INITIATED", "BUSY", "FAILED"]


def test_a_burst_counts_full_histories_lost_sessions_and_second_runs():
    histories = {
        "a": HAPPY,
        "b": ["INITIATED", "BUSY", "BUSY", "COMPLETED"],  # the agent ran twice
        "c": ["INITIATED", "FAILED"],
    }

    figures = burst_figures(["a", "b", "c", "d"], histories, wall=4.56789, publish=0.5)

    assert figures == {
        "sessions": 4,
        "publish_s": 0.5,
        "wall_s": 4.568,
        "completed_full_history": 1,
        "lost": 1,
        "duplicate_runs": 1,
    }


def test_summary_percentiles():
    assert summary([]) == {}
    assert summary([0.3, 0.1, 0.2, 0.4]) == {"p50": 0.25, "p95": 0.4, "max": 0.4, "n": 4}


def test_nested_figures_become_dotted_keys_in_order():
    flat = flatten({"emulator": "localstack", "concurrent_50": {"wall_s": 10.3, "lost": 0}})

    assert list(flat.items()) == [
        ("emulator", "localstack"),
        ("concurrent_50.wall_s", 10.3),
        ("concurrent_50.lost", 0),
    ]


def test_only_times_and_sizes_have_a_ratio():
    rows = compare(
        {
            "localstack": {"a_s": 2.0, "n": 4, "rss_mb_x": {"total": 1.0}},
            "m": {"a_s": 1.0, "n": 2, "rss_mb_x": {"total": 2.0}},
        }
    )

    assert {row.figure: row.ratio for row in rows} == {"a_s": 2.0, "n": None, "rss_mb_x.total": 0.5}


def test_ratio_is_only_for_two_numbers_and_a_nonzero_divisor():
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(3, 2) == 1.5
    assert ratio(1.0, 0) is None
    assert ratio("host", "host") is None
    assert ratio(True, 1) is None
    assert ratio(1.0, None) is None


def test_the_table_has_a_column_per_emulator_the_ratio_and_the_targets():
    by_emulator = {
        "localstack": {
            "emulator": "localstack",
            "deploy_first_s": 12.0,
            "concurrent_50": {"wall_s": 6.0, "lost": 0},
            "settle_s": 30.0,
        },
        "ministack": {
            "emulator": "ministack",
            "deploy_first_s": 24.0,
            "concurrent_50": {"wall_s": 3.0, "lost": 0},
        },
    }

    rows = {row.figure: row for row in compare(by_emulator)}

    assert list(rows) == [
        "emulator",
        "deploy_first_s",
        "concurrent_50.wall_s",
        "concurrent_50.lost",
        "settle_s",
    ]
    first = rows["deploy_first_s"]
    assert (first.ratio, first.target, first.met) == (0.5, TARGETS["deploy_first_s"], True)
    burst = rows["concurrent_50.wall_s"]
    assert (burst.ratio, burst.met) == (2.0, False)
    assert burst.cells(["localstack", "ministack"]) == [
        "concurrent_50.wall_s",
        "6",
        "3",
        "2x",
        "≤ 5 ✗",
    ]
    assert rows["concurrent_50.lost"].ratio is None  # a count
    assert rows["concurrent_50.lost"].met is True
    settle = rows["settle_s"]
    assert settle.values == {"localstack": 30.0}
    assert settle.cells(["localstack", "ministack"]) == ["settle_s", "30", "-", "", ""]

    written = document(by_emulator, list(rows.values()), {"commit": "abc1234"})
    assert written["machine"] == {"commit": "abc1234"}
    assert written["emulators"] == by_emulator
    assert written["ratio"] == {
        "of": "localstack",
        "to": "ministack",
        "figures": {"deploy_first_s": 0.5, "concurrent_50.wall_s": 2.0},
    }
    assert written["targets"]["concurrent_50.wall_s"] == {
        "at_most": 5.0,
        "value": 6.0,
        "met": False,
    }


def test_a_target_without_a_value_is_neither_met_nor_missed():
    rows = compare({"ministack": {"deploy_first_s": 20.0}})

    assert [(r.figure, r.ratio, r.met) for r in rows] == [("deploy_first_s", None, None)]


@pytest.mark.parametrize(
    ("arguments", "bursts", "emulators"),
    [
        ([], (50, 100), ("localstack", "ministack")),
        (["--bursts", "20,40", "--emulators", "ministack"], (20, 40), ("ministack",)),
        (["--emulators", "localstack,localstack"], (50, 100), ("localstack",)),
    ],
)
def test_bench_options(arguments, bursts, emulators):
    args = build_parser().parse_args(["bench", *arguments])

    assert (args.bursts, args.emulators, args.child) == (bursts, emulators, False)


@pytest.mark.parametrize(
    "arguments", [["--bursts", "0"], ["--bursts", "ten"], ["--emulators", "moto"]]
)
def test_bad_bench_options_are_usage_errors(arguments, capsys):
    with pytest.raises(SystemExit) as exit:
        build_parser().parse_args(["bench", *arguments])

    assert exit.value.code == 2
    assert "expected" in capsys.readouterr().err


STAT = """cpu  1000 200 300 9000 50 7 3 11 0 0
cpu0 500 100 150 4500 25 3 2 5 0 0
intr 12345
"""
VMSTAT = """nr_free_pages 100
workingset_refault_anon 0
workingset_refault_file 2000
pgfault 99
"""


def test_the_machines_activity_is_read_from_proc_stat_and_vmstat():
    # busy: user + nice + system + irq + softirq (not idle, iowait, steal), in ticks of 1/100 s
    assert bench_report.activity(STAT, VMSTAT, 100) == bench_report.Activity(15.1, 2000)
    assert bench_report.activity(STAT, "nr_free_pages 1\n", 100).page_cache_refaults is None


def test_what_the_machine_did_during_a_bench_goes_with_its_figures():
    before = bench_report.Activity(100.0, 1000)
    after = bench_report.Activity(250.04, 1000 + 2_000_000 // bench_report.PAGE_BYTES)
    during = bench_report.activity_during(before, after)
    assert during == {"busy_cpu_s": 150.0, "page_cache_refaulted_mb": 2.0}
    assert bench_report.activity_during(before, bench_report.Activity(101.0, None)) == {
        "busy_cpu_s": 1.0
    }
    assert bench_report.activity_during(None, after) == {}


@pytest.mark.parametrize(
    ("once", "figure", "other_figures"),
    [
        (False, "deploy_first_s", {"deploy_no_change_cdk_s", "deploy_one_change_s"}),
        (True, "deploy_first_kept_synth_s", set()),
    ],
)
def test_only_the_full_bench_times_its_first_deploy_with_a_fresh_synth(
    monkeypatch, once, figure, other_figures
):
    # A shorter run (--deploy-once) deploys from a kept synth where there is one: its first
    # deploy is another figure, never held to the fresh clone's target.
    fresh_synths = []

    def deployed(settings, *, runtime_mode, force=False, fresh_synth=False, context=None):
        fresh_synths.append(fresh_synth)
        return SimpleNamespace(seconds=2.5)

    monkeypatch.setattr(bench_module.deploy, "deploy", deployed)
    outputs = SimpleNamespace(max_polls=10)
    monkeypatch.setattr(bench_module.StackOutputs, "load", lambda settings: outputs)
    bench = Bench(Settings(runtime_mode="host"), report=lambda line: None)

    assert bench.deploys(once=once) is outputs

    assert fresh_synths[0] is not once
    assert not any(fresh_synths[1:])
    assert bench.figures[figure] == 2.5
    deploy_figures = {name for name in bench.figures if name.startswith("deploy_")}
    assert deploy_figures - {"deploy_no_change_skipped_s"} == {figure} | other_figures
