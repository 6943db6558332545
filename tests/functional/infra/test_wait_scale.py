"""The local Wait scale in the CDK app: the local stage deployed for an emulator that shortens
Wait states keeps its time budget (more polls, the same Waits), its definition is otherwise the
one AWS runs, and the aws stage is what it was (no scale, real-time Waits). The harness passes
the scale to each emulator and to the deploy."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from typing import Any

import aws_cdk as cdk
import pytest

from harness import deploy
from harness.runtime.host import HostRuntime
from harness.settings import REPO_ROOT, Settings
from harness.wait_scale import DEFAULT_WAIT_SCALE
from tests.support.templates import rendered_definition, synthesized

sys.path.insert(0, str(REPO_ROOT / "infra"))

from agent_workflow.config import StageConfig, polls_for


def _timeout_threshold(definition: dict[str, Any]) -> int:
    (rule,) = [
        choice
        for choice in definition["States"]["EvaluateStatus"]["Choices"]
        if choice["Next"] == "RecordTimeout"
    ]
    assert rule["Variable"] == "$.poll.count"
    return int(rule["NumericGreaterThanEquals"])


def _timeout_error(definition: dict[str, Any]) -> str:
    values = definition["States"]["RecordTimeout"]["Parameters"]["ExpressionAttributeValues"]
    return str(values[":error"]["S"])


def _without_budget_texts(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition less what says the budget: the poll threshold and the timeout texts."""
    rest = copy.deepcopy(definition)
    states = rest["States"]
    for choice in states["EvaluateStatus"]["Choices"]:
        choice.pop("NumericGreaterThanEquals", None)
    values = states["RecordTimeout"]["Parameters"]["ExpressionAttributeValues"]
    values[":error"] = values[":entry"] = "budget"
    states["TimedOut"]["Cause"] = "budget"
    return rest


@pytest.fixture(scope="module")
def scaled() -> dict[str, Any]:
    template, _ = synthesized("local", wait_scale="0.1")
    return template


@pytest.mark.parametrize(
    ("max_polls", "scale", "polls"),
    [(30, 1, 30), (30, 0.1, 300), (30, 0.3, 100), (7, 0.25, 28), (1, 0.07, 15), (90, 0.5, 180)],
)
def test_the_polls_are_as_many_as_the_budget_takes(max_polls, scale, polls):
    assert polls_for(max_polls, scale) == polls


def test_the_scaled_local_stage_keeps_the_wait_and_the_time_budget(scaled):
    definition = rendered_definition(scaled)
    # The Wait is the one AWS runs (1 s); the emulator makes it 0.1 s, so 10x the polls.
    assert definition["States"]["WaitForCompletion"] == {
        "Type": "Wait",
        "Seconds": 1,
        "Next": "CheckStatus",
    }
    assert _timeout_threshold(definition) == 300
    # The execution's own bound is the same real time as unscaled.
    assert definition["TimeoutSeconds"] == 1 * 30 + 300
    assert _timeout_error(definition) == (
        "timed out: the agent did not finish within 30 polls of 1 s "
        "(locally 300 polls of Waits scaled x0.1)"
    )
    assert definition["States"]["TimedOut"]["Cause"] == (
        "No terminal status after 30 polls of 1 s (locally 300 polls of Waits scaled x0.1)."
    )
    assert scaled["Outputs"]["WaitScale"]["Value"] == "0.1"
    assert scaled["Outputs"]["MaxPolls"]["Value"] == "30"
    assert scaled["Outputs"]["PollIntervalSeconds"]["Value"] == "1"


def test_scaling_changes_nothing_else_in_the_definition(scaled):
    unscaled, _ = synthesized("local")
    assert _timeout_threshold(rendered_definition(unscaled)) == 30
    assert unscaled["Outputs"]["WaitScale"]["Value"] == "1"
    assert _without_budget_texts(rendered_definition(scaled)) == _without_budget_texts(
        rendered_definition(unscaled)
    )


