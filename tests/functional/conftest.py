"""The functional tier ignores the shell's AWS set-up and port overrides (see the fixture), and
every run proves it under a shell set up for real AWS (tests/support/shell_isolation.py);
``moto_aws`` mocks AWS in-process for the tests that ask for it."""

from tests.support.botocore_data import botocore_data_parsed_once
from tests.support.moto_aws import moto_aws

# The plug-in that runs the tier under a shell set up for real AWS: its hooks and fixtures.
from tests.support.shell_isolation import *  # noqa: F403

__all__ = ["botocore_data_parsed_once", "moto_aws"]
