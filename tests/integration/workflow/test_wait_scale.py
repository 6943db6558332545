"""The emulator's scaled Wait states, end to end: the execution history shows each Wait of the
polling loop lasted its scaled time (0.1 s of its 1 s by default), the stack was deployed for
that scale, and the timeline says so (harness/wait_scale.py, the plug-in's wait_scale.py)."""

from __future__ import annotations

import statistics

import pytest

from harness.assertions import assert_completed
from harness.runtime import select_runtime
from harness.timeline import POLLING_LABEL, timeline_rows
from tests.support.helpers import run_harness

# History timestamps have millisecond resolution: a Wait may look this much shorter.
CLOCK_RESOLUTION = 0.002


# Alone: Waits lengthen while other executions wait (the plug-in's share), and this test
# measures the scale itself.
@pytest.mark.exclusive
def test_each_wait_lasts_its_scaled_time_and_the_timeline_says_so(
    trigger, session_reader, deployed_stack, harness_settings
):
    # GIVEN a runtime whose emulator scales Wait states, and a stack deployed for it
    scale = harness_settings.sfn_wait_scale
    if scale == 1:
        pytest.skip("HARNESS_SFN_WAIT_SCALE=1: this runtime runs Wait states in real time")
    assert deployed_stack.wait_scale == scale
    interval = deployed_stack.poll_interval_seconds

    # WHEN a session runs to its end
    session_id = trigger("Summarise the scaled waits")
    session = assert_completed(session_reader, session_id)

    # THEN each WaitForCompletion lasted (entered -> exited, from the execution history) at
    # least its scaled time, and the Waits were not the full interval
    waits = [step for step in session.execution.steps if step.name == "WaitForCompletion"]
    assert waits, session.execution.steps
    assert all(step.kind == "Wait" and step.exited for step in waits), waits
    spans = [(step.exited - step.entered).total_seconds() for step in waits if step.exited]
    assert min(spans) >= interval * scale - CLOCK_RESOLUTION, spans
    assert statistics.median(spans) < interval / 2, spans  # a real-time Wait is >= interval
    # and the timeline (watch, report, the live page) says they were scaled, and by how much
    note = f"Waits of {interval:g} s scaled x{scale:g} locally: {interval * scale:.3g} s"
    rows = timeline_rows(session)
    polls = [row for row in rows if row.label in (POLLING_LABEL, "WaitForCompletion")]
    assert polls, rows
    assert all(note in row.detail for row in polls), [row.detail for row in polls]
    watched = run_harness("watch", session_id, "--timeout", "60", timeout=120)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert f"scaled x{scale:g} locally" in watched.stdout


def test_the_emulator_says_it_scales_wait_states(harness_settings, deployed_stack):
    runtime = select_runtime(harness_settings)
    if harness_settings.emulator != "localstack" or runtime.mode != "host":
        pytest.skip("reads the host LocalStack's log")
    if harness_settings.sfn_wait_scale == 1:
        pytest.skip("HARNESS_SFN_WAIT_SCALE=1: the plug-in patches nothing")
    # The log is appended to across restarts: what this run logged before its banner.
    starts = runtime.log_text("localstack").split("\nLocalStack version:")
    assert len(starts) >= 2, "LocalStack's log has no start banner"
    scale = f"{harness_settings.sfn_wait_scale:g}"
    assert f"Step Functions Wait states last {scale} of their duration" in starts[-2]
