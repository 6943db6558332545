"""The local Wait scale: Step Functions Wait states last a fraction of their duration locally.

The workflow polls the journal: InvokeAgent -> Wait -> CheckStatus -> ... A session the agent
finishes in 0.2 s still waits out the first Wait (1 s in the local stage). Locally the
emulator shortens every Wait to ``HARNESS_SFN_WAIT_SCALE`` of its duration: LocalStack through
the project's plug-in (harness/localstack_host_lambda/.../wait_scale.py), MiniStack through its
own ``SFN_WAIT_SCALE``. The state machine is the one AWS runs, and its time budget is kept:
the local stage polls ``max_polls / scale`` times (infra/agent_workflow/config.py), so a
silent agent still gets ``max_polls x poll_interval_seconds`` of Waits before its session is
recorded as timed out. The timeline says the Waits were scaled, and by how much.
"""

from __future__ import annotations

from agent.environment import positive_number

WAIT_SCALE_ENV = "HARNESS_SFN_WAIT_SCALE"
# 1 s Waits last 0.1 s: the execution ends within ~0.1 s of the journal, and a 30 s budget
# is 300 polls (each about 11 history events).
DEFAULT_WAIT_SCALE = 0.1
# The CDK context key the local stage reads (infra/agent_workflow/config.py: wait_scale).
WAIT_SCALE_CONTEXT = "wait_scale"
# What each emulator reads its scale from.
EMULATOR_VARIABLE = {"localstack": WAIT_SCALE_ENV, "ministack": "SFN_WAIT_SCALE"}


# A setting's parser: a number above 0 and at most 1 (1: Waits last their full time).
wait_scale = positive_number(
    "a number above 0 and at most 1 (the fraction of a Wait state's duration)", at_most=1
)


def emulator_environment(emulator: str, scale: float) -> dict[str, str]:
    """The variable that makes ``emulator`` scale its Wait states by ``scale``."""
    return {EMULATOR_VARIABLE[emulator]: format_scale(scale)}


def format_scale(scale: float) -> str:
    return f"{scale:g}"


def describe(scale: float, interval_seconds: float) -> str:
    """How the timeline says it: e.g. "Waits of 1 s scaled x0.1 locally: 0.1 s"."""
    return (
        f"Waits of {interval_seconds:g} s scaled x{format_scale(scale)} locally: "
        f"{interval_seconds * scale:.3g} s"
    )
