"""The synthesized cloud assembly is reused only for the inputs it was made from."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import assembly


@pytest.fixture
def cdk_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    directory = tmp_path / "cdk.out"
    directory.mkdir()
    (directory / "manifest.json").write_text("{}")
    monkeypatch.setattr(assembly, "ASSEMBLY_DIR", directory)
    return directory


def test_an_assembly_is_reused_for_the_inputs_it_was_made_from(cdk_out):
    assembly.remember("key-1")
    assert assembly.reusable("key-1")
    assert not assembly.reusable("key-2")


def test_nothing_is_reused_before_a_synth_said_what_it_was_made_from(cdk_out):
    assert not assembly.reusable("key-1")


def test_a_forgotten_assembly_is_not_reused(cdk_out):
    assembly.remember("key-1")
    assembly.forget()
    assert not assembly.reusable("key-1")
    assembly.forget()  # twice is fine


def test_an_incomplete_assembly_is_not_reused(cdk_out):
    assembly.remember("key-1")
    (cdk_out / "manifest.json").unlink()
    assert not assembly.reusable("key-1")


def test_without_an_assembly_nothing_is_remembered(cdk_out, tmp_path):
    (cdk_out / "manifest.json").unlink()
    cdk_out.rmdir()
    assembly.remember("key-1")
    assert not assembly.reusable("key-1")


def test_the_key_covers_the_deploy_fingerprint_and_the_cdk_locks(monkeypatch, tmp_path):
    lock = tmp_path / "dev.lock"
    lock.write_text("aws-cdk-lib==2.275.0\n")
    monkeypatch.setattr(assembly, "SYNTH_LOCKS", (lock,))
    before = assembly.inputs_key("fingerprint-a")
    assert assembly.inputs_key("fingerprint-b") != before
    lock.write_text("aws-cdk-lib==2.276.0\n")
    assert assembly.inputs_key("fingerprint-a") != before
