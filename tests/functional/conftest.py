"""The functional tier ignores the shell's AWS set-up and port overrides (see the fixture), and
every run proves it under a shell set up for real AWS (tests/support/shell_isolation.py);
``moto_aws`` mocks AWS in-process for the tests that ask for it."""

from tests.support.moto_aws import moto_aws
from tests.support.shell_isolation import (
    no_shell_aws_settings,
    pytest_make_collect_report,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    shell_at_module_setup,
)

# The fixtures, and the hooks that run the tier under a shell set up for real AWS.
__all__ = [
    "moto_aws",
    "no_shell_aws_settings",
    "pytest_make_collect_report",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "shell_at_module_setup",
]
