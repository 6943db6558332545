"""The images docker-compose.yml runs, built offline and cached by what goes into them.

Users build on the official bases (``python:3.12-slim`` for the agent, ``python:3.13-slim``
for LocalStack), which a registry serves. Machines with no registry (CI here) build a base of
their own from Debian's packages: ``debootstrap`` of this machine's Debian release, with the
machine's CA certificates and its own Python 3.12 and 3.13 (the interpreters host mode runs
LocalStack and the Lambdas on), imported with ``docker import``; the same Dockerfiles then
build on it (``--build-arg BASE_IMAGE=...``).

Each image carries a label with a hash of its inputs (Dockerfile, the files it copies, the
build arguments, the base image's id); a build whose hash matches the existing image is
skipped, so only the first run pays for it. Each Dockerfile's first stage, ``dependencies``,
holds the third-party part alone (the JDK, the locked packages): it is built as an image of
its own, keyed by that stage's text, the lock files it copies and the base, saved into the
machine's cache and loaded by the next checkout (shared_images.py), whose build then takes
those layers from it (``--cache-from``) and builds only the project's own layers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harness import commands
from harness.errors import HarnessError
from harness.fingerprint import fingerprint
from harness.runtime import shared_images
from harness.runtime.engine import Engine
from harness.runtime.installer import find_python
from harness.settings import REPO_ROOT

logger = logging.getLogger(__name__)

INPUTS_LABEL = "harness.inputs"
# An image's id, inputs label and tags, tab-separated (ImageBuilder._inspect).
INSPECT_FORMAT = (
    f'{{{{.Id}}}}\t{{{{index .Config.Labels "{INPUTS_LABEL}"}}}}\t'
    "{{range .RepoTags}}{{.}},{{end}}"
)
# Beside the engine: the offline base's interpreters' prefixes, as last found (offline_base).
PYTHONS_RECORD = "offline-base-pythons.json"
OFFLINE_BASE_TAG = "agent-workflow/base:offline"
# Libraries the copied interpreters link against (ldd of python and lib-dynload), ca-certificates
# for the machine's CAs; minbase has libc, zlib, bzip2, lzma.
BASE_PACKAGES = (
    "ca-certificates",
    "libbsd0",
    "libexpat1",
    "libffi8",
    "libgdbm6",
    "libgssapi-krb5-2",
    "libncursesw6",
    "libnsl2",
    "libreadline8",
    "libsqlite3-0",
    "libssl3",
    "libuuid1",
)
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Parts of an interpreter's tree the images never use (tests, IDLE, Tk, the static library).
PYTHON_TREE_SKIPPED = ("test", "idlelib", "tkinter", "turtledemo")
# Sources CPython's own install leaves uncompiled (deliberately broken test data).
UNCOMPILED_SOURCES = r"bad_coding|badsyntax|lib2to3/tests/data|site-packages"
MACHINE_CA_DIR = Path("/usr/local/share/ca-certificates")
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    # pip and requests bundle their own CA list: point them at the system store, which
    # holds the machine's CAs (a TLS-inspecting proxy's, here).
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
    "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
}


def python_tree_skipped(directory: str, names: list[str]) -> set[str]:
    """What the base leaves out of a copied interpreter's tree: the parts it never uses, the
    machine's own site-packages but pip, and bytecode of the optimisation levels (-O, -OO)
    nothing runs; the plain bytecode stays."""
    drop = {n for n in names if n in PYTHON_TREE_SKIPPED or n.endswith(".a")}
    if directory.endswith("site-packages"):
        drop |= {n for n in names if not n.startswith("pip")}
    if directory.endswith("__pycache__"):
        drop |= {n for n in names if ".opt-" in n}
    return drop


class ImageProblem(HarnessError):
    """An image could not be built; the message has the build's last lines."""


# The stage of each Dockerfile that holds no project code (shared between checkouts).
DEPENDENCIES_STAGE = "dependencies"


