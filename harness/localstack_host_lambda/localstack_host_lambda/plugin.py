"""plux entry point: LocalStack loads the executor class through this plugin."""

from typing import Any

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "host"

    def load(self, *args: Any, **kwargs: Any) -> type:
        from localstack_host_lambda.executor import HostRuntimeExecutor

        return HostRuntimeExecutor
