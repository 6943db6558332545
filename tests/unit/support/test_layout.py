"""Helpers live in modules (tests/support/), never in a conftest other tests import."""

from __future__ import annotations

import re

from harness.settings import REPO_ROOT

FROM_CONFTEST = re.compile(r"^\s*(from\s+\S*conftest\s+import|import\s+\S*conftest)", re.M)


def test_no_test_imports_from_a_conftest() -> None:
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in (REPO_ROOT / "tests").rglob("*.py")
        if path.name != "conftest.py" and FROM_CONFTEST.search(path.read_text())
    ]
    assert offenders == [], "move what they import into tests/support/"


def test_the_check_sees_a_relative_conftest_import() -> None:
    assert FROM_CONFTEST.search("import os\nfrom .conftest import TABLE\n")
    assert FROM_CONFTEST.search("from tests.integration.agent.conftest import start")
    assert not FROM_CONFTEST.search("from tests.support.helpers import wait_for")
