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
    monkeypatch.setattr(assembly, "KEPT_DIR", tmp_path / "kept")
    return directory


def _synth(cdk_out: Path, key: str) -> None:
    """What a synth from ``key``'s inputs does to infra/cdk.out, as the deploy records it."""
    assembly.forget()
    (cdk_out / "template.json").write_text(key)
    assembly.remember(key)


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


def test_a_synth_replaced_in_cdk_out_is_still_reused_from_its_kept_copy(cdk_out):
    # GIVEN a synth, then one of other inputs (another context) in infra/cdk.out
    _synth(cdk_out, "key-1")
    _synth(cdk_out, "key-2")
    # THEN each is found: the newest in infra/cdk.out, the first as its kept copy, whole
    assert assembly.kept("key-2") == cdk_out
    copy = assembly.kept("key-1")
    assert copy is not None
    assert copy != cdk_out
    assert (copy / "template.json").read_text() == "key-1"
    assert (copy / "manifest.json").is_file()
    assert assembly.kept("key-3") is None


def test_only_the_most_recently_used_copies_are_kept(cdk_out):
    keys = [f"key-{n}" for n in range(assembly.KEPT_COUNT + 2)]
    for key in keys:
        _synth(cdk_out, key)
    kept = sorted(path.name for path in assembly.KEPT_DIR.iterdir())
    assert kept == sorted(keys[-assembly.KEPT_COUNT :])
    assert assembly.kept(keys[0]) is None


def test_a_kept_copy_without_its_stamp_is_not_reused(cdk_out):
    _synth(cdk_out, "key-1")
    _synth(cdk_out, "key-2")
    (assembly.KEPT_DIR / "key-1" / assembly.STAMP_NAME).unlink()
    assert assembly.kept("key-1") is None
