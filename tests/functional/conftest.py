"""The functional tier ignores the shell's AWS set-up and port overrides (see the fixture);
``moto_aws`` mocks AWS in-process for the tests that ask for it."""

from tests.support.moto_aws import moto_aws
from tests.support.shell_isolation import no_shell_aws_settings

__all__ = ["moto_aws", "no_shell_aws_settings"]
