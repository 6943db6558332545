"""Model selection: Bedrock, any OpenAI-compatible server, or (a test double, in agent/testing/)
the scripted model."""
