"""DynamoDB Local starts on its class-data-sharing archive (an on_runtime_create hook).

The harness's install of DynamoDB Local (harness/runtime/dynamodb_local_build.py) binds
loopback by a patch in its jars instead of a Java agent, and holds an archive of the classes
a start loads (~0.85 instead of ~1.3 CPU-s a start). LocalStack starts the JVM with
``-javaagent:<its ddb-local-loader jar>``; a JVM with any agent loads no class from an
archive. So, once LocalStack's DynamoDB server module is loaded, its command drops the agent
where that jar is not installed (the harness's install has none: the JVM could not start
with it) and names the archive where there is one. An install with the agent keeps it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

from localstack.runtime import hooks

from localstack_host_lambda.footprint import once_loaded

SERVER_MODULE = "localstack.services.dynamodb.server"
ARCHIVE = "dynamodb-local.jsa"  # harness/runtime/dynamodb_local_build.py's ARCHIVE
AGENT_OPTION = "-javaagent:"


def on_shared_classes(command: list[str], install: str) -> list[str]:
    """``command`` (``java``, its options, ``-jar``...) without an agent whose jar is missing,
    with ``install``'s archive, if it has one, as the first option."""
    kept = [
        arg
        for arg in command
        if not (arg.startswith(AGENT_OPTION) and not os.path.isfile(arg[len(AGENT_OPTION) :]))
    ]
    archive = os.path.join(install, ARCHIVE)
    if os.path.isfile(archive):
        kept.insert(1, f"-XX:SharedArchiveFile={archive}")
    return kept


def _patch(server: ModuleType) -> None:
    create: Callable[[Any], list[str]] = server.DynamodbServer._create_shell_command

    def create_shell_command(self: Any) -> list[str]:
        return on_shared_classes(create(self), os.path.dirname(self.jar_path))

    server.DynamodbServer._create_shell_command = create_shell_command


@hooks.on_runtime_create()
def start_dynamodb_on_shared_classes() -> None:
    """Before LocalStack loads its DynamoDB server module (at DynamoDB's first request)."""
    once_loaded(SERVER_MODULE, _patch)
