"""CDK app entry point: one stack, its stage chosen by context (`-c stage=local|aws`)."""

import os
import signal
import sys
from pathlib import Path

# Ctrl-C ends a synth at once and quietly (exit 130): otherwise it printed a traceback through
# the CDK's imports and jsii's "Exception ignored ... BrokenPipeError" at exit, which say
# nothing to the user who pressed it. A Ctrl-C the caller ignores stays ignored.
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, lambda _signum, _frame: os._exit(130))

import aws_cdk as cdk

# The contract package (names shared with the agent and the harness) is at the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent_workflow.config import StageConfig
from agent_workflow.stack import AgentWorkflowStack

app = cdk.App()
try:
    config = StageConfig.from_context(app.node)
except ValueError as bad_setting:  # one line naming the setting, not a traceback
    sys.exit(f"error: {bad_setting}")
# The stack's name comes from the harness (STACK_NAME -> -c stack_name=...): a second stack in
# the same account and region gets its own runtime, invoker and log group names.
AgentWorkflowStack(app, config.stack_name, config=config, env=config.environment)
app.synth()
