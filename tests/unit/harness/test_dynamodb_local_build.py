"""DynamoDB Local's install keeps only jars on its jar's class path (class-data sharing takes
nothing else), and LocalStack's plug-in starts the JVM on the archive, without an agent whose
jar is not installed (the plug-in module over stand-ins: LocalStack is not in this venv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.runtime import dynamodb_local_build
from tests.support.localstack_plugin import load_plugin_module

MANIFEST = (
    "Manifest-Version: 1.0\r\n"
    "Main-Class: software.amazon.dynamodb.services.local.main.ServerRunner\r\n"
    "Class-Path: . log4j2.xml DynamoDBLocal_lib/Apache-HttpComponents-HttpC\r\n"
    " lient-4.5.x.jar DynamoDBLocal_lib/libsqlite4java-linux-amd64.so Dynam\r\n"
    " oDBLocal_lib/sqlite4java.jar\r\n"
    "\r\n"
)


def _unfolded(manifest: str) -> dict[str, str]:
    lines: list[str] = []
    for line in manifest.split("\r\n"):
        if line.startswith(" "):
            lines[-1] += line[1:]
        elif line:
            lines.append(line)
    return dict(line.split(": ", 1) for line in lines)


def test_the_class_path_keeps_its_jars_alone_and_the_rest_of_the_manifest():
    rewritten = dynamodb_local_build.jars_only_class_path(MANIFEST)
    assert _unfolded(rewritten) == {
        "Manifest-Version": "1.0",
        "Main-Class": "software.amazon.dynamodb.services.local.main.ServerRunner",
        "Class-Path": "DynamoDBLocal_lib/Apache-HttpComponents-HttpClient-4.5.x.jar"
        " DynamoDBLocal_lib/sqlite4java.jar",
    }
    # the jar format's lines: at most 72 bytes, continued by a leading space
    assert all(len(line.encode()) <= 72 for line in rewritten.split("\r\n"))
    assert rewritten.endswith("\r\n")


@pytest.fixture
def start(monkeypatch):
    return load_plugin_module(monkeypatch, "dynamodb_start.py")


def _command(install: Path) -> list[str]:
    return [
        "java",
        "-Xmx64m",
        f"-javaagent:{install}/ddb-local-loader-0.1.jar",
        f"-Djava.library.path={install}/DynamoDBLocal_lib",
        "-jar",
        f"{install}/DynamoDBLocal.jar",
        "-inMemory",
    ]


def test_the_harness_install_starts_on_its_archive_without_the_missing_agent(start, tmp_path):
    assert start.ARCHIVE == dynamodb_local_build.ARCHIVE
    (tmp_path / dynamodb_local_build.ARCHIVE).write_bytes(b"classes")
    command = start.on_shared_classes(_command(tmp_path), str(tmp_path))
    assert command == [
        "java",
        f"-XX:SharedArchiveFile={tmp_path / dynamodb_local_build.ARCHIVE}",
        *[arg for arg in _command(tmp_path)[1:] if not arg.startswith("-javaagent:")],
    ]


def test_an_install_with_its_agent_and_no_archive_starts_as_localstack_says(start, tmp_path):
    (tmp_path / "ddb-local-loader-0.1.jar").write_bytes(b"agent")
    assert start.on_shared_classes(_command(tmp_path), str(tmp_path)) == _command(tmp_path)