@dataclass(frozen=True)
class ImageSpec:
    """One image of the compose file: its tag, Dockerfile, build context and inputs;
    ``dependency_inputs``: the files its dependencies stage copies (lock files only)."""

    tag: str
    dockerfile: Path
    inputs: tuple[Path, ...]
    dependency_inputs: tuple[Path, ...]
    context: Path = REPO_ROOT
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None

    @property
    def dependencies_tag(self) -> str:
        """The repository of the image of its dependencies stage (tagged with its key)."""
        return f"{self.tag.rsplit(':', 1)[0]}-{DEPENDENCIES_STAGE}"


def dependencies_stage(dockerfile: str) -> str:
    """The instructions that make a Dockerfile's dependencies stage: the arguments declared
    before the first stage, and the stage from its FROM line to the next FROM (comments and
    blank lines left out)."""
    lines = dockerfile.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("FROM "))
    start = lines.index(next(line for line in lines if line.endswith(f" AS {DEPENDENCIES_STAGE}")))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM ")), None)
    instructions = [line for line in lines[:first] if line.startswith("ARG ")]
    stage = [line for line in lines[start:end] if line.strip() and not line.strip().startswith("#")]
    return "\n".join(instructions + stage)


def image_specs(base_image: str | None) -> list[ImageSpec]:
    """The compose file's images; ``base_image`` replaces the official bases (None: keep them)."""
    args = {"BASE_IMAGE": base_image} if base_image else {}
    return [
        ImageSpec(
            tag="agent-workflow/localstack:local",
            dockerfile=REPO_ROOT / "harness" / "runtime" / "localstack.Dockerfile",
            inputs=(
                REPO_ROOT / "requirements" / "localstack.lock",
                REPO_ROOT / "requirements" / "lambda.lock",
                REPO_ROOT / "harness" / "localstack_host_lambda",
                REPO_ROOT / "harness" / "runtime" / "dynamodb_local_build.py",
                REPO_ROOT / "harness" / "runtime" / "dynamodb_loopback_patch",
                REPO_ROOT / "harness" / "runtime" / "localstack_image.py",
                REPO_ROOT / ".dockerignore",
            ),
            dependency_inputs=(
                REPO_ROOT / "requirements" / "localstack.lock",
                REPO_ROOT / "requirements" / "lambda.lock",
            ),
            build_args=args,
        ),
        ImageSpec(
            tag="agent-workflow/agent:local",
            dockerfile=REPO_ROOT / "agent" / "Dockerfile",
            inputs=(
                REPO_ROOT / "agent",
                REPO_ROOT / "contract",
                REPO_ROOT / "harness" / "__init__.py",
                REPO_ROOT / "harness" / "agentcore_standin.py",
                REPO_ROOT / ".dockerignore",
            ),
            dependency_inputs=(REPO_ROOT / "agent" / "requirements.txt",),
            build_args=args,
            target="local",
        ),
    ]


