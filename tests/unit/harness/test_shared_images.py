"""Images with no project code (the offline base, the images' dependencies stages) are saved
once per machine and loaded by the next checkout's engine (harness/runtime/shared_images.py),
checked by their inputs label like a built image."""

from __future__ import annotations

import os
from pathlib import Path

from harness.runtime import shared_images


class FakeDocker:
    """Records docker commands; ``save`` writes the archive it is asked for."""

    def __init__(self, succeeds: bool = True) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.succeeds = succeeds

    def __call__(self, *args: str) -> bool:
        self.calls.append(args)
        if args[0] == "save" and self.succeeds:
            Path(args[args.index("--output") + 1]).write_bytes(b"image")
        return self.succeeds


def test_the_archive_is_named_after_the_inputs_in_the_machine_cache(tmp_path):
    path = shared_images.archive(tmp_path, "offline-base", "abc123")
    assert path == tmp_path / "docker" / "offline-base-abc123.tar"


def test_nothing_is_loaded_when_the_machine_has_no_base(tmp_path):
    docker = FakeDocker()
    assert not shared_images.load(docker, lambda: None, tmp_path / "none.tar", "abc")
    assert docker.calls == []


def test_a_loaded_base_counts_only_when_its_label_is_the_inputs(tmp_path):
    path = tmp_path / "base.tar"
    path.write_bytes(b"image")
    docker = FakeDocker()

    assert shared_images.load(docker, lambda: "abc", path, "abc")
    assert docker.calls == [("load", "--quiet", "--input", str(path))]
    assert not shared_images.load(docker, lambda: "other", path, "abc")
    assert not shared_images.load(FakeDocker(succeeds=False), lambda: "abc", path, "abc")


def test_the_base_is_saved_once_whole_under_its_name(tmp_path):
    path = shared_images.archive(tmp_path, "offline-base", "abc")
    docker = FakeDocker()

    assert shared_images.save(docker, "base:offline", path)
    assert path.read_bytes() == b"image"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left
    assert not shared_images.save(docker, "base:offline", path)
    assert len(docker.calls) == 1


def test_a_failed_save_leaves_nothing_behind(tmp_path):
    path = shared_images.archive(tmp_path, "offline-base", "abc")

    assert not shared_images.save(FakeDocker(succeeds=False), "base:offline", path)
    assert list(path.parent.iterdir()) == []


def _archives(tmp_path: Path, name: str, *inputs: str) -> list[Path]:
    """Archives of ``name``, the first the oldest (seconds apart)."""
    paths = [shared_images.archive(tmp_path, name, key) for key in inputs]
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    for age, path in enumerate(reversed(paths)):
        path.write_bytes(b"image")
        os.utime(path, (1_000_000 - age, 1_000_000 - age))
    return paths


def test_saving_an_image_prunes_its_older_archives_keeping_the_last_used(tmp_path):
    # GIVEN three archives of the base (the oldest first) and one of another image
    *_, recent = _archives(tmp_path, "offline-base", "a1", "b2", "c3")
    (other,) = _archives(tmp_path, "agent-dependencies", "a1")

    # WHEN a new base is saved
    path = shared_images.archive(tmp_path, "offline-base", "d4")
    assert shared_images.save(FakeDocker(), "base:offline", path)

    # THEN it and the most recently used other one stay; the other image is left alone
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        [path.name, recent.name, other.name]
    )


def test_a_loaded_archive_counts_as_recently_used(tmp_path):
    oldest, _ = _archives(tmp_path, "offline-base", "a1", "b2")
    assert shared_images.load(FakeDocker(), lambda: "a1", oldest, "a1")

    path = shared_images.archive(tmp_path, "offline-base", "c3")
    assert shared_images.save(FakeDocker(), "base:offline", path)

    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, oldest.name])
