"""Local-first harness for the agent workflow: runtime, deploy, trigger, watch, assert."""
