"""Model selection: scripted (no LLM), Bedrock, or any OpenAI-compatible server."""