def test_the_aws_stage_is_unchanged_and_refuses_a_scale():
    aws, _ = synthesized("aws")
    definition = rendered_definition(aws)
    assert definition["States"]["WaitForCompletion"]["Seconds"] == 10
    assert _timeout_threshold(definition) == 90
    assert definition["TimeoutSeconds"] == 10 * 90 + 300
    # The texts as they were before the local scale existed.
    assert _timeout_error(definition) == (
        "timed out: the agent did not finish within 90 polls of 10 s"
    )
    assert definition["States"]["TimedOut"]["Cause"] == "No terminal status after 90 polls of 10 s."
    assert "WaitScale" not in aws["Outputs"]
    # Only the local stage takes a scale; AWS runs Waits in real time.
    app = cdk.App(context={"stage": "aws", "wait_scale": "0.1"})
    with pytest.raises(ValueError, match="wait_scale is a local setting"):
        StageConfig.from_context(app.node)
    aws_one = cdk.App(context={"stage": "aws", "wait_scale": "1"})
    assert StageConfig.from_context(aws_one.node).polls == 90


@pytest.mark.parametrize("bad", ["0", "1.5", "-1", "nan", "inf"])
def test_a_scale_outside_zero_to_one_is_refused(bad):
    app = cdk.App(context={"stage": "local", "wait_scale": bad})
    with pytest.raises(ValueError, match="wait_scale must be above 0 and at most 1"):
        StageConfig.from_context(app.node)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [("wait_scale", "soon", "a number"), ("max_polls", "1.5", "a whole number")],
)
def test_a_setting_of_the_wrong_type_is_refused_naming_it(name, raw, expected):
    app = cdk.App(context={"stage": "local", name: raw})
    with pytest.raises(ValueError, match=f"^context {name}='{raw}': expected {expected}$"):
        StageConfig.from_context(app.node)


def test_the_app_stops_on_a_bad_setting_with_one_line(tmp_path):
    # As the CDK CLI runs it: its -c values in CDK_CONTEXT_JSON.
    context = json.dumps({"stage": "local", "wait_scale": "2"})
    app = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT / "infra",
        env={**os.environ, "CDK_CONTEXT_JSON": context, "CDK_OUTDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert app.returncode == 1
    # (jsii's Node version notice may come first)
    assert app.stderr.splitlines()[-1] == "error: wait_scale must be above 0 and at most 1, got 2"
    assert "Traceback" not in app.stderr


def test_the_harness_deploys_the_local_stage_for_the_emulators_scale(monkeypatch):
    monkeypatch.setenv("HARNESS_SFN_WAIT_SCALE", "0.25")
    local = deploy.context_args(Settings(target="local"), "host", {})
    assert local[-2:] == ["-c", "wait_scale=0.25"]
    # Never to AWS, whatever the shell says.
    aws = deploy.context_args(Settings(target="aws"), "aws", {})
    assert not [arg for arg in aws if arg.startswith("wait_scale")]


def test_each_emulator_is_started_with_the_scale():
    localstack = HostRuntime(Settings(sfn_wait_scale=0.25)).specs()[0]
    assert localstack.env["HARNESS_SFN_WAIT_SCALE"] == "0.25"
    ministack = HostRuntime(
        Settings(sfn_wait_scale=0.25, emulator="ministack", endpoint_url="http://127.0.0.1:4567")
    ).specs()[0]
    assert ministack.env["SFN_WAIT_SCALE"] == "0.25"
    assert "HARNESS_SFN_WAIT_SCALE" not in ministack.env
    # A running emulator with another scale is told apart (its stack was deployed for it).
    assert HostRuntime(Settings(sfn_wait_scale=0.25)).code_fingerprint("localstack") != (
        HostRuntime(Settings(sfn_wait_scale=DEFAULT_WAIT_SCALE)).code_fingerprint("localstack")
    )


def test_the_plugin_registers_its_hook():
    text = (REPO_ROOT / "harness/localstack_host_lambda/pyproject.toml").read_text()
    assert 'scale_wait_states = "localstack_host_lambda.wait_scale:scale_wait_states"' in text
