"""Stage settings, read once from CDK context (`cdk -c key=value`), with per-stage defaults."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import Node

from contract import DEFAULT_BEDROCK_MODEL_ID, DEFAULT_MAX_TASK_CHARS

LOCAL_ACCOUNT = "000000000000"
LOCAL_AGENT_RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local-agent"
DEFAULT_STACK_NAME = "AgentWorkflow"
# A Bedrock model id: an inference profile (<geo>.<provider>.<model>) or an in-region model.
MODEL_ID_PATTERN = re.compile(
    r"(?:(?P<geo>us|eu|apac|jp|au|ca|us-gov|global)\.)?(?P<model>[a-z0-9-]+\.[A-Za-z0-9._:-]+)"
)
# The regions each geography's cross-region inference profiles route to (the foundation
# model must be invocable in every one). `-c bedrock_model_regions=a,b` overrides; the deploy
# check compares these with the profile's own list. A "global." profile routes anywhere.
INFERENCE_PROFILE_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
    "eu": ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"),
    "apac": (
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-4",
    ),
    "global": ("*",),
}
# CloudFormation's stack name rule, at most 50 long: the invoker's function name
# (<stack>-agent-invoker) must fit Lambda's 64; the AgentCore runtime name is derived from it.
STACK_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,49}")
RUNTIME_NAME_MAX = 48  # AgentCore: [a-zA-Z][a-zA-Z0-9_]{0,47}
STAGE_DEFAULTS: dict[str, dict[str, Any]] = {
    # Poll every 1 s, give up after 30 s (the harness's emulator shortens the Waits and
    # passes its wait_scale: see StageConfig.polls).
    "local": {"poll_interval_seconds": 1, "max_polls": 30},
    # AWS bills per state transition: poll every 10 s, for up to 15 minutes.
    "aws": {"poll_interval_seconds": 10, "max_polls": 90},
}


@dataclass(frozen=True)
class StageConfig:
    stage: str
    poll_interval_seconds: int
    max_polls: int
    # local only: the fraction of its duration a Wait state lasts in the emulator (the
    # harness's HARNESS_SFN_WAIT_SCALE); 1 on AWS, which runs Waits in real time.
    wait_scale: float = 1.0
    max_task_chars: int = DEFAULT_MAX_TASK_CHARS
    # local only: where the invoker reaches the AgentCore stand-in (the default of the stack's
    # AgentCoreEndpoint parameter, which the harness sets at each deploy), and the ARN it names.
    agentcore_endpoint: str = "http://127.0.0.1:8090"
    local_agent_runtime_arn: str = LOCAL_AGENT_RUNTIME_ARN
    # The CloudFormation stack (harness: STACK_NAME); names what must be unique per account.
    stack_name: str = DEFAULT_STACK_NAME
    # aws only: the model the agent may invoke on Bedrock (a stack setting; make deploy-aws
    # checks Bedrock serves it and it is not LEGACY), and the regions its inference
    # profile routes to (comma-separated; empty: the profile's geography's, see above).
    bedrock_model_id: str = DEFAULT_BEDROCK_MODEL_ID
    bedrock_model_regions: str = ""

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def polls(self) -> int:
        """How many polls the workflow makes before it records a timeout: ``max_polls``, or
        ``max_polls / wait_scale`` where the emulator scales Waits, so the Waits still add up
        to ``max_polls x poll_interval_seconds`` of real time (the agent's time budget)."""
        return polls_for(self.max_polls, self.wait_scale)

    @property
    def foundation_model_id(self) -> str:
        """The model behind the inference profile: us.anthropic.x -> anthropic.x."""
        match = MODEL_ID_PATTERN.fullmatch(self.bedrock_model_id)
        assert match, self.bedrock_model_id  # checked in from_context
        return match["model"] if match["geo"] else self.bedrock_model_id

    @property
    def model_regions(self) -> tuple[str, ...] | None:
        """Where the agent may invoke the foundation model; None: the stack's own region
        (an in-region model id, no inference profile)."""
        if self.bedrock_model_regions:
            return tuple(r.strip() for r in self.bedrock_model_regions.split(",") if r.strip())
        match = MODEL_ID_PATTERN.fullmatch(self.bedrock_model_id)
        return INFERENCE_PROFILE_REGIONS[match["geo"]] if match and match["geo"] else None

    @property
    def agent_runtime_name(self) -> str:
        """The AgentCore runtime's name, unique per stack (a second stack in the account and
        region must not collide): the stack name with ``_agent``, in AgentCore's alphabet."""
        base = re.sub(r"[^A-Za-z0-9_]", "_", self.stack_name)
        name = f"{base}_agent"
        if len(name) > RUNTIME_NAME_MAX:
            digest = hashlib.sha256(self.stack_name.encode()).hexdigest()[:8]
            name = f"{base[: RUNTIME_NAME_MAX - 15]}_{digest}_agent"
        return name

    @property
    def environment(self) -> cdk.Environment | None:
        """Local deploys target LocalStack's account; AWS uses the CLI's credentials."""
        if self.is_local:
            return cdk.Environment(account=LOCAL_ACCOUNT, region="us-east-1")
        return None

    @classmethod
    def from_context(cls, node: Node) -> StageConfig:
        stage = str(node.try_get_context("stage") or "local")
        if stage not in STAGE_DEFAULTS:
            raise ValueError(
                f"context stage must be one of {sorted(STAGE_DEFAULTS)}, got {stage!r}"
            )
        values: dict[str, Any] = {"stage": stage, **STAGE_DEFAULTS[stage]}
        for name, field in cls.__dataclass_fields__.items():
            raw = node.try_get_context(name)
            if raw is not None and name != "stage":
                default = values.get(name, field.default)
                values[name] = _typed(name, raw, default)
        config = cls(**values)
        config.check()
        return config

    def check(self) -> None:
        """Refuse settings that would only fail at deploy time, naming the setting."""
        if self.poll_interval_seconds < 1 or self.max_polls < 1:
            raise ValueError("poll_interval_seconds and max_polls must be at least 1")
        if not (math.isfinite(self.wait_scale) and 0 < self.wait_scale <= 1):
            raise ValueError(f"wait_scale must be above 0 and at most 1, got {self.wait_scale:g}")
        if self.wait_scale != 1 and not self.is_local:
            raise ValueError(
                "wait_scale is a local setting (the emulator's shortened Wait states); "
                "AWS runs Wait states in real time: deploy the aws stage without it"
            )
        if not STACK_NAME_PATTERN.fullmatch(self.stack_name):
            raise ValueError(
                f"stack_name {self.stack_name!r} is not a CloudFormation stack name "
                "(a letter, then letters, digits and hyphens; at most 50 here, so that the "
                "invoker's function name, <stack>-agent-invoker, fits Lambda's 64)"
            )
        match = MODEL_ID_PATTERN.fullmatch(self.bedrock_model_id)
        if not match:
            raise ValueError(
                f"bedrock_model_id {self.bedrock_model_id!r} is not a Bedrock model id "
                f"(e.g. {DEFAULT_BEDROCK_MODEL_ID}; see `aws bedrock list-inference-profiles`)"
            )
        geo = match["geo"]
        if geo and geo not in INFERENCE_PROFILE_REGIONS and not self.bedrock_model_regions:
            raise ValueError(
                f"bedrock_model_id {self.bedrock_model_id!r}: no default regions for "
                f"{geo!r} inference profiles; set bedrock_model_regions to the regions "
                "the profile routes to (aws bedrock get-inference-profile)"
            )


def polls_for(max_polls: int, wait_scale: float) -> int:
    """The polls whose Waits, each ``wait_scale`` of its duration, last as long as
    ``max_polls`` full ones."""
    return math.ceil(round(max_polls / wait_scale, 6))


def _typed(name: str, raw: Any, default: Any) -> Any:
    """Context value ``name`` (the CLI passes strings) as the type of the field's default; a
    value of another type is refused naming the setting."""
    kind = {float: "a number", int: "a whole number"}.get(type(default))
    if kind is None:
        return str(raw)
    try:
        return type(default)(raw)
    except (TypeError, ValueError):
        raise ValueError(f"context {name}={raw!r}: expected {kind}") from None
