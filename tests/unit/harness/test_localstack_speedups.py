"""The LocalStack start-up patches keep what they cache per key: one assumed role per set of
arguments (a named session is never shared), a function's environment credentials for a
bounded time, and every shared state machine component has its heap key before it is shared."""

from __future__ import annotations

import types
from itertools import count

import pytest

from tests.support.localstack_plugin import load_plugin_module


class EvalComponent:
    """Stand-in for LocalStack's: the heap key is made on first read."""

    keys = count()

    def __init__(self, *children: object) -> None:
        self.children = list(children)
        self.made: list[int] = []

    @property
    def heap_key(self) -> int:
        if not self.made:
            self.made.append(next(self.keys))
        return self.made[0]


class StateTaskService:
    """Stand-in for LocalStack's: each call loads a new operation model."""

    loaded: list[tuple[str, str]] = []

    @staticmethod
    def _get_boto_operation_model(boto_service_name: str, service_action_name: str) -> object:
        StateTaskService.loaded.append((boto_service_name, service_action_name))
        return object()


@pytest.fixture
def speedups(monkeypatch):
    """The module with stand-ins for the LocalStack modules it imports."""
    service_package = "localstack.services.stepfunctions.asl.component.state.state_execution"
    return load_plugin_module(
        monkeypatch,
        "speedups.py",
        {
            "localstack.services.stepfunctions.asl.component.eval_component": (
                types.SimpleNamespace(EvalComponent=EvalComponent)
            ),
            f"{service_package}.state_task.service.state_task_service": types.SimpleNamespace(
                StateTaskService=StateTaskService
            ),
        },
    )


def test_a_role_is_assumed_once_per_set_of_arguments(speedups):
    assumed = []

    def assume(**kwargs):
        assumed.append(kwargs)
        return object()

    cache = speedups.RoleCache(assume, size=2)
    first = cache(role_arn="arn:role/a", region_name="us-east-1")
    assert cache(region_name="us-east-1", role_arn="arn:role/a") is first
    assert cache(role_arn="arn:role/b", region_name="us-east-1") is not first
    assert len(assumed) == 2
    # A session the caller names is its own.
    cache(role_arn="arn:role/a", region_name="us-east-1", session_name="mine")
    cache(role_arn="arn:role/a", region_name="us-east-1", session_name="mine")
    assert len(assumed) == 4
    # Bounded: the least recently used factory goes first.
    cache(role_arn="arn:role/c", region_name="us-east-1")
    assert cache(role_arn="arn:role/b", region_name="us-east-1") is not None
    assert len(assumed) == 5
    cache(role_arn="arn:role/a", region_name="us-east-1")
    assert len(assumed) == 6


def _environment(function: str, role: str = "arn:role/f") -> types.SimpleNamespace:
    version = types.SimpleNamespace(
        id=types.SimpleNamespace(region="us-east-1", function_name=function),
        config=types.SimpleNamespace(role=role),
    )
    return types.SimpleNamespace(function_version=version)


def test_environment_credentials_are_shared_per_function_until_they_are_old(speedups, monkeypatch):
    now = [100.0]
    monkeypatch.setattr(speedups.time, "monotonic", lambda: now[0])
    fetched = []

    def fetch(environment):
        fetched.append(environment)
        return {"AccessKeyId": f"key-{len(fetched)}"}

    cache = speedups.CredentialsCache(fetch, max_age=60)
    first = cache(_environment("f"))
    assert cache(_environment("f")) == first
    assert cache(_environment("g")) != first  # another function: its own role session
    now[0] += 61
    assert cache(_environment("f")) != first
    assert len(fetched) == 3


def test_every_component_of_a_shared_program_has_its_heap_key(speedups):
    leaf = EvalComponent()
    program = EvalComponent({"states": [leaf, (EvalComponent(),)]}, leaf)
    program.loop = program  # cycles are walked once
    speedups.assign_heap_keys(program)
    nested = program.children[0]["states"][1][0]
    assert program.made
    assert leaf.made
    assert nested.made


def test_an_operation_model_is_loaded_once_per_service_and_action(speedups, monkeypatch):
    original = StateTaskService._get_boto_operation_model
    monkeypatch.setattr(StateTaskService, "loaded", [])
    speedups.cache_operation_models()
    try:
        task = StateTaskService()
        first = task._get_boto_operation_model("dynamodb", "getItem")
        assert task._get_boto_operation_model("dynamodb", "getItem") is first
        assert StateTaskService._get_boto_operation_model("lambda", "invoke") is not first
        assert StateTaskService.loaded == [("dynamodb", "getItem"), ("lambda", "invoke")]
    finally:
        StateTaskService._get_boto_operation_model = staticmethod(original)
