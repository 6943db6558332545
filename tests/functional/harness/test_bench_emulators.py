"""`make bench`'s second column: the other emulator is measured by a child `harness bench`
on free ports, with the same counts, and its figures come back beside the first's."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from harness import bench
from harness.errors import HarnessError
from harness.runtime.ports import port_in_use
from harness.settings import Settings


def _children(monkeypatch: pytest.MonkeyPatch, status: int = 0) -> list[dict[str, object]]:
    """Record each child bench instead of running it; it 'writes' its figures."""
    runs: list[dict[str, object]] = []

    def run_child(command: list[str], env: dict[str, str]) -> int:
        runs.append({"command": command, "env": env})
        output = Path(command[command.index("--output") + 1])
        output.write_text(json.dumps({"emulator": env["HARNESS_EMULATOR"], "deploy_first_s": 9.5}))
        return status

    monkeypatch.setattr(bench, "_run_child", run_child)
    return runs


def _measure_ministack(options: bench.BenchOptions) -> None:
    bench.measure(
        Settings(emulator="localstack"), options, emulators=("ministack",), report=lambda m: None
    )


def test_the_other_emulator_runs_in_a_child_on_free_ports(monkeypatch, tmp_path):
    runs = _children(monkeypatch)
    settings = Settings(emulator="localstack", runtime_dir=tmp_path / "runtime")

    figures = bench.measure(
        settings,
        bench.BenchOptions(sessions=7, bursts=(3, 5)),
        emulators=("ministack",),
        report=lambda m: None,
    )

    assert figures == {"ministack": {"emulator": "ministack", "deploy_first_s": 9.5}}
    [child] = runs
    command = child["command"]
    assert isinstance(command, list)
    assert command[1:] == [
        "-m", "harness", "bench", "--child", "--emulators", "ministack",
        "--sessions", "7", "--bursts", "3,5", "--output", command[-1],
    ]  # fmt: skip
    # Its scratch folder is the checkout's, not the machine's /tmp, and gone after.
    assert Path(command[-1]).parent.parent == settings.runtime_dir
    assert not list(settings.runtime_dir.iterdir())
    env = child["env"]
    assert isinstance(env, dict)
    assert (env["HARNESS_EMULATOR"], env["HARNESS_RUNTIME"]) == ("ministack", "host")
    gateway = urlparse(env["AWS_ENDPOINT_URL"]).port
    ports = {gateway, int(env["AGENT_PORT"]), int(env["AGENTCORE_STANDIN_PORT"])}
    assert len(ports) == 3, "three distinct ports"
    assert not {settings.gateway_port, settings.agent_port, settings.standin_port} & ports
    assert not [p for p in ports if p is not None and port_in_use(p)], "free when chosen"


def test_a_failed_child_says_how_to_measure_one_column(monkeypatch):
    _children(monkeypatch, status=3)

    with pytest.raises(HarnessError, match=r"ministack bench exited with status 3.*EMULATORS="):
        _measure_ministack(bench.BenchOptions(sessions=1, bursts=(1,)))


def test_a_bench_that_deploys_once_has_its_child_deploy_once(monkeypatch):
    runs = _children(monkeypatch)
    _measure_ministack(bench.BenchOptions(sessions=1, bursts=(1,), deploy_once=True))
    [child] = runs
    assert "--deploy-once" in child["command"]  # type: ignore[operator]
