"""HARNESS_SFN_WAIT_SCALE: the setting, what each emulator is given, what the stack outputs
and the timeline say about it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.environment import SettingError
from harness import report, ui
from harness.sessions import Execution, Session, Step
from harness.settings import Settings
from harness.stack import StackOutputs
from harness.timeline import POLLING_LABEL, timeline_rows
from harness.wait_scale import DEFAULT_WAIT_SCALE, describe, emulator_environment, wait_scale

START = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
NOTE = "Waits of 1 s scaled x0.1 locally: 0.1 s"


def test_the_setting_defaults_to_a_tenth_and_takes_fractions_up_to_one(monkeypatch):
    monkeypatch.delenv("HARNESS_SFN_WAIT_SCALE", raising=False)
    assert Settings().sfn_wait_scale == DEFAULT_WAIT_SCALE == 0.1
    for raw, scale in (("1", 1.0), ("0.25", 0.25), (" 0.05 ", 0.05), ("1e-2", 0.01)):
        monkeypatch.setenv("HARNESS_SFN_WAIT_SCALE", raw)
        assert Settings().sfn_wait_scale == scale


@pytest.mark.parametrize("raw", ["0", "-0.5", "1.5", "nan", "inf", "fast"])
def test_a_scale_outside_zero_to_one_is_refused_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("HARNESS_SFN_WAIT_SCALE", raw)
    with pytest.raises(SettingError) as refused:
        Settings()
    assert str(refused.value) == (
        f"HARNESS_SFN_WAIT_SCALE={raw!r} is not valid: expected a number above 0 and at most 1 "
        "(the fraction of a Wait state's duration)"
    )


def test_the_parser_alone():
    assert wait_scale("0.5") == 0.5
    with pytest.raises(ValueError, match="above 0 and at most 1"):
        wait_scale("0")


def test_each_emulator_gets_the_scale_in_its_own_variable():
    # The project's LocalStack plug-in reads HARNESS_SFN_WAIT_SCALE; MiniStack its own.
    assert emulator_environment("localstack", 0.1) == {"HARNESS_SFN_WAIT_SCALE": "0.1"}
    assert emulator_environment("ministack", 0.25) == {"SFN_WAIT_SCALE": "0.25"}
    assert emulator_environment("localstack", 1.0) == {"HARNESS_SFN_WAIT_SCALE": "1"}


def test_the_description_names_the_interval_the_scale_and_the_result():
    assert describe(0.1, 1) == NOTE
    assert describe(0.25, 10) == "Waits of 10 s scaled x0.25 locally: 2.5 s"


def _outputs(**overrides: object) -> StackOutputs:
    fields: dict[str, object] = {
        "state_machine_arn": "arn:aws:states:us-east-1:000000000000:stateMachine:Workflow",
        "journal_table_name": "Journal",
        "event_bus_name": "default",
        "poll_interval_seconds": 1.0,
        "max_polls": 30,
    }
    return StackOutputs(**{**fields, **overrides})  # type: ignore[arg-type]


def test_the_stack_outputs_say_how_the_waits_were_scaled():
    scaled = _outputs(wait_scale=0.1)
    assert scaled.wait_note == NOTE
    # The time budget is the Waits' real time, whatever the scale.
    assert scaled.session_timeout_seconds == _outputs().session_timeout_seconds == 30
    assert _outputs().wait_scale == 1.0  # AWS, or a stack deployed before the setting
    assert _outputs().wait_note == ""


def _session(steps: list[Step], wait_note: str) -> Session:
    execution = Execution(
        arn="arn:aws:states:us-east-1:000000000000:execution:Workflow:s",
        status="SUCCEEDED",
        started=START,
        stopped=START + timedelta(seconds=1),
        input={},
        error=None,
        cause=None,
        steps=tuple(steps),
    )
    return Session("s", None, (execution,), wait_note=wait_note)


def _step(name: str, kind: str, at: float, seconds: float) -> Step:
    entered = START + timedelta(seconds=at)
    return Step(name, entered, entered + timedelta(seconds=seconds), kind=kind)


def _poll(at: float) -> list[Step]:
    return [
        _step("WaitForCompletion", "Wait", at, 0.1),
        _step("CheckStatus", "Task", at + 0.1, 0.01),
        _step("EvaluateStatus", "Choice", at + 0.11, 0.001),
        _step("IncrementPollCount", "Pass", at + 0.111, 0.001),
    ]


def test_the_polling_row_says_the_waits_were_scaled_and_by_how_much():
    steps = [_step("InvokeAgent", "Task", 0, 0.2), *_poll(0.2), *_poll(0.32), *_poll(0.44)]
    rows = timeline_rows(_session(steps, NOTE))
    polling = next(row for row in rows if row.label == POLLING_LABEL)
    assert polling.detail.startswith("polled 3 times every 0.12 s (WaitForCompletion -> ")
    assert polling.detail.endswith(f"; {NOTE}")
    # Expanded (the report), each Wait says it; no other state does.
    waits = [row for row in polling.polls if row.label == "WaitForCompletion"]
    assert [row.detail for row in waits] == [NOTE] * 3
    assert {row.detail for row in polling.polls if row.label != "WaitForCompletion"} == {""}


def test_a_single_wait_says_it_too_and_unscaled_waits_say_nothing():
    steps = [_step("InvokeAgent", "Task", 0, 0.2), *_poll(0.2)[:3]]
    rows = timeline_rows(_session(steps, NOTE))
    assert next(row for row in rows if row.label == "WaitForCompletion").detail == NOTE
    unscaled = timeline_rows(_session(steps, ""))
    assert next(row for row in unscaled if row.label == "WaitForCompletion").detail == ""


def test_the_live_page_and_the_report_say_it_too():
    steps = [_step("InvokeAgent", "Task", 0, 0.2), *_poll(0.2), *_poll(0.32)]
    session = _session(steps, NOTE)
    assert NOTE in ui.timeline_fragment(session)
    assert NOTE in report.html_page(session)
