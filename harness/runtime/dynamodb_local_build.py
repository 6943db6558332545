"""DynamoDB Local's install, made to bind loopback and to start on shared class data.

Standard library only: host mode's installer (harness/runtime/installer.py) and the LocalStack
image's build (localstack_image.py, on the image's interpreter before anything is installed)
both run it on the unpacked package.

- Loopback: DynamoDB Local has no bind-address option. Jetty's connector is patched in its jar
  once (dynamodb_loopback_patch/LoopbackPatch.java) so that a connector with no host binds
  127.0.0.1. (A Java agent did it at each start; a JVM with an agent loads no class from a
  class-data-sharing archive.)
- Class-data sharing: a start parses, links and initialises ~3000 classes, ~1.3 CPU-s. The
  classes a start and the common calls load are dumped once into an archive beside the jar
  (``ARCHIVE``); the JVM maps them instead (~0.85 CPU-s). CDS takes a class path of jars only:
  the jar's manifest listed ``.`` and the sqlite native libraries (which java.library.path
  loads) too, so it keeps its jars. LocalStack's plug-in starts the JVM with the archive, and
  without LocalStack's agent (localstack_host_lambda/dynamodb_start.py). The archive is
  checked against the jars at each start: where it does not match them (another JDK, a moved
  install), the JVM runs without it.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

JAR = "DynamoDBLocal.jar"
LIBRARIES = "DynamoDBLocal_lib"
ARCHIVE = "dynamodb-local.jsa"
CONNECTOR_CLASS = "org/eclipse/jetty/server/AbstractNetworkConnector.class"
ASM_EXPORT = "java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED"
MANIFEST = "META-INF/MANIFEST.MF"
DUMP_SECONDS = 120.0

# The calls the harness's stack makes, so their classes are in the archive (any signature is
# accepted; the table lives in memory for the dump only).
TABLE = "dump"
KEY = {"PK": {"S": "s"}, "SK": {"S": "SESSION"}}
DUMP_CALLS: tuple[tuple[str, dict[str, object]], ...] = (
    (
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    ),
    ("PutItem", {"TableName": TABLE, "Item": {**KEY, "status": {"S": "INITIATED"}}}),
    (
        "UpdateItem",
        {
            "TableName": TABLE,
            "Key": KEY,
            "UpdateExpression": "SET #s = :busy, history = list_append(if_not_exists("
            "history, :empty), :entry)",
            "ConditionExpression": "#s IN (:initiated)",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":busy": {"S": "BUSY"},
                ":initiated": {"S": "INITIATED"},
                ":empty": {"L": []},
                ":entry": {"L": [{"S": "BUSY"}]},
            },
            "ReturnValues": "ALL_NEW",
        },
    ),
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "s"}, "SK": {"S": "EVENT#1"}}}}
            ]
        },
    ),
    ("GetItem", {"TableName": TABLE, "Key": KEY, "ConsistentRead": True}),
    (
        "Query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "s"}},
        },
    ),
    ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [KEY]}}}),
    ("Scan", {"TableName": TABLE}),
    ("DescribeTable", {"TableName": TABLE}),
    ("ListTables", {}),
    ("DeleteTable", {"TableName": TABLE}),
)


class BuildError(Exception):
    """A step of the build failed; the message says which and what it printed."""


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"{what} failed ({result.returncode}): {result.stderr or result.stdout}")


def patch_loopback(install: Path, sources: Path, java_home: Path, workdir: Path) -> None:
    """Compile LoopbackPatch (it uses the JDK's internal ASM, hence the export) and patch the
    jar of ``install``'s libraries that holds Jetty's connector."""
    classes = workdir / "loopback-patch"
    _run(
        [
            str(java_home / "bin" / "javac"),
            "-Xlint:-options",
            "--add-exports",
            ASM_EXPORT,
            "-d",
            str(classes),
            *sorted(str(p) for p in sources.glob("*.java")),
        ],
        "DynamoDB Local loopback patch build",
    )
    jar = next(
        (
            jar
            for jar in sorted((install / LIBRARIES).glob("*.jar"))
            if CONNECTOR_CLASS in zipfile.ZipFile(jar).namelist()
        ),
        None,
    )
    if jar is None:
        raise BuildError(f"no jar in {install / LIBRARIES} holds {CONNECTOR_CLASS}")
    java = str(java_home / "bin" / "java")
    _run(
        [java, "--add-exports", ASM_EXPORT, "-cp", str(classes), "LoopbackPatch", str(jar)],
        "DynamoDB Local loopback patch",
    )


def jars_only_class_path(manifest: str) -> str:
    """``manifest`` with only the jars of its Class-Path kept (its lines unfolded, then folded
    again at 72 bytes as the jar format wants)."""
    lines: list[str] = []
    for line in manifest.replace("\r\n", "\n").split("\n"):
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    kept = []
    for line in lines:
        if line.startswith("Class-Path:"):
            entries = line.split(":", 1)[1].split()
            line = "Class-Path: " + " ".join(e for e in entries if e.endswith(".jar"))
        kept.append(line)
    return "".join(_folded(line) for line in kept if line) + "\r\n"


def _folded(line: str) -> str:
    head, rest = line[:70], line[70:]
    chunks = [head] + [" " + rest[i : i + 69] for i in range(0, len(rest), 69)]
    return "".join(chunk + "\r\n" for chunk in chunks)


def keep_jars_on_class_path(install: Path) -> None:
    """Rewrite the jar's manifest so that its class path holds its jars alone."""
    jar = install / JAR
    with zipfile.ZipFile(jar) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    rewritten = io.BytesIO()
    with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == MANIFEST:
                data = jars_only_class_path(data.decode()).encode()
            target.writestr(info, data)
    jar.write_bytes(rewritten.getvalue())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _call(port: int, action: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{action}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=dump/20250101/us-east-1/dynamodb/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def dump_class_archive(install: Path, java_home: Path) -> Path:
    """Run DynamoDB Local from ``install`` (where it will run from: the archive names its
    jars), make the calls of DUMP_CALLS, stop it; the archive it wrote at exit, put in place
    whole (a JVM starting meanwhile maps the one before, or none)."""
    archive = install / ARCHIVE
    partial = install / f"{ARCHIVE}.{os.getpid()}.partial"  # two checkouts may dump at once
    partial.unlink(missing_ok=True)
    port = _free_port()
    process = subprocess.Popen(
        [
            str(java_home / "bin" / "java"),
            "-Xmx64m",
            f"-XX:ArchiveClassesAtExit={partial}",
            f"-Djava.library.path={install / LIBRARIES}",
            "-jar",
            str(install / JAR),
            "-port",
            str(port),
            "-inMemory",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "JDK_JAVA_OPTIONS"},
    )
    try:
        deadline = time.monotonic() + DUMP_SECONDS
        while True:
            try:
                _call(port, "ListTables", {})
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BuildError("DynamoDB Local did not start for its class archive") from None
                time.sleep(0.1)
        for action, body in DUMP_CALLS:
            try:
                _call(port, action, body)
            except urllib.error.HTTPError as refused:
                raise BuildError(f"DynamoDB Local refused {action}: {refused.read()!r}") from None
    finally:
        process.send_signal(signal.SIGTERM)  # the archive is written as the JVM exits
        _, errors = process.communicate(timeout=DUMP_SECONDS)
    if not partial.is_file():
        raise BuildError(f"DynamoDB Local wrote no class archive: {errors[-2000:]}")
    partial.replace(archive)
    return archive
