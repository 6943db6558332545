"""The invoker's SDK layer: boto3 as requirements/lambda.lock pins it, in a layer of its own
whose asset changes with the lock and only with it (the handler's edit loop never rebuilds or
re-uploads it). The build is cached under .runtime/cache/lambda-layer/ by the lock's hash (the
first synth on a machine builds it with uv, from PyPI). It holds the data of the services the
invoker calls alone, and the invoker runs on it alone."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.settings import REPO_ROOT
from tests.support.templates import Synthesized, returning

sys.path.insert(0, str(REPO_ROOT / "infra"))

from agent_workflow import agent_invoker, sdk_layer
from contract import (
    ENV_AGENT_RUNTIME_ARN,
    ENV_AGENTCORE_ENDPOINT,
    ENV_JOURNAL_TABLE_NAME,
    ENV_RECORD_AWS_CALLS,
)

LOCK = REPO_ROOT / "requirements" / "lambda.lock"


def pins() -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", LOCK.read_text(), re.MULTILINE))


@pytest.fixture(scope="module", params=["local", "aws"])
def synthesized(request, tmp_path_factory) -> Synthesized:
    return Synthesized(request.param, tmp_path_factory.mktemp(f"cdk-{request.param}"))


def test_the_invoker_has_the_sdk_layer_for_its_runtime_and_architecture(synthesized):
    function = synthesized.one("AWS::Lambda::Function")["Properties"]
    (layer_id,) = synthesized.resources("AWS::Lambda::LayerVersion")
    assert function["Layers"] == [{"Ref": layer_id}]
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["x86_64"]
    layer = synthesized.one("AWS::Lambda::LayerVersion")["Properties"]
    assert layer["CompatibleRuntimes"] == ["python3.12"]
    assert layer["CompatibleArchitectures"] == ["x86_64"]
    assert f"boto3 {pins()['boto3']}" in layer["Description"]


def test_the_layer_asset_holds_exactly_the_locks_packages_under_python(synthesized):
    staged = synthesized.staged(synthesized.layer_key())
    assert staged.suffix == ".zip"  # uploaded as built: CDK zips nothing at deploy
    with zipfile.ZipFile(staged) as archive:
        names = archive.namelist()
    assert all(name.startswith("python/") for name in names)
    assert "python/boto3/__init__.py" in names
    installed = {
        re.sub(r"[-_.]+", "-", m.group(1)).lower(): m.group(2)
        for m in (re.match(r"python/([^/]+)-([^-/]+)\.dist-info/METADATA$", n) for n in names)
        if m
    }
    assert installed == {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in pins().items()}
    # botocore's shared files, and the models of the invoker's services alone
    data = "python/botocore/data/"
    shared = {"endpoints.json", "partitions.json", "_retry.json", "sdk-default-configuration.json"}
    assert shared <= {n.removeprefix(data) for n in names if n.startswith(data)}
    services = {n.split("/")[3] for n in names if n.startswith(data) and n.count("/") > 3}
    assert services == set(sdk_layer.INVOKER_SERVICES)
    assert not [n for n in names if n.startswith("python/boto3/data/") and n.count("/") > 3]
    # The function's own zip stays the handler and the contract (a few kilobytes).
    function_zip = synthesized.staged(synthesized.function_key())
    assert sum(p.stat().st_size for p in function_zip.rglob("*") if p.is_file()) < 100_000


def test_the_layer_asset_changes_with_the_lock_and_only_with_it(monkeypatch, tmp_path):
    # GIVEN the stack as it is (the patched synths below are kept under keys naming the patches)
    base = Synthesized("local", tmp_path / "base")
    # WHEN the handler (or the contract) changes, THEN only the function's asset changes
    patched = returning(monkeypatch, agent_invoker, "bundle_hash", "0" * 64)
    edited = Synthesized("local", tmp_path / "edited", patched=patched)
    assert edited.function_key() != base.function_key()
    assert edited.layer_key() == base.layer_key()
    # WHEN the lock changes, THEN the layer's asset changes (a new S3 key: a new version)
    built = sdk_layer.build_layer_zip()
    # No second build: the layer the lock gives, as unpatched (so not named in the key).
    monkeypatch.setattr(sdk_layer, "build_layer_zip", lambda: built)
    patched |= returning(monkeypatch, sdk_layer, "layer_hash", "1" * 64)
    relocked = Synthesized("local", tmp_path / "relocked", patched=patched)
    assert relocked.layer_key() != base.layer_key()


def test_the_layer_hash_is_the_lock_and_the_install_recipe(monkeypatch, tmp_path):
    lock = tmp_path / "lambda.lock"
    lock.write_bytes(LOCK.read_bytes())
    monkeypatch.setattr(sdk_layer, "LAMBDA_LOCK", lock)
    before = sdk_layer.layer_hash()
    assert before == sdk_layer.layer_hash()  # stable
    lock.write_text(LOCK.read_text().replace("urllib3==", "urllib3==9"))
    assert sdk_layer.layer_hash() != before
    lock.write_bytes(LOCK.read_bytes())
    monkeypatch.setattr(sdk_layer, "UV_INSTALL", (*sdk_layer.UV_INSTALL, "--no-compile"))
    assert sdk_layer.layer_hash() != before
    monkeypatch.undo()
    monkeypatch.setattr(sdk_layer, "LAMBDA_LOCK", lock)
    monkeypatch.setattr(sdk_layer, "INVOKER_SERVICES", (*sdk_layer.INVOKER_SERVICES, "dynamodb"))
    assert sdk_layer.layer_hash() != before


def services_the_invoker_names() -> dict[str, str]:
    """Each service a ``client(...)``/``resource(...)`` call in the invoker's zip (its handler
    and the contract package) names, and where. A service that is not a literal fails: which
    data the layer needs could not be told."""
    found: dict[str, str] = {}
    for name, source in agent_invoker.bundle_files().items():
        for node in ast.walk(ast.parse(source.read_text(), name)):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else None
            called = node.func.id if isinstance(node.func, ast.Name) else called
            if called not in ("client", "resource", "create_client"):
                continue
            service = node.args[0] if node.args else None
            where = f"{name}:{node.lineno}"
            assert isinstance(service, ast.Constant), f"{where}: not a literal service name"
            found[service.value] = where
    return found


def test_the_layer_keeps_the_data_of_the_services_the_invoker_names_and_no_others():
    assert set(services_the_invoker_names()) == set(sdk_layer.INVOKER_SERVICES), (
        "sdk_layer.INVOKER_SERVICES must list the services the invoker creates clients for: "
        f"{services_the_invoker_names()}"
    )


class _AgentCore(BaseHTTPRequestHandler):
    """Answers every invocation as an agent runtime that accepted the session."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        body = json.dumps({"accepted": "by the stand-in"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def agentcore() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AgentCore)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


