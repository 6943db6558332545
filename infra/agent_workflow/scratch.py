"""The CDK app's own temporary folder, removed however the app ends.

jsii unpacks its runtime into a temporary folder and its node child makes another; both are
removed at a clean exit only. A Ctrl-C ends the app with ``os._exit`` (no traceback through
the CDK's imports), so without this each interrupted synth left ~2 MB in /tmp.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path


def private_tmp() -> Path:
    """Point this process and its children (jsii's node) at a fresh folder, removed at exit.

    Registered before jsii is imported, so it runs after jsii's own clean-up at exit.
    """
    root = Path(tempfile.mkdtemp(prefix="cdk-app-"))
    os.environ["TMPDIR"] = str(root)
    tempfile.tempdir = str(root)
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def exit_now(root: Path, status: int) -> None:
    """End at once (no atexit, no traceback), taking the temporary folder along."""
    shutil.rmtree(root, ignore_errors=True)
    os._exit(status)
