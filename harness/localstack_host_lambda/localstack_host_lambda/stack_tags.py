"""UpdateStack applies the Tags it names, as on AWS.

LocalStack's CloudFormation (v2 engine) keeps the tags a stack was created with: an
UpdateStack's Tags were dropped, and one that changed nothing else answered "No updates are
to be performed." The harness tags each local deploy with the fingerprint of what it deployed
(``harness:fingerprint``) and skips a deploy whose stack carries it: after any update (a
`make demo` then `make test`, an infra edit then `make trigger-workflow`) the stack kept the
first deploy's tag, so every later deploy ran cdklocal again, changed nothing and said it had
deployed. Here an UpdateStack that names Tags leaves them on the stack, and one that changes
only them is an update of its tags, not an error (AWS updates a stack whose tags alone
change). Without Tags, a stack keeps its own, as on AWS.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

from localstack.runtime import hooks

from localstack_host_lambda.footprint import once_loaded

PROVIDER_MODULE = "localstack.services.cloudformation.v2.provider"
NO_UPDATES = "No updates are to be performed."

UpdateStack = Callable[[Any, Any, dict[str, Any]], dict[str, Any]]


def tags_applied(
    update_stack: UpdateStack, stack_named: Callable[[Any, Any, str], Any]
) -> UpdateStack:
    """``update_stack`` (the provider's handler), then the request's Tags on the stack;
    ``stack_named(provider, context, name or ARN)`` finds the stack (None if there is none)."""

    @functools.wraps(update_stack)  # keeps the handler's marks (its operation) for dispatch
    def update_stack_applying_tags(provider: Any, context: Any, request: dict[str, Any]) -> Any:
        if "Tags" not in request:
            return update_stack(provider, context, request)
        tags = list(request["Tags"] or [])
        try:
            answer = update_stack(provider, context, request)
        except Exception as error:
            stack = stack_named(provider, context, request.get("StackName", ""))
            if str(error) != NO_UPDATES or stack is None or stack.tags == tags:
                raise
            stack.tags = tags
            return {"StackId": stack.stack_id}
        if (updated := stack_named(provider, context, answer["StackId"])) is not None:
            updated.tags = tags
        return answer

    return update_stack_applying_tags


def _patch(provider: ModuleType) -> None:
    def stack_named(instance: Any, context: Any, name: str) -> Any:
        """As UpdateStack finds it (``instance``: the provider serving the request): by ARN,
        else the one active stack of that name."""
        stacks = provider.get_cloudformation_store(context.account_id, context.region).stacks_v2
        if name in stacks:
            return stacks[name]
        active = instance._stack_status_is_active
        named = [s for s in stacks.values() if s.stack_name == name and active(s.status)]
        return named[0] if len(named) == 1 else None

    cloudformation: Any = provider.CloudformationProviderV2
    cloudformation.update_stack = tags_applied(cloudformation.update_stack, stack_named)


@hooks.on_runtime_create()
def apply_stack_tags_on_update() -> None:
    """Before LocalStack loads its CloudFormation provider (on CloudFormation's first request)."""
    once_loaded(PROVIDER_MODULE, _patch)
