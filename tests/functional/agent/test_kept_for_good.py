"""The agent's start and its first session load their modules for good (agent/heap.py): no
collection while they load, none walks them after. Checked in a fresh interpreter with the
collector's own callbacks and generations, not by timing."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from agent.heap import kept_for_good
from harness.settings import REPO_ROOT

START = "from agent.app import built_app\nbuilt_app()"
FIRST_SESSION = "from agent.server import session_runner\nsession_runner()"
PROBE = """
import gc, json, sys
from agent.app import built_app
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info))
{before}
collections.clear()
{load}
loaded = sys.modules[{module!r}].__dict__
print(json.dumps({{
    "collections": len(collections),
    "enabled": gc.isenabled(),
    "walked": any(o is loaded for o in gc.get_objects()),
}}))
"""


@pytest.mark.parametrize(
    ("before", "load", "module"),
    [
        ("", START, "bedrock_agentcore.runtime.app"),
        (START, FIRST_SESSION, "strands.agent.agent"),
    ],
    ids=["start", "first-session"],
)
def test_what_a_load_brings_is_loaded_with_no_collection_then_frozen(before, load, module):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before, load=load, module=module)],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "AGENT_MODEL": "scripted", "AGENT_ALLOW_FAULTS": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert loaded["collections"] == 0, loaded  # none while ~1,000 modules loaded
    assert loaded["enabled"], loaded  # sessions collect their garbage as before
    assert not loaded["walked"], loaded  # out of every generation: frozen


def test_a_failed_load_freezes_nothing_and_leaves_the_collector_on():
    frozen = gc.get_freeze_count()
    with pytest.raises(ImportError), kept_for_good():
        import agent.no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
