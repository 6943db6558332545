"""The image check a warm docker-mode start runs (harness/runtime/images.py): one docker call,
and the offline base's interpreters looked up again only when they changed (no engine)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.runtime import images
from harness.runtime.images import OFFLINE_BASE_TAG, PYTHONS_RECORD, ImageBuilder, image_specs


class FakeEngine:
    """Answers ``docker image inspect`` from ``images`` (tag -> (id, inputs label)), as docker
    does: the present ones printed, exit 1 if any is absent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.images: dict[str, tuple[str, str]] = {}
        self.calls: list[tuple[str, ...]] = []

    def docker(self, *args: str, stdin: object = None) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        assert args[:3] == ("image", "inspect", "--format"), args
        tags = args[4:]
        lines = [
            f"{self.images[t][0]}\t{self.images[t][1]}\t{t}," for t in tags if t in self.images
        ]
        code = 0 if len(lines) == len(tags) else 1
        return subprocess.CompletedProcess(args, code, "\n".join(lines) + "\n", "")


def _interpreters(root: Path) -> dict[str, Path]:
    prefixes = {}
    for version in ("3.12", "3.13"):
        prefix = root / f"python-{version}"
        (prefix / "bin").mkdir(parents=True)
        (prefix / "bin" / f"python{version}").write_text("")
        prefixes[version] = prefix
    return prefixes


@pytest.fixture
def built(tmp_path, monkeypatch):
    """An engine holding the offline base (built from two interpreters) and both images, all
    up to date; find_python and the prefix probe answer those interpreters, counted."""
    monkeypatch.setattr(ImageBuilder, "_debian_release", staticmethod(lambda: "bookworm"))
    monkeypatch.setattr(images, "MACHINE_CA_DIR", tmp_path / "no-cas")
    prefixes = _interpreters(tmp_path)
    lookups: list[str] = []

    def find_python(version: str) -> str:
        lookups.append(version)
        return str(prefixes[version] / "bin" / f"python{version}")

    def run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0, f"{Path(command[0]).parent.parent}\n", "")

    monkeypatch.setattr(images, "find_python", find_python)
    monkeypatch.setattr(images.commands, "run", run)
    engine = FakeEngine(tmp_path / "docker")
    builder = ImageBuilder(engine)  # type: ignore[arg-type]
    engine.images[OFFLINE_BASE_TAG] = ("sha256:base", builder._base_inputs("bookworm", prefixes))
    # The images' inputs as of now: make test's integration lane edits the agent's code for a
    # moment meanwhile (test_checkouts.py), which is not what this checks.
    inputs = {spec.tag: builder.inputs(spec) for spec in image_specs(OFFLINE_BASE_TAG)}
    monkeypatch.setattr(ImageBuilder, "inputs", lambda self, spec: inputs[spec.tag])
    for tag, label in inputs.items():
        engine.images[tag] = (f"sha256:{tag}", label)
    engine.calls.clear()
    return builder, engine, prefixes, lookups


def test_a_warm_check_is_one_docker_call_once_the_interpreters_are_known(built):
    builder, engine, prefixes, lookups = built
    assert builder.build_all(offline_base=True) == []
    assert lookups == ["3.12", "3.13"]  # first check: found as before, then recorded
    record = json.loads((engine.root / PYTHONS_RECORD).read_text())
    assert record == {version: str(prefix) for version, prefix in prefixes.items()}

    lookups.clear()
    engine.calls.clear()
    assert builder.build_all(offline_base=True) == []
    assert lookups == []
    tags = [OFFLINE_BASE_TAG, *(spec.tag for spec in image_specs(None))]
    assert engine.calls == [("image", "inspect", "--format", images.INSPECT_FORMAT, *tags)]


def test_changed_or_unreadable_interpreters_are_looked_up_again(built, tmp_path):
    builder, engine, prefixes, lookups = built
    record = engine.root / PYTHONS_RECORD
    record.parent.mkdir(parents=True)
    others = _interpreters(tmp_path / "other")  # not the base's: its inputs differ
    for text in (json.dumps({v: str(p) for v, p in others.items()}), "not json", "[1]"):
        record.write_text(text)
        lookups.clear()
        assert builder.build_all(offline_base=True) == []
        assert lookups == ["3.12", "3.13"], text
        assert json.loads(record.read_text()) == {v: str(p) for v, p in prefixes.items()}


def test_an_absent_image_is_told_apart_in_the_one_inspect(built):
    builder, engine, _, _ = built
    del engine.images["agent-workflow/agent:local"]
    assert builder._inspect(OFFLINE_BASE_TAG, "agent-workflow/agent:local") == {
        OFFLINE_BASE_TAG: engine.images[OFFLINE_BASE_TAG],
        "agent-workflow/agent:local": None,
    }
