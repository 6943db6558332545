"""`make bench`'s measurements, on a few sessions against the suite's runtime (the full bench
restarts the runtime and redeploys, so it is run by hand: `make bench`)."""

from __future__ import annotations

from harness.bench import Bench
from harness.runtime import HostRuntime


def test_bench_measures_sessions_and_memory(deployed_stack, agent_services, harness_settings):
    messages: list[str] = []
    bench = Bench(harness_settings, messages.append)

    bench.sequential(deployed_stack, 3)
    bench.concurrent(deployed_stack, 4)
    bench.memory("now")

    figures = bench.figures
    sequential = figures["sequential"]
    assert sequential["completed"] == 3
    journal, execution = sequential["journal_completed_s"], sequential["execution_succeeded_s"]
    assert journal["n"] == execution["n"] == 3
    assert 0 < journal["p50"] <= journal["max"]
    assert journal["p50"] < execution["p50"], "the execution ends after the journal"
    assert messages == [
        "3 sequential sessions",
        "4 concurrent sessions (1 PutEvents of up to 10, 1 threads)",
    ]
    burst = figures["concurrent_4"]
    assert 0 < burst["publish_s"] < burst["wall_s"]
    assert burst == {
        "sessions": 4,
        "publish_s": burst["publish_s"],
        "wall_s": burst["wall_s"],
        "completed_full_history": 4,
        "lost": 0,
        "duplicate_runs": 0,
    }
    if not isinstance(bench.runtime, HostRuntime):  # it reads host processes only
        assert "rss_mb_now" not in figures
        return
    for measure in ("rss_mb_now", "pss_mb_now"):
        memory = figures[measure]
        for process in ("emulator", "dynamodb_local", "agent", "agentcore-standin"):
            assert memory[process] > 0, (measure, memory)
        assert memory["total"] >= memory["emulator"] + memory["dynamodb_local"]
    assert figures["lambda_processes_now"] >= 1  # the zygote at least
