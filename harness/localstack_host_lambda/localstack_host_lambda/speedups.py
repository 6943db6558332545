"""Start-up patches for LocalStack's host process (loaded through its on_infra_start hook).

Each one removes work LocalStack repeats for every request or execution although its result
cannot change; none changes what an API call returns. Found with py-spy on LocalStack during
bursts of 50 concurrent sessions (LOCAL_DEVELOPMENT.md, "Speed").

- JSONPath parsing: the Step Functions interpreter parsed every path it evaluated from
  scratch, and jsonpath_ng's extended parser rebuilt its ply LALR tables on each parse (~40%
  of LocalStack's CPU). Parsed paths are immutable: cached by their text.
- State machine definitions: every execution parsed its definition again with the ANTLR ASL
  parser and rebuilt the evaluation components (~25% of LocalStack's CPU). The components of
  a definition hold no execution state (that lives in each execution's ``Environment``), so
  executions of one definition share them, built once.
- Assumed-role clients: every Step Functions task assumed the state machine's role again (an
  STS call through the gateway) and, with the fresh credentials, built a new boto3 client
  (~15% of LocalStack's CPU). The credentials are kept per role, as LocalStack's EventBridge
  targets already keep theirs (its assumed-role sessions do not expire), so the client is
  built once.
- Service integrations' operation models: every Step Functions task (each journal poll's
  GetItem, each Invoke) loaded its service's model afresh (a new botocore ServiceModel, so
  every shape resolved again) to normalise its parameters and again for its response (~7% of
  LocalStack's CPU in a burst of 100). Operation models are read-only: kept per operation.
- Lambda environment credentials: each new execution environment assumed the function's role
  (~half of LocalStack's own work to start an environment). The credentials LocalStack asks
  for last 12 hours; a function's environments started within the hour share them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import Any

from localstack.runtime import hooks

from localstack_host_lambda.footprint import once_loaded

CACHED_DEFINITIONS = 64  # state machine definitions (each: its parsed components)
CACHED_OPERATIONS = 256  # service integrations' operation models (service, action)
CACHED_ROLES = 256  # assumed-role client factories (LocalStack keeps 256 clients likewise)
# How long a function's environments share one set of role credentials (LocalStack asks STS
# for 12-hour credentials; an environment may live on well after it started).
ENVIRONMENT_CREDENTIALS_SECONDS = 3600.0

# The Step Functions modules the patches apply to, each as soon as it is loaded: importing them
# at the start (~0.3 CPU-s, the ANTLR lexer and parser among them) is work for the runtimes
# that never run a state machine, as the tests' own LocalStacks for up and down.
_SFN = "localstack.services.stepfunctions"
RESULT_PATH = f"{_SFN}.asl.component.common.path.result_path"
JSON_PATH = f"{_SFN}.asl.utils.json_path"
EXECUTION_WORKER = f"{_SFN}.backend.execution_worker"
STATE_TASK_SERVICE = (
    f"{_SFN}.asl.component.state.state_execution.state_task.service.state_task_service"
)


@hooks.on_infra_start()
def cache_jsonpath_parsing() -> None:
    for name in (RESULT_PATH, JSON_PATH):
        once_loaded(name, _parse_cached)


def _parse_cached(module: Any) -> None:
    module.parse = lru_cache(maxsize=4096)(module.parse)


def assign_heap_keys(root: Any) -> None:
    """Give every evaluation component reachable from ``root`` its heap key now.

    A component makes its key (where each execution's environment keeps its retry counters)
    on first use; two executions sharing the component could otherwise each make one at once
    and one of them would lose its counters.
    """
    from localstack.services.stepfunctions.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, EvalComponent):
            _ = node.heap_key
        if isinstance(node, list | tuple | set | frozenset):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif hasattr(node, "__dict__") and (
            isinstance(node, EvalComponent) or type(node).__module__.startswith("localstack.")
        ):
            stack.extend(vars(node).values())


@hooks.on_infra_start()
def cache_state_machine_programs() -> None:
    once_loaded(EXECUTION_WORKER, _programs_cached)


def _programs_cached(module: ModuleType) -> None:
    @lru_cache(maxsize=CACHED_DEFINITIONS)
    def program_for(definition: str) -> Any:
        from localstack.services.stepfunctions.asl.parse.asl_parser import (
            AmazonStateLanguageParser,
        )

        program = AmazonStateLanguageParser.parse(definition)[0]
        assign_heap_keys(program)
        return program

    def entrypoint(self: Any) -> Any:
        return program_for(self._evaluation_details.state_machine_details.definition)

    module.ExecutionWorker._get_evaluation_entrypoint = entrypoint


@hooks.on_infra_start()
def cache_operation_models() -> None:
    once_loaded(STATE_TASK_SERVICE, _operation_models_cached)


def _operation_models_cached(module: ModuleType) -> None:
    service = module.StateTaskService
    service._get_boto_operation_model = staticmethod(
        lru_cache(maxsize=CACHED_OPERATIONS)(service._get_boto_operation_model)
    )


class RoleCache:
    """``connect_to.with_assumed_role`` that assumes each role once: its client factory (and
    so its credentials and boto3 clients) is reused by later calls with the same arguments."""

    def __init__(self, assume: Callable[..., Any], size: int = CACHED_ROLES) -> None:
        self.assume = assume
        self.size = size
        self._factories: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, **kwargs: Any) -> Any:
        if kwargs.get("session_name"):  # a named session is the caller's own: not shared
            return self.assume(**kwargs)
        key = tuple(sorted((name, _hashable(value)) for name, value in kwargs.items()))
        with self._lock:
            factory = self._factories.get(key)
            if factory is not None:
                self._factories.move_to_end(key)
                return factory
        factory = self.assume(**kwargs)  # outside the lock: an STS call through the gateway
        with self._lock:
            self._factories[key] = factory
            while len(self._factories) > self.size:
                self._factories.popitem(last=False)
        return factory


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return id(value)
    return value


@hooks.on_infra_start()
def cache_assumed_roles() -> None:
    from localstack.aws.connect import connect_to

    connect_to.with_assumed_role = RoleCache(connect_to.with_assumed_role)


class CredentialsCache:
    """A function's role credentials for its new execution environments, fetched again once
    older than ``max_age`` seconds."""

    def __init__(self, fetch: Callable[[Any], Any], max_age: float) -> None:
        self.fetch = fetch
        self.max_age = max_age
        self._entries: dict[tuple[str, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, environment: Any) -> Any:
        version = environment.function_version
        key = (version.id.region, version.id.function_name, version.config.role or "")
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.max_age:
            return entry[1]
        credentials = self.fetch(environment)
        with self._lock:
            self._entries[key] = (now, credentials)
        return credentials


@hooks.on_infra_start()
def cache_environment_credentials() -> None:
    from localstack.services.lambda_.invocation.execution_environment import (
        ExecutionEnvironment,
    )

    cache = CredentialsCache(ExecutionEnvironment.get_credentials, ENVIRONMENT_CREDENTIALS_SECONDS)

    def get_credentials(self: ExecutionEnvironment) -> Any:
        return cache(self)

    ExecutionEnvironment.get_credentials = get_credentials