class ImageBuilder:
    """Builds the offline base and the compose file's images on an engine, skipping cached ones."""

    def __init__(self, engine: Engine, report: Callable[[str], None] = logger.info) -> None:
        self.engine = engine
        self.report = report
        # build_all's one inspect of the images it checks: tag -> (id, inputs label), None
        # for an absent one; emptied as soon as an image is built, imported or loaded.
        self._known: dict[str, tuple[str, str] | None] = {}

    def _docker(self, *args: str, what: str, stdin: IO[bytes] | None = None) -> str:
        self._known = {}
        result = self.engine.docker(*args, stdin=stdin)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
            raise ImageProblem(f"{what} failed (exit {result.returncode}):\n{tail}")
        return result.stdout

    def _inspect(self, *tags: str) -> dict[str, tuple[str, str] | None]:
        """One ``docker image inspect`` of ``tags`` (each ``name:tag``, as docker lists it):
        each one's (id, inputs label), None for an absent one (docker then exits 1, having
        printed the others). One call instead of two per image: ~12 ms of CPU each."""
        result = self.engine.docker("image", "inspect", "--format", INSPECT_FORMAT, *tags)
        found: dict[str, tuple[str, str] | None] = dict.fromkeys(tags)
        for line in result.stdout.splitlines():
            image_id, label, repo_tags = [*line.split("\t"), "", ""][:3]
            for tag in set(tags) & set(repo_tags.split(",")):
                found[tag] = (image_id, label)
        return found

    def _facts(self, tag: str) -> tuple[str, str] | None:
        """(id, inputs label) of ``tag``'s image, None if there is none."""
        if tag in self._known:
            return self._known[tag]
        result = self.engine.docker("image", "inspect", "--format", INSPECT_FORMAT, tag)
        if result.returncode != 0:
            return None
        image_id, label = [*result.stdout.strip().split("\t"), ""][:2]
        return image_id, label

    def label(self, tag: str) -> str | None:
        """The inputs label of an existing image, or None if there is no such image."""
        facts = self._facts(tag)
        return facts[1] if facts else None

    def image_id(self, tag: str) -> str:
        facts = self._facts(tag)
        if facts is None:
            raise ImageProblem(f"inspect failed: no image {tag}")
        return facts[0]

    # -- the offline base -------------------------------------------------------------------
    @staticmethod
    def _python_prefixes() -> dict[str, Path]:
        """Prefix of this machine's Python 3.12 and 3.13 (the ones host mode uses)."""
        prefixes = {}
        for version in ("3.12", "3.13"):
            python = find_python(version)
            prefix = commands.run(
                [python, "-c", "import sys; print(sys.base_prefix)"],
                what=f"python{version}",
                error=ImageProblem,
            ).stdout.strip()
            prefixes[version] = Path(prefix)
        return prefixes

    @staticmethod
    def _debian_release() -> str:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip('"')
        raise ImageProblem("cannot tell this machine's Debian release (/etc/os-release)")

    def _base_inputs(self, release: str, prefixes: dict[str, Path]) -> str:
        sha = hashlib.sha256(
            json.dumps(
                {
                    "release": release,
                    "packages": BASE_PACKAGES,
                    "env": BASE_ENV,
                    "pythons": {v: str(p) for v, p in prefixes.items()},
                    "recipe": 2,
                },
                sort_keys=True,
            ).encode()
        )
        for prefix in prefixes.values():
            for binary in sorted((prefix / "bin").glob("python3.*")):
                sha.update(str(binary.stat().st_mtime_ns).encode())
        for cert in sorted(MACHINE_CA_DIR.glob("*.crt")):
            sha.update(cert.read_bytes())
        return sha.hexdigest()[:16]

    @property
    def _pythons_record(self) -> Path:
        return self.engine.root / PYTHONS_RECORD

    def _recorded_prefixes(self) -> dict[str, Path]:
        """The interpreters' prefixes the base was last found built from ({} if unknown)."""
        try:
            recorded = json.loads(self._pythons_record.read_text())
            return {str(version): Path(prefix) for version, prefix in recorded.items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def offline_base(self) -> str:
        """Build (or reuse) the registry-free base image; returns its tag.

        The base keeps the interpreters it was built from while they are unchanged (same
        prefixes, same binaries' times: its inputs then match its label), as host mode's
        virtualenvs keep theirs: finding them again (find_python, whose first candidate on
        this machine is a pyenv shim that fails after ~110 ms of bash) is done only when they
        changed or are unknown. ~0.3 of the check's ~0.35 CPU-s, twice per make test."""
        release = self._debian_release()
        label = self.label(OFFLINE_BASE_TAG)
        recorded = self._recorded_prefixes()
        if label and recorded and self._base_inputs(release, recorded) == label:
            return OFFLINE_BASE_TAG
        prefixes = self._python_prefixes()
        inputs = self._base_inputs(release, prefixes)
        if label == inputs:
            self._record(prefixes)
            return OFFLINE_BASE_TAG
        shared = shared_images.archive(self.engine.settings.cache_dir, "offline-base", inputs)
        if shared_images.load(self._succeeds, lambda: self.label(OFFLINE_BASE_TAG), shared, inputs):
            self.report(f"offline base image loaded from the machine's cache ({shared})")
            self._record(prefixes)
            return OFFLINE_BASE_TAG
        if shutil.which("debootstrap") is None:
            raise ImageProblem("debootstrap is missing: `apt-get install debootstrap`")
        self.report(
            f"building the offline base image (debootstrap {release}, this machine's Pythons)"
        )
        work = self.engine.root / "build"
        work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            rootfs = Path(tmp) / "rootfs"
            self._run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(BASE_PACKAGES)}",
                    release,
                    str(rootfs),
                    DEBIAN_MIRROR,
                ],
                "debootstrap",
            )
            self._customise(rootfs, prefixes)
            tar = subprocess.Popen(
                ["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."],
                stdout=subprocess.PIPE,
            )
            changes = [f"ENV {name}={value}" for name, value in BASE_ENV.items()]
            changes += [f"LABEL {INPUTS_LABEL}={inputs}", 'CMD ["python3"]']
            change_args = [arg for change in changes for arg in ("--change", change)]
            self._docker(
                "import",
                *change_args,
                "-",
                OFFLINE_BASE_TAG,
                what="docker import",
                stdin=tar.stdout,
            )
            tar.wait()
        if shared_images.save(self._succeeds, OFFLINE_BASE_TAG, shared):
            self.report(f"offline base image saved for the machine's next checkouts ({shared})")
        self._record(prefixes)
        return OFFLINE_BASE_TAG

    def _record(self, prefixes: dict[str, Path]) -> None:
        self._pythons_record.parent.mkdir(parents=True, exist_ok=True)
        self._pythons_record.write_text(
            json.dumps({version: str(prefix) for version, prefix in prefixes.items()}) + "\n"
        )

    def _succeeds(self, *args: str) -> bool:
        self._known = {}
        return self.engine.docker(*args).returncode == 0

    @staticmethod
    def _run(command: list[str], what: str) -> None:
        commands.run(command, what=what, error=ImageProblem, tail=15)

    def _customise(self, rootfs: Path, prefixes: dict[str, Path]) -> None:
        """The machine's CAs, its interpreters (same paths), and python/pip on PATH."""
        target_cas = rootfs / MACHINE_CA_DIR.relative_to("/")
        target_cas.mkdir(parents=True, exist_ok=True)
        for cert in MACHINE_CA_DIR.glob("*.crt"):
            shutil.copy2(cert, target_cas / cert.name)
        self._run(["chroot", str(rootfs), "update-ca-certificates", "--fresh"], "CA install")

        bin_dir = rootfs / "usr" / "local" / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for version, prefix in prefixes.items():
            shutil.copytree(
                prefix, rootfs / prefix.relative_to("/"), symlinks=True, ignore=python_tree_skipped
            )
            # Same path as on the machine (the interpreter's rpath and pip's shebangs name it),
            # readable by the images' non-root users even under /root.
            for parent in (rootfs / prefix.relative_to("/")).parents:
                if parent == rootfs:
                    break
                parent.chmod(parent.stat().st_mode | 0o755)
            for name in (f"python{version}", f"pip{version}"):
                (bin_dir / name).symlink_to(prefix / "bin" / name)
        for name, version in (
            ("python", "3.12"),
            ("python3", "3.12"),
            ("pip", "3.12"),
            ("pip3", "3.12"),
        ):
            (bin_dir / name).symlink_to(f"{name.rstrip('3')}{version}")
        for version, prefix in prefixes.items():
            # The standard library's bytecode, as the machine's install has it (copied above,
            # its sources' times kept) and any module it lacks compiled here: the images'
            # processes never compile it at each start (the agent's image writes no bytecode,
            # and each health check is a new interpreter).
            stdlib = prefix / "lib" / f"python{version}"
            compileall = [f"python{version}", "-m", "compileall", "-q", "-x", UNCOMPILED_SOURCES]
            self._run(
                ["chroot", str(rootfs), *compileall, str(stdlib)], f"Python {version} bytecode"
            )
        self._run(
            ["chroot", str(rootfs), "python3.13", "-c", "import ssl, sqlite3, ctypes"],
            "Python 3.13 check",
        )
        self._run(
            ["chroot", str(rootfs), "python", "-c", "import ssl, sqlite3, ctypes"],
            "Python 3.12 check",
        )

    # -- the compose file's images ----------------------------------------------------------
    def inputs(self, spec: ImageSpec) -> str:
        base = spec.build_args.get("BASE_IMAGE")
        base_id = self.image_id(base) if base else ""
        extra = json.dumps({"args": spec.build_args, "base": base_id, "target": spec.target})
        return fingerprint(spec.dockerfile, *spec.inputs, extra=extra)

    def dependencies_inputs(self, spec: ImageSpec) -> str:
        """The key of ``spec``'s dependencies stage: its text, the lock files it copies, the
        build arguments and the base image's id (no project file)."""
        base = spec.build_args.get("BASE_IMAGE")
        extra = json.dumps(
            {
                "stage": dependencies_stage(spec.dockerfile.read_text()),
                "args": spec.build_args,
                "base": self.image_id(base) if base else "",
            }
        )
        return fingerprint(*spec.dependency_inputs, extra=extra)

    def dependencies(self, spec: ImageSpec) -> str:
        """The image of ``spec``'s dependencies stage on this engine: kept, loaded from the
        machine's cache, or built (then saved there for the next checkout); its tag."""
        inputs = self.dependencies_inputs(spec)
        tag = f"{spec.dependencies_tag}:{inputs}"
        if self.label(tag) == inputs:
            return tag
        name = spec.dependencies_tag.replace("/", "-")
        shared = shared_images.archive(self.engine.settings.cache_dir, name, inputs)
        if shared_images.load(self._succeeds, lambda: self.label(tag), shared, inputs):
            self.report(f"{tag}: third-party layers loaded from the machine's cache ({shared})")
            return tag
        self.report(f"building {tag} (third-party layers, shared with the machine's checkouts)")
        self._build(spec, tag, inputs, target=DEPENDENCIES_STAGE)
        if shared_images.save(self._succeeds, tag, shared):
            self.report(f"{tag} saved for the machine's next checkouts ({shared})")
        return tag

    def build(self, spec: ImageSpec) -> bool:
        """Build ``spec`` unless its image has the same inputs; True if it was built."""
        inputs = self.inputs(spec)
        if self.label(spec.tag) == inputs:
            return False
        dependencies = self.dependencies(spec)
        self.report(f"building {spec.tag} (cached after this build)")
        self._build(spec, spec.tag, inputs, target=spec.target, cache_from=dependencies)
        return True

    def _build(
        self,
        spec: ImageSpec,
        tag: str,
        inputs: str,
        *,
        target: str | None,
        cache_from: str | None = None,
    ) -> None:
        command = [
            "build",
            # RUN steps use the host's network: no bridge needed, same DNS and proxy as the host.
            "--network",
            "host",
            "--file",
            str(spec.dockerfile),
            "--tag",
            tag,
            "--label",
            f"{INPUTS_LABEL}={inputs}",
        ]
        for name, value in spec.build_args.items():
            command += ["--build-arg", f"{name}={value}"]
        if target:
            command += ["--target", target]
        if cache_from:
            # The classic builder reuses a loaded image's layers only when named here (it
            # keeps no build history for them); its own build cache is still used first.
            command += ["--cache-from", cache_from]
        self._docker(*command, str(spec.context), what=f"docker build of {tag}")

    def build_all(self, *, offline_base: bool) -> list[str]:
        """Build every image the compose file needs; returns the tags that were (re)built."""
        own = [OFFLINE_BASE_TAG] if offline_base else []
        self._known = self._inspect(*own, *(spec.tag for spec in image_specs(None)))
        base = self.offline_base() if offline_base else None
        return [spec.tag for spec in image_specs(base) if self.build(spec)]
