"""The functional tier ignores the shell's AWS set-up and port overrides (see the fixture)."""

from tests.support.shell_isolation import no_shell_aws_settings

__all__ = ["no_shell_aws_settings"]
