"""This tier runs under a shell set up for real AWS (tests/support/shell_isolation.py): its
conftest exports it around each module's import and each test, and the tests pass anyway."""

from tests.support.shell_isolation import assert_the_tier_ran_under_the_hostile_shell, shell_now

AT_IMPORT = shell_now()


def test_the_tier_runs_under_a_shell_set_up_for_real_aws(shell_at_module_setup):
    assert_the_tier_ran_under_the_hostile_shell(AT_IMPORT, shell_at_module_setup)