# Run by an interpreter with no site-packages: what it imports comes from the unpacked layer
# (python/), the invoker's zip, or the standard library. The handler builds its client when
# imported (as in Lambda's init phase), handles one session, then every client the invoker's
# code names is created, and one of a service the layer does not keep is tried.
ON_THE_LAYER_ALONE = """
import json, sys
layer, task, services, other = sys.argv[1:5]
sys.path[:0] = [layer, task]
import boto3, botocore, handler
from botocore.exceptions import UnknownServiceError
result = handler.handler({"session_id": "s" * 40, "detail": {"task": "t"}}, None)
for service in json.loads(services):
    boto3.client(service)
try:
    boto3.client(other)
    created_other = True
except UnknownServiceError:
    created_other = False
print(json.dumps({"botocore": botocore.__file__, "result": result, "other": created_other}))
"""


def test_the_invoker_runs_on_the_layers_data_alone(agentcore, tmp_path):
    # GIVEN the layer unpacked, the invoker's zip beside it, and an agent runtime answering
    with zipfile.ZipFile(sdk_layer.build_layer_zip()) as archive:
        archive.extractall(tmp_path / "opt")
    task = tmp_path / "task"
    for name, source in agent_invoker.bundle_files().items():
        (task / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, task / name)
    other = "dynamodb"  # the journal's service: the invoker leaves it to the agent
    assert other not in sdk_layer.INVOKER_SERVICES
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "invoker",  # the client is built at import, as in Lambda
        "AWS_REGION": "us-east-1",  # Lambda sets both
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        ENV_AGENTCORE_ENDPOINT: f"http://127.0.0.1:{agentcore.server_port}",
        ENV_AGENT_RUNTIME_ARN: "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a-1",
        ENV_JOURNAL_TABLE_NAME: "journal",
        ENV_RECORD_AWS_CALLS: "1",  # the local stage's call recording uses the model too
    }
    # WHEN the invoker handles a session on it, and every client it names is created
    named = json.dumps(sorted(services_the_invoker_names()))
    layer_and_task = [str(tmp_path / "opt" / "python"), str(task)]
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", ON_THE_LAYER_ALONE, *layer_and_task, named, other],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # THEN it took the session through the runtime, with the layer's botocore, and no other
    # service's client could be made from the layer
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.splitlines()[-1])
    assert Path(out["botocore"]).is_relative_to(tmp_path / "opt" / "python"), out
    assert out["result"]["accepted"] is True
    assert out["result"]["agent_response"] == {"accepted": "by the stand-in"}
    (path,) = agentcore.paths  # one invocation, of the runtime the invoker was given
    assert path.endswith("/invocations"), path
    assert "runtime%2Fa-1" in path, path
    assert out["other"] is False, f"the layer holds {other}'s data: it is not slim"
