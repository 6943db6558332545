"""What ``make deploy-aws`` needs, checked before anything starts, each with how to get it.

The aws stage's agent image is a linux/arm64 Docker asset (AgentCore Runtime runs arm64) with
RUN steps, so ``cdk deploy`` needs a Docker engine, the buildx plugin, and, on an x86 machine,
QEMU registered with binfmt_misc for arm64: without it the first RUN fails with "exec format
error" (aws-cdk issue 28863), minutes into the deploy. It also needs AWS credentials, and a
model that Bedrock still serves in the stack's region; the agent's role is then narrowed to
the regions the model's inference profile really routes to.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from contract import DEFAULT_BEDROCK_MODEL_ID

ARM64_MACHINES = {"arm64", "aarch64"}
BINFMT_HOW = (
    "register QEMU for arm64: `docker run --privileged --rm tonistiigi/binfmt --install arm64` "
    "(once per boot), or install the distribution's qemu-user-static and binfmt-support "
    "packages; Docker Desktop has it built in"
)


@dataclass(frozen=True)
class Problem:
    what: str
    how: str

    def __str__(self) -> str:
        return f"{self.what}: {self.how}"


Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(command), capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess(list(command), 127, "", str(error))


def image_build_problems(
    run: Runner | None = None,
    machine: str | None = None,
    which: Callable[[str], str | None] | None = None,
) -> list[Problem]:
    """Docker engine, buildx, and arm64 builds (native or emulated) for the agent image."""
    run = run or _run
    which = which or shutil.which
    if which("docker") is None:
        return [
            Problem(
                "no docker command",
                "install Docker Engine (or Docker Desktop): cdk deploy builds the agent image "
                "with it (https://docs.docker.com/engine/install/)",
            )
        ]
    info = run(["docker", "info", "--format", "{{.ServerVersion}}"])
    if info.returncode != 0:
        return [
            Problem(
                "the Docker engine is not reachable",
                "start it (`sudo systemctl start docker`, or open Docker Desktop) and check "
                f"`docker info` works for this user ({(info.stderr or '').strip()[:200]})",
            )
        ]
    buildx = run(["docker", "buildx", "version"])
    if buildx.returncode != 0:
        return [
            Problem(
                "the docker buildx plugin is missing",
                "install it (package docker-buildx-plugin, or Docker Desktop): the arm64 image "
                "is built with buildx",
            )
        ]
    if (machine or platform.machine()).lower() in ARM64_MACHINES:
        return []
    inspect = run(["docker", "buildx", "inspect", "--bootstrap"])
    platforms = next(
        (
            line.split(":", 1)[1]
            for line in inspect.stdout.splitlines()
            if line.strip().startswith("Platforms:")
        ),
        "",
    )
    if "linux/arm64" not in platforms.replace(" ", "").split(","):
        return [
            Problem(
                "this x86 machine's Docker builder cannot build linux/arm64 images "
                f"(its platforms: {platforms.strip() or 'unknown'})",
                BINFMT_HOW,
            )
        ]
    return []


def credentials_problems(sts: Any) -> list[Problem]:
    try:
        sts.get_caller_identity()
    except Exception as error:  # noqa: BLE001  (any failure means: no usable credentials)
        return [
            Problem(
                f"no usable AWS credentials ({type(error).__name__}: {error})",
                "configure them (`aws configure`, `aws sso login`, or AWS_PROFILE) for the "
                "account and region to deploy into",
            )
        ]
    return []


def base_model_id(model_id: str) -> str:
    """The foundation model behind an inference profile id: us.anthropic.x -> anthropic.x."""
    prefix, _, rest = model_id.partition(".")
    return rest if prefix in {"us", "eu", "apac", "jp", "au", "ca", "global"} else model_id


def profile_regions(profile: dict[str, Any]) -> list[str]:
    """The regions an inference profile routes to, from its models' ARNs."""
    regions = {m["modelArn"].split(":")[3] for m in profile.get("models", [])}
    return sorted(r for r in regions if r)


def model_problems(
    bedrock: Any, model_id: str, region: str, regions: str | None = None
) -> tuple[list[Problem], list[str]]:
    """The model (inference profile) exists in the region and is not LEGACY; and the regions
    it routes to, which the agent's role must allow (checked against ``regions`` when the
    deploy names them). Returns the problems and the profile's regions."""
    try:
        profile = bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
    except Exception as error:  # noqa: BLE001  (reported with what to do)
        return [
            Problem(
                f"Bedrock has no inference profile {model_id!r} in {region} ({error})",
                "choose one from `aws bedrock list-inference-profiles` and deploy with "
                "-c bedrock_model_id=<id>",
            )
        ], []
    routes = profile_regions(profile)
    problems = []
    wanted = sorted(r.strip() for r in (regions or "").split(",") if r.strip())
    if wanted and routes and not set(routes) <= set(wanted) and "*" not in wanted:
        problems.append(
            Problem(
                f"bedrock_model_regions {','.join(wanted)} leaves out regions the profile "
                f"routes to ({','.join(sorted(set(routes) - set(wanted)))})",
                f"deploy with -c bedrock_model_regions={','.join(routes)} (or leave it unset: "
                "the deploy then takes the profile's own list)",
            )
        )
    try:
        details = bedrock.get_foundation_model(modelIdentifier=base_model_id(model_id))
    except Exception as error:  # noqa: BLE001
        problems.append(
            Problem(
                f"cannot read model {base_model_id(model_id)} ({error})",
                "check the model id and that Bedrock is offered in this region",
            )
        )
        return problems, routes
    lifecycle = details["modelDetails"].get("modelLifecycle", {}).get("status", "ACTIVE")
    if lifecycle != "ACTIVE":
        problems.append(
            Problem(
                f"model {model_id} is {lifecycle} in {region}",
                "pick a current one (`aws bedrock list-inference-profiles`) and deploy with "
                "-c bedrock_model_id=<id>",
            )
        )
    return problems, routes


def aws_deploy_problems(
    clients: Callable[[str], Any],
    region: str,
    context: dict[str, str],
    run: Runner | None = None,
) -> tuple[list[Problem], dict[str, str]]:
    """Everything ``make deploy-aws`` checks before it starts, and the context it adds: the
    regions the model's inference profile routes to (unless the deploy names them)."""
    problems = image_build_problems(run)
    problems += credentials_problems(clients("sts"))
    if problems:  # without credentials Bedrock cannot be asked
        return problems, {}
    model_id = context.get("bedrock_model_id", DEFAULT_BEDROCK_MODEL_ID)
    model, routes = model_problems(
        clients("bedrock"), model_id, region, context.get("bedrock_model_regions")
    )
    added = {}
    if routes and "bedrock_model_regions" not in context:
        added["bedrock_model_regions"] = ",".join(routes)
    return problems + model, added
