"""Two CDK commands of one checkout at once do not collide on infra/cdk.out ("Another CLI is
currently synthing", issue 17): the second waits for the first, says so, and succeeds.
A real `python -m harness synth` stands for the second of two `make trigger-workflow` right
after an infra edit (their deploys take the same lock); the first is this test holding the
lock every synth, deploy and destroy takes (``deploy.cdk_lock``), as a synth under way does:
one synth instead of two, the same lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import deploy
from harness.settings import REPO_ROOT
from tests.support.helpers import wait_for


@pytest.mark.slow(seconds=30)
def test_a_synth_waits_for_the_cdk_command_under_way_then_synthesizes(tmp_path: Path) -> None:
    log = tmp_path / "synth.log"
    # GIVEN a CDK command of this checkout under way
    with deploy.cdk_lock(lambda _line: None, "a synth"), log.open("w") as out:
        # WHEN a synth starts
        synth = subprocess.Popen(
            [sys.executable, "-m", "harness", "synth"],
            cwd=REPO_ROOT,
            env=os.environ.copy(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            # THEN it waits for that one, naming it
            waits = f"waiting for a synth (pid {os.getpid()}) of this checkout"
            wait_for(
                lambda: synth.poll() is not None or waits in log.read_text(),
                120,
                "the synth to say it waits (or to end)",
                0.1,
            )
            assert synth.poll() is None, log.read_text()
            assert waits in log.read_text()
        except BaseException:
            synth.kill()
            synth.wait()
            raise
    # AND once it is done, synthesizes without colliding
    status = synth.wait(timeout=600)
    output = log.read_text()
    assert status == 0, output
    assert "Another CLI" not in output
    assert "synthesized into infra/cdk.out" in output
