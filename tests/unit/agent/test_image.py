"""agent/Dockerfile: a production target without the test doubles or the stand-in, and a local
target that adds them; installs the hashed closure only."""

from __future__ import annotations

import re

from harness.settings import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "agent" / "Dockerfile").read_text()


def _stages() -> dict[str, str]:
    """Each stage's name and text (from its FROM line to the next one)."""
    parts = re.split(r"^(?=FROM )", DOCKERFILE, flags=re.M)
    return {
        re.match(r"FROM \S+ AS (\S+)", part).group(1): part
        for part in parts
        if part.startswith("FROM ")
    }


def test_the_production_target_has_no_test_doubles_and_no_stand_in():
    stages = _stages()
    production = stages["production"]
    assert "agent/testing" not in production
    assert "harness" not in production
    # its agent comes from a stage that removed the test doubles, so no layer holds them
    (copied,) = re.findall(r"^COPY --from=(\S+) (\S+) /app/agent$", production, re.M)
    assert copied == ("source", "/src/agent")
    assert "rm -rf /src/agent/testing" in stages["source"]
    assert "COPY contract /app/contract" in production
    assert 'CMD ["python", "-m", "agent.app"]' in production


def test_the_local_target_adds_the_test_doubles_and_the_stand_in():
    local = _stages()["local"]
    assert local.startswith("FROM production AS local")
    assert "COPY agent/testing /app/agent/testing" in local
    assert re.search(r"^COPY .*harness/agentcore_standin\.py /app/harness/$", local, re.M)


def test_pip_installs_the_hashed_closure_and_nothing_else():
    assert "pip install --require-hashes --no-deps -r /app/agent/requirements.txt" in DOCKERFILE
    assert DOCKERFILE.count("pip install") == 1


def test_the_build_context_lets_in_only_what_the_image_copies():
    lines = [
        line
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    agent_image = {"agent", "contract", "harness/__init__.py", "harness/agentcore_standin.py"}
    # The same context builds the compose file's LocalStack image from these:
    localstack_image = {
        "requirements/localstack.lock",
        "requirements/lambda.lock",
        "harness/localstack_host_lambda",
        "harness/runtime/localstack_image.py",
        "harness/runtime/dynamodb_local_build.py",
        "harness/runtime/dynamodb_loopback_patch",
    }
    assert allowed == agent_image | localstack_image
    # ... and the AWS asset (the production target) leaves them out, so its hash ignores them.
    from agent_workflow.agent_runtime import AGENT_IMAGE_EXCLUDE

    for path in localstack_image:
        assert path.split("/", 1)[0] in AGENT_IMAGE_EXCLUDE, path
