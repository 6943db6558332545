"""Two CDK commands of one checkout at once do not collide on infra/cdk.out ("Another CLI is
currently synthing", issue 17): the second waits for the first, says so, and both succeed.
Two synths stand for two `make trigger-workflow` right after an infra edit (their deploys
take the same lock), at a fraction of the time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.settings import REPO_ROOT


@pytest.mark.slow(seconds=60)
def test_two_synths_at_once_take_turns():
    # GIVEN / WHEN two synths started together
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "harness", "synth"],
            cwd=REPO_ROOT,
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    # THEN both succeed, and one of them waited for the other
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
        assert "Another CLI" not in output
    waited = [o for o in outputs if "waiting for a synth (pid " in o]
    assert len(waited) == 1, outputs
