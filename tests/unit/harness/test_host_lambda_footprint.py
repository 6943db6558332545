"""LocalStack's memory settings: the host runtime hands DynamoDB Local's JVM options and
glibc's arena limit to the services it starts."""

from __future__ import annotations

from harness.runtime.host import HostRuntime
from harness.settings import Settings


def test_the_services_get_the_memory_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # the default gateway port
    monkeypatch.setenv("DYNAMODB_HEAP_SIZE", "96m")
    monkeypatch.setenv("DYNAMODB_JAVA_OPTIONS", "-XX:+UseSerialGC")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    specs = {spec.name: spec for spec in HostRuntime(Settings()).specs()}
    localstack = specs["localstack"].env
    assert localstack["DYNAMODB_HEAP_SIZE"] == "96m"
    # the user's options, then the instance's own temporary folder (gone at `down`)
    instance_tmp = tmp_path / "localstack-instances" / "4566" / "tmp"
    assert localstack["JDK_JAVA_OPTIONS"] == f"-XX:+UseSerialGC -Djava.io.tmpdir={instance_tmp}"
    assert all(spec.env["MALLOC_ARENA_MAX"] == "2" for spec in specs.values())


def test_arena_limit_zero_leaves_glibc_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("MALLOC_ARENA_MAX", "0")
    specs = HostRuntime(Settings()).specs()
    assert all("MALLOC_ARENA_MAX" not in spec.env for spec in specs)
