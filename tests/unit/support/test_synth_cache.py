"""The tests' synths are kept by content: reused for the same inputs and options only, never
kept when an input changed during the synth, and seen whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import synth_cache


@pytest.fixture
def source(one_input) -> Path:
    """The one input of the synths (it stands for infra/, contract/, the locks, ...)."""
    return one_input(synth_cache, "app.py", "version 1")


class Synths:
    """A stand-in synth: writes a template naming the source's content, counts its runs."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.runs = 0

    def __call__(self, outdir: Path) -> None:
        self.runs += 1
        (outdir / "AgentWorkflow.template.json").write_text(self.source.read_text())
        (outdir / "asset.zip").write_text("staged")


def _synth(synths: Synths, outdir: Path, *, assembly: bool = False, **options: object) -> bool:
    return synth_cache.kept_synth("aws", options, outdir, synths, assembly=assembly)


def test_a_synth_of_the_same_inputs_is_done_once(source, tmp_path):
    synths = Synths(source)
    assert not _synth(synths, tmp_path / "first")
    assert _synth(synths, tmp_path / "second")
    assert synths.runs == 1
    assert (tmp_path / "second" / "AgentWorkflow.template.json").read_text() == "version 1"
    assert not (tmp_path / "second" / synth_cache.COMPLETE).exists()


def test_changed_inputs_or_options_synthesize_again(source, tmp_path):
    synths = Synths(source)
    _synth(synths, tmp_path / "first")
    assert not _synth(synths, tmp_path / "other-context", context={"stack_name": "Pr-7"})
    source.write_text("version 2")
    assert not _synth(synths, tmp_path / "edited")
    assert (tmp_path / "edited" / "AgentWorkflow.template.json").read_text() == "version 2"
    assert synths.runs == 3


def test_a_synth_during_which_an_input_changed_is_not_kept(source, tmp_path):
    class Edited(Synths):
        def __call__(self, outdir: Path) -> None:
            super().__call__(outdir)
            self.source.write_text("saved during the synth")

    synths = Edited(source)
    _synth(synths, tmp_path / "first")
    assert not synth_cache.CACHE_DIR.exists()
    assert not _synth(synths, tmp_path / "second")
    assert synths.runs == 2


def test_templates_only_unless_the_assembly_is_asked_for(source, tmp_path):
    synths = Synths(source)
    _synth(synths, tmp_path / "first")
    _synth(synths, tmp_path / "assembly", assembly=True)
    assert _synth(synths, tmp_path / "template-again")
    assert not (tmp_path / "template-again" / "asset.zip").exists()
    assert _synth(synths, tmp_path / "assembly-again", assembly=True)
    assert (tmp_path / "assembly-again" / "asset.zip").read_text() == "staged"


def test_an_entry_without_its_completion_mark_is_not_read(source, tmp_path):
    synths = Synths(source)
    key = synth_cache.synth_key("aws", {}, assembly=False)
    half = synth_cache.CACHE_DIR / key
    half.mkdir(parents=True)
    (half / "AgentWorkflow.template.json").write_text("half written")
    assert not _synth(synths, tmp_path / "first")
    assert (tmp_path / "first" / "AgentWorkflow.template.json").read_text() == "version 1"


def test_only_the_most_recently_used_entries_stay(source, tmp_path, monkeypatch):
    monkeypatch.setattr(synth_cache, "KEPT_ENTRIES", 2)
    synths = Synths(source)
    for n in range(3):
        _synth(synths, tmp_path / str(n), context={"n": n})
    assert len(list(synth_cache.CACHE_DIR.iterdir())) == 2
    assert not _synth(synths, tmp_path / "again", context={"n": 0})


def test_an_edit_inside_a_folder_no_synth_reads_keeps_the_key(monkeypatch, tmp_path):
    agent = tmp_path / "agent"
    (agent / "testing").mkdir(parents=True)
    (agent / "app.py").write_text("app")
    double = agent / "testing" / "scripted_model.py"
    double.write_text("answer")
    monkeypatch.setattr(synth_cache, "INPUTS", (agent,))
    monkeypatch.setattr(synth_cache, "LEFT_OUT", (agent / "testing",))
    key = synth_cache.synth_key("aws", {}, assembly=False)
    double.write_text("edited answer")
    assert synth_cache.synth_key("aws", {}, assembly=False) == key
    (agent / "app.py").write_text("edited app")
    assert synth_cache.synth_key("aws", {}, assembly=False) != key
