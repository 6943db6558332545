"""What a pytest run of this project imports before its first test: every xdist worker of the
end-to-end tiers collects the whole tier, so what a test module imports at its top, or a
plug-in at its load, each worker pays for (~0.3 CPU-s for strands, ~0.3 for hypothesis and its
plug-in's scan of the loaded modules' sources). Checked in a fresh interpreter's sys.modules,
not by timing."""

from __future__ import annotations

from tests.support.helpers import modules_loaded_after

# Imported by the tests that use them, or by plug-ins no run uses (pyproject.toml's addopts).
NOT_AT_COLLECTION = ("strands", "hypothesis", "anyio", "typeguard", "unittest.mock", "rich")
# The modules that imported them at their top (rich: by harness.timeline's).
MODULES = (
    "tests/integration/workflow/test_task_text.py",
    "tests/integration/agent/test_agentcore_standin.py",
    "tests/integration/workflow/test_failure_paths.py",
)


def test_collecting_the_end_to_end_tier_imports_only_what_collecting_needs():
    code = (
        "import pytest\n"
        f"assert pytest.main(['--collect-only', '-q', '-n', '0', '-p', 'no:cacheprovider', "
        f"*{list(MODULES)!r}]) == 0"
    )
    loaded = modules_loaded_after(code, NOT_AT_COLLECTION)
    assert not any(loaded.values()), loaded
