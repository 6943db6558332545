"""The host runtime's installs: downloads through the cache the machine's checkouts share,
the independent install chains side by side, and the LocalStack service catalog and DynamoDB
Local built once per machine (the install commands are replaced; files are real, in temporary
folders)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from harness import deploy
from harness.runtime import installer
from harness.runtime.installer import Installer, InstallError
from harness.settings import SHARED_CACHE_NAME, Settings, shared_cache_default


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(runtime_dir=tmp_path / "runtime", cache_dir=tmp_path / "shared")


def test_the_shared_cache_is_in_the_xdg_cache_home_unless_set(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert shared_cache_default() == tmp_path / "xdg" / SHARED_CACHE_NAME
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert shared_cache_default() == tmp_path / "home" / ".cache" / SHARED_CACHE_NAME
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "mine"))
    assert Settings().cache_dir == tmp_path / "mine"


def test_the_cdk_cli_and_the_installs_download_through_the_shared_cache(settings):
    env = deploy.cdk_environment(settings)
    assert env["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] == str(settings.cache_dir / "jsii")
    assert env["npm_config_cache"] == str(settings.cache_dir / "npm")
    assert env["UV_CACHE_DIR"] == str(settings.cache_dir / "uv")
    # What belongs to this checkout stays in its runtime folder.
    assert env["CDK_HOME"] == str(settings.runtime_dir / "cdk-home")
    assert Installer(settings).cache == settings.cache_dir


def test_uv_keeps_its_temporary_files_in_the_runtime_folder(settings, monkeypatch):
    """uv leaves a lock file in its temporary folder for each package it builds (the host
    Lambda plug-in at each install): one per checkout and install in /tmp otherwise."""
    seen: list[dict[str, str]] = []
    monkeypatch.setattr(installer, "_run", lambda command, what, env: seen.append(env))
    Installer(settings)._uv("--version", what="uv")
    scratch = Path(seen[0]["TMPDIR"])
    assert scratch.is_dir()
    assert scratch.is_relative_to(settings.runtime_dir)


def test_chains_run_side_by_side_each_in_order(settings):
    order: list[str] = []
    second_chain_ran = threading.Event()

    def first() -> None:
        # Only finishes once the other chain has run: one after the other, it never would.
        order.append("a1" if second_chain_ran.wait(timeout=30) else "a1 alone")

    installer_ = Installer(settings)
    installer_._run_chains(
        [("a1", "k", first), ("a2", "k", lambda: order.append("a2"))],
        [("b1", "k", second_chain_ran.set)],
    )
    assert order == ["a1", "a2"]
    assert sorted(p.name for p in installer_.stamps.iterdir()) == ["a1", "a2", "b1"]


def test_a_failed_chain_fails_the_install_after_the_others_finished(settings):
    finished = threading.Event()

    def fail() -> None:
        raise InstallError("boom")

    def slow() -> None:
        finished.set()

    installer_ = Installer(settings)
    with pytest.raises(InstallError, match="boom"):
        installer_._run_chains([("bad", "k", fail), ("never", "k", slow)], [("ok", "k", slow)])
    assert finished.is_set()
    assert not (installer_.stamps / "bad").exists()
    assert not (installer_.stamps / "never").exists()  # a chain stops at its failed step
    assert (installer_.stamps / "ok").read_text() == "k"


def test_the_service_catalog_is_built_once_per_machine(monkeypatch, tmp_path):
    builds: list[Path] = []

    def build(command: list[str], what: str, **options: object) -> None:
        static = Path(str(options["env"]["FILESYSTEM_ROOT"])) / "usr" / "lib" / "localstack"  # type: ignore[index]
        (static / "service-catalog.dill").write_text("index")
        builds.append(static)

    monkeypatch.setattr(installer, "_run", build)
    shared = tmp_path / "shared"
    first = Installer(Settings(runtime_dir=tmp_path / "one", cache_dir=shared))
    first._service_catalog()
    second = Installer(Settings(runtime_dir=tmp_path / "two", cache_dir=shared))
    second._service_catalog()
    assert builds == [first.static_libs_dir]
    assert (second.static_libs_dir / "service-catalog.dill").read_text() == "index"
    # Only the published copy is in the shared cache: no half-written folder left beside it.
    assert [p.name for p in (shared / "localstack-service-catalog").iterdir()] == [
        installer.fingerprint(installer.LOCALSTACK_LOCK)
    ]


def test_dynamodb_local_is_built_once_per_machine_and_jdk(monkeypatch, tmp_path):
    """`npm pack`, the unpacking, `javac` and the class dump run once per machine: a second
    runtime dir links the built folder; another JDK (it compiles the loopback patch) builds
    again. A link, not a copy: the class archive names the jars it was made from."""
    builds: list[str] = []
    dumps: list[Path] = []

    def build(self: Installer, target: Path) -> None:
        target.mkdir(parents=True)
        (target / "DynamoDBLocal.jar").write_text(f"built with {self._java_home()}")
        builds.append(self._java_home())

    def dump(install: Path, java_home: Path) -> Path:
        dumps.append(install)
        (install / "dynamodb-local.jsa").write_text(f"classes of {install}")
        return install / "dynamodb-local.jsa"

    monkeypatch.setattr(installer.dynamodb_local_build, "dump_class_archive", dump)
    jdks = {}
    for version in ("17", "21"):
        jdks[version] = tmp_path / f"jdk-{version}"
        (jdks[version] / "bin").mkdir(parents=True)
        (jdks[version] / "bin" / "javac").touch()
        (jdks[version] / "release").write_text(f'JAVA_VERSION="{version}"\n')
    monkeypatch.setattr(Installer, "_build_dynamodb_local", build)
    monkeypatch.setenv("JAVA_HOME", str(jdks["17"]))
    shared = tmp_path / "shared"

    def runtime(name: str) -> Installer:
        return Installer(Settings(runtime_dir=tmp_path / name, cache_dir=shared))

    first, second, third = runtime("one"), runtime("two"), runtime("three")
    first._dynamodb_local()
    second._dynamodb_local()
    monkeypatch.setenv("JAVA_HOME", str(jdks["21"]))
    third._dynamodb_local()

    assert builds == [str(jdks["17"]), str(jdks["21"])]
    published = sorted((shared / "dynamodb-local").iterdir())
    # Only the published folders are in the shared cache: none half-written beside them.
    assert len(published) == 2
    assert sorted(dumps) == published
    linked = [i.lib_dir / "dynamodb-local" / "2" for i in (first, second, third)]
    assert all(link.is_symlink() for link in linked)
    assert linked[0].resolve() == linked[1].resolve() != linked[2].resolve()
    assert (linked[1] / "DynamoDBLocal.jar").read_text() == f"built with {jdks['17']}"


def test_a_cleared_cache_installs_dynamodb_local_again(monkeypatch, tmp_path):
    """The runtime links into the shared cache: once the user clears it, the next install
    builds it again instead of leaving LocalStack a link to nothing."""
    monkeypatch.setattr(Installer, "_java_home", staticmethod(lambda: str(tmp_path / "jdk")))
    steps: list[str] = []
    monkeypatch.setattr(Installer, "_dynamodb_local", lambda self: steps.append("built"))
    runtime = Installer(Settings(runtime_dir=tmp_path / "one", cache_dir=tmp_path / "shared"))
    runtime._step("dynamodb-local", "key", runtime._dynamodb_local)
    link = runtime.lib_dir / "dynamodb-local" / "2"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "shared" / "gone", target_is_directory=True)
    runtime._step("dynamodb-local", "key", runtime._dynamodb_local)
    assert steps == ["built", "built"]


def test_installs_in_one_checkout_take_turns(settings, monkeypatch):
    """Two runtimes starting at once in one checkout (a test's own beside the shared one) must
    not rebuild the same virtualenv under each other: the second waits, saying so."""
    inside = threading.Event()
    release = threading.Event()
    said: list[str] = []

    def first_install(self: Installer) -> None:
        inside.set()
        assert release.wait(timeout=30)

    monkeypatch.setattr(Installer, "_install", first_install)
    first = threading.Thread(target=Installer(settings).ensure_all)
    first.start()
    assert inside.wait(timeout=30)

    second_ran = threading.Event()
    waiting = threading.Event()

    def report(message: str) -> None:
        said.append(message)
        waiting.set()

    monkeypatch.setattr(Installer, "_install", lambda self: second_ran.set())
    second = threading.Thread(target=Installer(settings, report=report).ensure_all)
    second.start()
    assert waiting.wait(timeout=30)
    assert not second_ran.is_set()
    assert said == ["waiting for another install in this checkout to end"]
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert second_ran.is_set()
