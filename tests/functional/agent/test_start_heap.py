"""The agent's start loads its modules with the collector off and then freezes them
(agent/app.py, built_app): no collection walks them while they load, none after. Checked in a
fresh interpreter with the collector's own callbacks and generations, not by timing."""

from __future__ import annotations

import json
import subprocess
import sys

from harness.settings import REPO_ROOT

PROBE = """
import gc, json, sys
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info))
from agent.app import built_app
collections.clear()  # those while agent.app itself loaded (its settings, before any check)
built_app()
loaded = sys.modules["bedrock_agentcore.runtime.app"].__dict__
print(json.dumps({
    "collections": len(collections),
    "enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "sdk_module_walked": any(o is loaded for o in gc.get_objects()),
}))
"""


def test_the_start_loads_with_no_collection_then_freezes_what_it_loaded():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "AGENT_MODEL": "scripted", "AGENT_ALLOW_FAULTS": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    start = json.loads(result.stdout.splitlines()[-1])
    assert start["collections"] == 0, start  # none while ~1,000 modules loaded
    assert start["enabled"], start  # sessions collect their garbage as before
    assert start["frozen"] > 0, start
    assert not start["sdk_module_walked"], start  # the SDK's objects: out of every generation
