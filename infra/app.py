"""CDK app entry point: one stack, its stage chosen by context (`-c stage=local|aws`)."""

import signal
import sys
from pathlib import Path

from agent_workflow.scratch import exit_now, private_tmp

# Ctrl-C ends a synth at once and quietly (exit 130): otherwise it printed a traceback through
# the CDK's imports and jsii's "Exception ignored ... BrokenPipeError" at exit, which say
# nothing to the user who pressed it. A Ctrl-C the caller ignores stays ignored. Either way
# the app's temporary files (jsii's) go with it. So the CDK is imported after this (E402).
SCRATCH = private_tmp()
if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, lambda _signum, _frame: exit_now(SCRATCH, 130))

import aws_cdk as cdk  # noqa: E402

# The contract package (names shared with the agent and the harness) is at the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent_workflow.config import StageConfig  # noqa: E402

app = cdk.App()
try:
    config = StageConfig.from_context(app.node)
except ValueError as bad_setting:  # one line naming the setting, not a traceback
    sys.exit(f"error: {bad_setting}")

# The stack's modules (aws-cdk-lib's Lambda, IAM, Step Functions, AgentCore ...) load once the
# settings are good: a bad one stops the app sooner (~0.9 instead of ~1.25 CPU-s).
from agent_workflow.stack import AgentWorkflowStack  # noqa: E402

# The stack's name comes from the harness (STACK_NAME -> -c stack_name=...): a second stack in
# the same account and region gets its own runtime, invoker and log group names.
AgentWorkflowStack(app, config.stack_name, config=config, env=config.environment)
app.synth()
