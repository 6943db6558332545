"""The Strands agent served as a Bedrock AgentCore app, and its session journal."""
