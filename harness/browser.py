"""Headless Chromium for the live page's tests: installed from Debian's packages when
missing (idempotent, as the runtime's installers are), driven over the DevTools protocol
(``websockets``, already a dependency; no Selenium, no Playwright, no driver binary)."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import logging
import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from harness.errors import HarnessError
from harness.polling import poll
from harness.runtime.ports import free_port
from harness.runtime.processes import stop_tree

logger = logging.getLogger(__name__)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
APT_PACKAGE = "chromium"
APT_LOCK_TIMEOUT_SECONDS = 600  # another apt-get on the machine (a colleague's install)


class BrowserUnavailable(HarnessError):
    """Chromium is not installed and cannot be installed here; the message says why."""


def find_chromium() -> str | None:
    override = os.environ.get("HARNESS_CHROMIUM", "").strip()
    if override:
        return override if shutil.which(override) else None
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_SECONDS}", *args],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )


def ensure_chromium(report: Callable[[str], None] = logger.info) -> str:
    """The path of a Chromium, installing Debian's ``chromium`` package first if none is
    on PATH (as root, with apt-get). Raises BrowserUnavailable saying why it cannot."""
    if found := find_chromium():
        return found
    if os.environ.get("HARNESS_CHROMIUM", "").strip():
        raise BrowserUnavailable(f"HARNESS_CHROMIUM={os.environ['HARNESS_CHROMIUM']} not found")
    if not shutil.which("apt-get"):
        raise BrowserUnavailable(
            "Chromium is not installed and there is no apt-get to install it: install "
            "Chromium or Chrome, or point HARNESS_CHROMIUM at one"
        )
    if os.geteuid() != 0:
        raise BrowserUnavailable(
            "Chromium is not installed and installing it needs root: run "
            f"`sudo apt-get install -y --no-install-recommends {APT_PACKAGE}`"
        )
    report(f"installing {APT_PACKAGE} with apt-get (once; for the live page's browser test)")
    result = _apt_get("install", "-y", "--no-install-recommends", APT_PACKAGE)
    if result.returncode != 0:  # a stale or empty package index: refresh it, try again
        _apt_get("update")
        result = _apt_get("install", "-y", "--no-install-recommends", APT_PACKAGE)
    if result.returncode != 0 or not (found := find_chromium()):
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
        raise BrowserUnavailable(f"apt-get install {APT_PACKAGE} failed:\n{tail}")
    return found


class Chromium:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, executable: str, width: int = 1280, height: int = 900) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="harness-chromium-"))
        # Chromium's own temporary files (its singleton socket's folder) go with the profile:
        # in the system's folder, each run left one behind.
        (self.profile / "tmp").mkdir()
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                executable,
                "--headless=new",
                "--no-sandbox",  # root in CI; the page is our own, on loopback
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            env={**os.environ, "TMPDIR": str(self.profile / "tmp")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._ids = itertools.count(1)
        self._exit = contextlib.ExitStack()
        try:
            self.ws = self._connect(timeout=60)
            self.call("Page.enable")
            self.call("Runtime.enable")
        except BaseException:
            self.close()
            raise

    def _connect(self, timeout: float) -> ClientConnection:
        """The page target's socket, once DevTools answers on its port."""

        def page_socket() -> str:
            if self.process.poll() is not None:  # gave up: say why, do not wait on
                raise HarnessError(f"Chromium exited ({self.process.returncode})")
            url = f"http://127.0.0.1:{self.port}/json/list"
            with urllib.request.urlopen(url, timeout=5) as response:
                pages = [t for t in json.load(response) if t.get("type") == "page"]
            return str(pages[0]["webSocketDebuggerUrl"]) if pages else ""

        url = poll(
            page_socket,
            timeout=timeout,
            interval=0.2,
            what="Chromium's DevTools server",
            retry_on=OSError,
        )
        return self._exit.enter_context(connect(url, max_size=None))

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == ident:
                if "error" in message:
                    raise HarnessError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise HarnessError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Evaluate ``expression`` until it is truthy; PollTimeout says the last value."""
        return poll(lambda: self.evaluate(expression), timeout=timeout, what=expression)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def close(self) -> None:
        self._exit.close()  # the DevTools socket
        stop_tree(self.process.pid, 5.0)
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)
