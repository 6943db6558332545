"""Run LocalStack Lambda functions as host processes (no Docker engine)."""
