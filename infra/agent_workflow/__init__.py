"""The agent workflow's CDK constructs: journal table, invoker, workflow, trigger, runtime."""
