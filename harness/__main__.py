"""``python -m harness``: runs the command line (harness.cli). Its bytecode is kept in the
runtime's cache when the shell says not to write it beside the sources (harness/bytecode.py):
set before the command line's modules are imported, so they are not compiled on every run."""

import contextlib
import sys

from agent.environment import SettingError
from harness.bytecode import keep_in_cache_here
from harness.exit_heap import collect_less_often, leave_heap_at_exit
from harness.settings import Settings

with contextlib.suppress(SettingError):  # the command line reports a bad setting
    keep_in_cache_here(Settings().runtime_dir)

from harness.cli import main  # after the bytecode's place is set

collect_less_often()  # before the command imports what it uses
leave_heap_at_exit()
sys.exit(main())
