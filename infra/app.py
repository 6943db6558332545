"""CDK app entry point: one stack, its stage chosen by context (`-c stage=local|aws`)."""

import aws_cdk as cdk

from agent_workflow.config import StageConfig
from agent_workflow.stack import AgentWorkflowStack

app = cdk.App()
config = StageConfig.from_context(app.node)
AgentWorkflowStack(app, "AgentWorkflow", config=config, env=config.environment)
app.synth()
