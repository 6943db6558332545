"""LocalStack's memory settings: the host runtime hands DynamoDB Local's JVM options and
glibc's arena limit to the services it starts, and the plug-in's Step Functions client cache
reuses a client per service, region and role, for a while, within a bound."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from harness.runtime.host import HostRuntime
from harness.settings import REPO_ROOT, Settings

FOOTPRINT = REPO_ROOT / "harness/localstack_host_lambda/localstack_host_lambda/footprint.py"


@pytest.fixture
def footprint(monkeypatch):
    """footprint.py with a stand-in for LocalStack's hooks (LocalStack is not installed here)."""
    hooks = types.SimpleNamespace(on_infra_start=lambda: lambda function: function)
    monkeypatch.setitem(sys.modules, "localstack", types.SimpleNamespace())
    monkeypatch.setitem(sys.modules, "localstack.runtime", types.SimpleNamespace(hooks=hooks))
    spec = importlib.util.spec_from_file_location("host_lambda_footprint", FOOTPRINT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def builder():
    built = []

    def build(*, service, region, state_credentials):
        built.append((service, region, state_credentials.role_arn))
        return object()

    return build, built


def role(arn):
    return types.SimpleNamespace(role_arn=arn)


def test_one_client_per_service_region_and_role(footprint):
    build, built = builder()
    cache = footprint.ClientCache(build, size=8, ttl=60)
    first = cache("dynamodb", "us-east-1", role("arn:aws:iam::000000000000:role/a"))
    assert cache("dynamodb", "us-east-1", role("arn:aws:iam::000000000000:role/a")) is first
    assert cache("lambda", "us-east-1", role("arn:aws:iam::000000000000:role/a")) is not first
    assert cache("dynamodb", "eu-west-1", role("arn:aws:iam::000000000000:role/a")) is not first
    assert cache("dynamodb", "us-east-1", role("arn:aws:iam::000000000000:role/b")) is not first
    assert len(built) == 4


def test_an_expired_client_is_built_again(footprint, monkeypatch):
    build, _ = builder()
    cache = footprint.ClientCache(build, size=8, ttl=60)
    now = [1000.0]
    monkeypatch.setattr(footprint.time, "monotonic", lambda: now[0])
    first = cache("dynamodb", "us-east-1", role("r"))
    now[0] += 59
    assert cache("dynamodb", "us-east-1", role("r")) is first
    now[0] += 2
    assert cache("dynamodb", "us-east-1", role("r")) is not first


def test_the_cache_keeps_at_most_its_size(footprint):
    build, built = builder()
    cache = footprint.ClientCache(build, size=2, ttl=60)
    for service in ("a", "b", "c"):
        cache(service, "us-east-1", role("r"))
    assert len(cache.entries) == 2
    cache("a", "us-east-1", role("r"))  # the oldest went first
    assert len(built) == 4


def test_the_services_get_the_memory_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("DYNAMODB_HEAP_SIZE", "96m")
    monkeypatch.setenv("DYNAMODB_JAVA_OPTIONS", "-XX:+UseSerialGC")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    specs = {spec.name: spec for spec in HostRuntime(Settings()).specs()}
    localstack = specs["localstack"].env
    assert localstack["DYNAMODB_HEAP_SIZE"] == "96m"
    assert localstack["JDK_JAVA_OPTIONS"] == "-XX:+UseSerialGC"
    assert all(spec.env["MALLOC_ARENA_MAX"] == "2" for spec in specs.values())


def test_arena_limit_zero_leaves_glibc_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("MALLOC_ARENA_MAX", "0")
    specs = HostRuntime(Settings()).specs()
    assert all("MALLOC_ARENA_MAX" not in spec.env for spec in specs)
