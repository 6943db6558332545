"""``python -m harness``: runs the command line (harness.cli)."""

import sys

from harness.cli import main
from harness.exit_heap import leave_heap_at_exit

leave_heap_at_exit()
sys.exit(main())
