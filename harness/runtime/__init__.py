"""The local AWS runtime: LocalStack, the agent and the AgentCore stand-in."""
