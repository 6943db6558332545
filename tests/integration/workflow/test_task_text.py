"""Any task text arrives byte-exact, in the journal and in the agent, or ends FAILED naming the
limit (issue 12). Real rule, real workflow, real agent: the scripted model reports the SHA-256
of the text its tool read, so a mangled character anywhere on the way shows as a digest."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.assertions import assert_completed, assert_transitions

MAX_TASK_CHARS = 16_000  # the local stage's max_task_chars (infra/agent_workflow/config.py)

NAMED_TASKS = {
    "double-quote": 'Summarise the "Q3" report',
    "backslash": "C:\\reports\\q3.csv and \\n is not a newline",
    "newline-and-tab": "line one\nline two\tcolumn\r\nline three",
    "control-characters": "bell \x07 escape \x1b null \x00 end",
    "astral-unicode": "emoji 😀🚀 and math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and a flag 🇫🇷",  # noqa: RUF001
    "right-to-left": "\u202bمرحبا بالعالم\u202c and שלום \u200fעולם",  # noqa: RUF001
    "json-text": '{"task": "nested", "n": [1, 2.5, null, true]}',
    "template-placeholders": "<detail> <aws.events.event.json> <aws.events.event.id> ${task}",
    "jsonpath-text": "$.detail $$.Execution.Id States.Format('{}', $.task)",
    "quote-soup": '\'single\' "double" `back` \\" \\\\ \\u0041 %s {} {0}',
    "at-the-limit": "x" * (MAX_TASK_CHARS - 1) + "😀",
}


def _completed_with_the_exact_task(reader, session_id, task):
    # Imported by the worker that runs a test of this module, not by every worker collecting
    # the tier: agent.tools imports strands (~0.3 CPU-s).
    from agent.tools import text_digest

    session = assert_completed(reader, session_id)
    assert session.item["task"] == task, "the journal holds another text than was published"
    # The agent's tool read the same bytes (its digest is in the result).
    assert f"(sha256 {text_digest(task)})" in session.item["result"]
    assert session.execution.input["detail"]["task"] == task


def test_awkward_task_texts_arrive_byte_exact(trigger, session_reader, deployed_stack):
    # GIVEN tasks no string template may touch, published at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        session_ids = dict(zip(NAMED_TASKS, pool.map(trigger, NAMED_TASKS.values()), strict=True))

    # THEN each session completes, and the journal and the agent saw the exact text
    for name, session_id in session_ids.items():
        task = NAMED_TASKS[name]
        try:
            _completed_with_the_exact_task(session_reader, session_id, task)
        except AssertionError as failure:
            raise AssertionError(f"task {name!r} ({task[:60]!r}): {failure}") from None


@pytest.mark.any_target
def test_a_task_just_over_the_limit_ends_failed_naming_the_limit(
    trigger, session_reader, deployed_stack
):
    session_id = trigger("y" * MAX_TASK_CHARS + "😀")
    session = assert_transitions(
        session_reader,
        session_id,
        ["INITIATED", "FAILED"],
        execution_status="FAILED",
    )
    assert f"{MAX_TASK_CHARS + 1} characters (at most {MAX_TASK_CHARS}" in session.item["error"]
    assert session.item["task"] == "y" * MAX_TASK_CHARS + "😀"


@pytest.mark.slow(seconds=20)
def test_generated_task_texts_arrive_byte_exact(trigger, session_reader, deployed_stack):
    # Hypothesis drives a function of this test, not the test itself: a test decorated with
    # @given made every worker collecting the tier import hypothesis (~0.1 CPU-s) and its
    # pytest plug-in then read every loaded module's source for constants (~0.2 CPU-s more).
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,  # the same examples every run: a red run can be repeated
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(task=st.text(min_size=1, max_size=300).filter(str.strip))
    def arrives_byte_exact(task):
        _completed_with_the_exact_task(session_reader, trigger(task), task)

    arrives_byte_exact()
