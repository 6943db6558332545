"""pyproject.toml declares the project's dependencies with the pins of requirements/dev.lock,
and every top-level requirement of requirements/dev.in, so `pip install -e .` installs what
`make venv` does for the harness, the agent and the pytest plugin; and the invoker's SDK
(requirements/lambda.lock) is the dev lock's."""

from __future__ import annotations

import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.settings import REPO_ROOT


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "requirements/dev.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, version = line.split(";")[0].strip().split("==")
            pins[canonicalize_name(name)] = version
    return pins


def top_level_requirements() -> dict[str, Requirement]:
    lines = (REPO_ROOT / "requirements/dev.in").read_text().splitlines()
    requirements = [Requirement(line) for line in lines if line and not line.startswith("#")]
    return {canonicalize_name(r.name): r for r in requirements}


def project() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def declared() -> dict[str, dict[str, Requirement]]:
    groups = {"dependencies": project()["dependencies"], **project()["optional-dependencies"]}
    return {
        group: {canonicalize_name((r := Requirement(text)).name): r for text in texts}
        for group, texts in groups.items()
    }


def test_every_pin_equals_the_lock() -> None:
    pins = lock_pins()
    for group, requirements in declared().items():
        for name, requirement in requirements.items():
            specifiers = list(requirement.specifier)
            assert len(specifiers) == 1, f"{group}: {requirement} is not one pin"
            assert specifiers[0].operator == "==", f"{group}: {requirement} is not a pin"
            assert specifiers[0].version == pins[name], (
                f"{group}: {requirement}, but requirements/dev.lock has {name}=={pins[name]}"
            )


def test_every_top_level_requirement_is_declared_once_with_its_extras() -> None:
    groups = declared()
    names = [name for requirements in groups.values() for name in requirements]
    assert len(names) == len(set(names)), "a dependency is declared twice"
    everything = {name: r for requirements in groups.values() for name, r in requirements.items()}
    for name, requirement in top_level_requirements().items():
        assert name in everything, f"{name} (requirements/dev.in) is not in pyproject.toml"
        assert everything[name].extras == requirement.extras, name
    assert set(everything) == set(top_level_requirements()), "pyproject.toml has extra names"


def test_what_runs_is_a_dependency_and_tools_are_dev_extras() -> None:
    runtime = set(declared()["dependencies"])
    assert {"boto3", "bedrock-agentcore", "strands-agents", "rich", "aws-cdk-lib"} <= runtime
    assert {"pytest", "ruff", "moto"} <= set(declared()["dev"])


def test_the_invokers_sdk_is_the_one_the_offline_checks_use() -> None:
    # The invoker's layer installs requirements/lambda.lock; the functional tier checks its
    # request against dev.lock's botocore. Every package both pin, pinned alike; all hashed.
    text = (REPO_ROOT / "requirements/lambda.lock").read_text()
    lambda_pins = {
        canonicalize_name(name): version
        for name, version in (
            line.split(" ")[0].split("==")
            for line in text.splitlines()
            if line and not line.startswith((" ", "#"))
        )
    }
    assert {"boto3", "botocore"} <= set(lambda_pins)
    dev = lock_pins()
    assert {name: dev.get(name) for name in lambda_pins} == lambda_pins
    assert text.count("--hash=sha256:") >= 2 * len(lambda_pins)  # a wheel and an sdist each
