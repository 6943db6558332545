"""Deploy the real CDK app: cdklocal into the local runtime, or cdk into AWS."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from contract import AGENTCORE_ENDPOINT_PARAMETER
from harness import (
    assembly,
    aws,
    bytecode,
    commands,
    file_lock,
    local_bootstrap,
    preflight,
    warmup,
)
from harness.errors import HarnessError
from harness.fingerprint import fingerprint
from harness.runtime.docker import STANDIN_URL_IN_COMPOSE
from harness.settings import REPO_ROOT, SHELL_AWS_VARIABLES_IGNORED_LOCALLY, Settings
from harness.wait_scale import WAIT_SCALE_CONTEXT, format_scale

logger = logging.getLogger(__name__)

INFRA_DIR = REPO_ROOT / "infra"
CONTRACT_DIR = REPO_ROOT / "contract"  # imported by the CDK app, bundled into the invoker
LAMBDA_LOCK = REPO_ROOT / "requirements" / "lambda.lock"  # the invoker's SDK layer
BOOTSTRAP_STACK = local_bootstrap.STACK_NAME
# Stack tags (`cdk deploy --tags`) saying what a deployed stack is: the fingerprint of the
# infra code, context and checkout it was deployed from, and that checkout (for people).
FINGERPRINT_TAG = "harness:fingerprint"
CHECKOUT_TAG = "harness:checkout"
# Locally the stack is created or updated by CreateStack/UpdateStack (the same template,
# resources and stack events) instead of a change set made, described and executed: the CLI's
# node process then did ~0.7 of its ~1.7 CPU-s per deploy. AWS deploys keep the change set.
LOCAL_DEPLOY_METHOD = ("--method", "direct")


class DeployError(HarnessError):
    """A synth, bootstrap or deploy failed."""


# How long a second deploy (synth, destroy) of this checkout waits for the first one.
DEPLOY_LOCK_TIMEOUT_SECONDS = 900.0
DEPLOY_LOCK = REPO_ROOT / ".runtime" / "deploy.lock"  # beside infra/cdk.out: per checkout


@contextlib.contextmanager
def cdk_lock(
    report: Callable[[str], None],
    what: str,
    timeout: float = DEPLOY_LOCK_TIMEOUT_SECONDS,
) -> Iterator[None]:
    """One CDK command at a time per checkout: they share infra/cdk.out, and a second
    one fails with "Another CLI is currently synthing" (two `make trigger-workflow` right
    after an infra edit). Each holder names itself; a waiter says whom it waits for."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(
                file_lock.exclusive(
                    DEPLOY_LOCK,
                    lambda holder: report(_waiting_for(holder)),
                    name=f"{what} (pid {os.getpid()})",
                    timeout=timeout,
                )
            )
        except file_lock.LockStillHeld as error:
            raise DeployError(str(error)) from None
        yield


def _waiting_for(holder: str) -> str:
    return f"waiting for {holder} of this checkout to finish (they share infra/cdk.out)"


@dataclass(frozen=True)
class DeployResult:
    seconds: float
    skipped: bool = False


def cdk_environment(settings: Settings) -> dict[str, str]:
    """Environment for the CDK CLI: state in .runtime/, LocalStack endpoints when local."""
    shared = settings.cache_dir
    # The CDK app imports aws-cdk-lib's modules (megabytes of source each): compiling them
    # on every synth took seconds. Its bytecode is kept in the runtime's cache instead.
    env = bytecode.kept_in_cache(os.environ, settings.runtime_dir)
    env = {
        **env,
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        # aws-cdk-lib's JavaScript, unpacked once per machine (~200 MB, seconds to write).
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(shared / "jsii"),
        "CDK_HOME": str(settings.runtime_dir / "cdk-home"),
        "npm_config_cache": str(shared / "npm"),
        # The invoker's SDK layer is built with uv (infra/agent_workflow/sdk_layer.py).
        "UV_CACHE_DIR": str(shared / "uv"),
        "CDK_DISABLE_VERSION_CHECK": "1",
        # The name the CLI reads (lib/cli/telemetry/collect-telemetry.js): otherwise every
        # command forks a node process that posts its telemetry.
        "CDK_DISABLE_CLI_TELEMETRY": "1",
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
    }
    if not settings.is_local:
        for name in [n for n in env if n.startswith("AWS_ENDPOINT_URL")]:
            del env[name]  # the real AWS endpoints, whatever the shell exports
    else:
        # LocalStack, whatever the shell exports for real AWS (profiles, tokens, endpoints).
        for name in [n for n in env if n.startswith(SHELL_AWS_VARIABLES_IGNORED_LOCALLY)]:
            del env[name]
        env.update(
            {
                # cdklocal's default host (localhost.localstack.cloud) may not resolve offline.
                "AWS_ENDPOINT_URL": settings.endpoint_url,
                "AWS_ENDPOINT_URL_S3": settings.endpoint_url,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                # aws-cdk-lib's built-in template validation (a WebAssembly rule engine: half
                # of a synth's time) only warns, and the harness shows a CDK command's output
                # only when it fails. The aws stage keeps it; the functional tier lints both
                # stages' templates with cfn-lint.
                "CDK_VALIDATION": "false",
            }
        )
    return env


def ensure_cdk_cli(settings: Settings, report: Callable[[str], None]) -> None:
    """``npm ci`` in infra/ when package-lock.json changed (pinned aws-cdk and cdklocal)."""
    lock = INFRA_DIR / "package-lock.json"
    stamp = INFRA_DIR / "node_modules" / ".package-lock.sha"
    want = hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    if stamp.exists() and stamp.read_text() == want:
        return
    if not shutil.which("npm"):
        raise DeployError("npm is needed for the CDK CLI: install Node.js 20 or newer.")
    report("installing the CDK CLI (npm ci, pinned; cached after this run)")
    # Every version is pinned by the lock: npm's cached metadata and tarballs are used as they
    # are, without asking the registry again.
    _run(
        ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--silent"],
        settings,
        "npm ci in infra/",
    )
    stamp.write_text(want)


def context_args(settings: Settings, runtime_mode: str, extra: dict[str, str]) -> list[str]:
    # STACK_NAME reaches the app: the stack, and what is named after it (the AgentCore
    # runtime, the invoker), are this name's, so two stacks in one account do not collide.
    context = {"stage": "local" if settings.is_local else "aws", **extra}
    context.setdefault("stack_name", settings.stack_name)
    if settings.is_local:
        # The emulator's Wait scale: the local stage polls as often as it takes to keep the
        # agent's time budget (infra/agent_workflow/config.py, polls_for).
        context.setdefault(WAIT_SCALE_CONTEXT, format_scale(settings.sfn_wait_scale))
        if settings.local_max_polls:
            context.setdefault("max_polls", str(settings.local_max_polls))
    return [arg for key, value in context.items() for arg in ("-c", f"{key}={value}")]


def parameter_args(settings: Settings, runtime_mode: str) -> list[str]:
    """The stack's parameters for ``cdk deploy``: locally, where the invoker reaches the
    AgentCore stand-in (a parameter, not context: the synth is the same whatever the ports)."""
    if not settings.is_local:
        return []
    url = STANDIN_URL_IN_COMPOSE if runtime_mode == "docker" else settings.standin_url
    return ["--parameters", f"{AGENTCORE_ENDPOINT_PARAMETER}={url}"]


def _cli(settings: Settings) -> str:
    name = "cdklocal" if settings.is_local else "cdk"
    return str(INFRA_DIR / "node_modules" / ".bin" / name)


def _run(command: list[str], settings: Settings, what: str, cwd: Path = INFRA_DIR) -> None:
    _output(command, settings, what, cwd)


def _output(command: list[str], settings: Settings, what: str, cwd: Path = INFRA_DIR) -> str:
    """Run a CDK command to its end; its standard output."""
    return commands.run(
        command, what=what, error=DeployError, cwd=cwd, env=cdk_environment(settings)
    ).stdout


def _bootstrapped(settings: Settings) -> bool:
    return _stack_ready(settings, BOOTSTRAP_STACK)


def _stack_ready(settings: Settings, name: str | None = None) -> bool:
    """True when the stack exists in a *_COMPLETE (not rolled back) state."""
    return _ready_stack_tags(settings, name) is not None


def _ready_stack_tags(settings: Settings, name: str | None = None) -> dict[str, str] | None:
    """The tags of the stack if it exists in a *_COMPLETE (not rolled back) state, else None."""
    try:
        stacks = aws.client("cloudformation", settings).describe_stacks(
            StackName=name or settings.stack_name
        )
    except ClientError:
        return None
    except BotoCoreError as error:
        raise DeployError(
            f"cannot reach {settings.endpoint_url} ({error}). Is the runtime up? Run `make up`."
        ) from None
    stack = stacks["Stacks"][0]
    status = stack["StackStatus"]
    if not status.endswith("_COMPLETE") or "ROLLBACK" in status:
        return None
    return {tag["Key"]: tag["Value"] for tag in stack.get("Tags", [])}


def tag_value(text: str) -> str:
    """``text`` as a CloudFormation tag value (letters, digits, spaces, ``_.:/=+-@``; 256)."""
    return re.sub(r"[^\w\s.:/=+\-@]", "_", text)[-256:]


def deploy_fingerprint(settings: Settings, args: list[str]) -> str:
    """What a deploy from this checkout with ``args`` would put in the emulator: the infra
    code and the contract it imports (and bundles into the invoker), the lock of the invoker's
    SDK layer, the agent (which the aws stage packages), the context, and the checkout."""
    sources = [
        INFRA_DIR / "app.py",
        INFRA_DIR / "cdk.json",
        INFRA_DIR / "agent_workflow",
        CONTRACT_DIR,
        LAMBDA_LOCK,
    ]
    if not settings.is_local:
        # The agent image is an asset of the aws stage; its test doubles are not in it
        # (agent/testing: infra/agent_workflow/agent_runtime.py, AGENT_IMAGE_EXCLUDE).
        agent = REPO_ROOT / "agent"
        sources.extend(sorted(p for p in agent.iterdir() if p.name != "testing"))
    return fingerprint(*sources, extra=f"{' '.join(args)} checkout={REPO_ROOT}")


def stack_fingerprint(settings: Settings, runtime_mode: str, args: list[str]) -> str:
    """What a deploy with the context ``args`` tags the stack with: the deploy fingerprint of
    that context and of the stack's parameters (a synth's inputs are the context's alone)."""
    return deploy_fingerprint(settings, [*args, *parameter_args(settings, runtime_mode)])


def deploy(
    settings: Settings,
    *,
    runtime_mode: str = "host",
    context: dict[str, str] | None = None,
    force: bool = False,
    fresh_synth: bool = False,
    report: Callable[[str], None] = logger.info,
) -> DeployResult:
    """Bootstrap (once) and deploy the stack; returns how long it took.

    Skipped only when the target (the running emulator, or AWS) holds this checkout's stack
    at this fingerprint, as its ``harness:fingerprint`` tag says: the same infra code and
    context, deployed from this checkout (``force`` deploys anyway). A deploy already
    running from this checkout is waited for first (then this one is usually skipped).
    ``fresh_synth`` (make bench's first deploy) synthesizes even where a synth of the same
    inputs is kept, as in a fresh clone; the other copies stay (other deploys may use them).
    """
    started = time.monotonic()
    if not force and settings.is_local and _up_to_date(settings, runtime_mode, context):
        # Read without the lock: a synth or deploy of this checkout running meanwhile is not
        # waited for when the emulator already holds this stack (a changing stack is not
        # ready, and not up to date: that waits, below).
        report(f"stack {settings.stack_name} is up to date (no infra change): deploy skipped")
        return DeployResult(seconds=time.monotonic() - started, skipped=True)
    with cdk_lock(report, "a deploy"):
        if fresh_synth:
            assembly.forget()
        return _deploy(settings, runtime_mode, context, force, fresh_synth, report, started)


def _up_to_date(settings: Settings, runtime_mode: str, context: dict[str, str] | None) -> bool:
    args = context_args(settings, runtime_mode, dict(context or {}))
    tags = _ready_stack_tags(settings)
    return tags is not None and tags.get(FINGERPRINT_TAG) == stack_fingerprint(
        settings, runtime_mode, args
    )


def _deploy(
    settings: Settings,
    runtime_mode: str,
    context: dict[str, str] | None,
    force: bool,
    fresh_synth: bool,
    report: Callable[[str], None],
    started: float,
) -> DeployResult:
    context = dict(context or {})
    if not settings.is_local:
        context.update(check_aws_deploy(settings, context, report))
    args = context_args(settings, runtime_mode, context)
    want = stack_fingerprint(settings, runtime_mode, args)
    synth_inputs = assembly.inputs_key(deploy_fingerprint(settings, args))
    tags = _ready_stack_tags(settings)
    if not force and tags is not None and tags.get(FINGERPRINT_TAG) == want:
        report(f"stack {settings.stack_name} is up to date (no infra change): deploy skipped")
        return DeployResult(seconds=time.monotonic() - started, skipped=True)
    if tags and tags.get(CHECKOUT_TAG, tag_value(str(REPO_ROOT))) != tag_value(str(REPO_ROOT)):
        report(
            f"stack {settings.stack_name} there was deployed from another checkout "
            f"({tags[CHECKOUT_TAG]}): deploying this checkout's"
        )
    ensure_cdk_cli(settings, report)
    if settings.is_local:
        _remove_failed_stack(settings, report)
        warmup.start_warming(settings)
    with _bootstrap_meanwhile(settings, report) as bootstrapping:
        app = _synthesized_app(
            settings, args, synth_inputs, report, synth_now=bootstrapping, reuse=not fresh_synth
        )
    report(f"deploying stack {settings.stack_name}")
    _run(
        [
            _cli(settings),
            "deploy",
            settings.stack_name,
            "--require-approval",
            "never",
            "--progress",
            "events",
            *(LOCAL_DEPLOY_METHOD if settings.is_local else ()),
            "--tags",
            f"{FINGERPRINT_TAG}={want}",
            "--tags",
            f"{CHECKOUT_TAG}={tag_value(str(REPO_ROOT))}",
            *app,
            *args,
            *parameter_args(settings, runtime_mode),
        ],
        settings,
        "cdk deploy",
    )
    if settings.is_local and not app:  # the deploy synthesized it
        _remember_assembly(settings, args, synth_inputs)
    return DeployResult(seconds=time.monotonic() - started)


@contextlib.contextmanager
def _bootstrap_meanwhile(settings: Settings, report: Callable[[str], None]) -> Iterator[bool]:
    """Bootstrap the target, if it has no CDK toolkit stack, while the block runs (it needs no
    app: locally it runs beside the synth); yields whether it does, and waits for it after."""
    if _bootstrapped(settings):
        yield False
        return
    work: Callable[[], object]
    if settings.is_local:
        report("bootstrapping CDK (first deploy into this runtime: the CDK's bootstrap stack)")
        work = functools.partial(_bootstrap_locally, settings)
    else:  # the app's environment: the account of the credentials
        report("bootstrapping CDK (cdk bootstrap)")
        work = functools.partial(_run, [_cli(settings), "bootstrap"], settings, "cdk bootstrap")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdk-bootstrap") as background:
        bootstrap = background.submit(work)
        yield True
        bootstrap.result()


def _bootstrap_locally(settings: Settings) -> None:
    """The CDK's bootstrap stack, from the CLI's own template, created by CloudFormation
    without the CLI's process (harness/local_bootstrap.py)."""
    # Run where there is no cdk.json: the CLI has no app to look at.
    cwd = settings.runtime_dir / "cdk-bootstrap"
    cwd.mkdir(parents=True, exist_ok=True)
    command = [_cli(settings), *local_bootstrap.SHOW_TEMPLATE]

    def show_template() -> str:
        return _output(command, settings, "cdk bootstrap --show-template", cwd=cwd)

    try:
        body = local_bootstrap.template(
            settings.runtime_dir / "cache" / "cdk-bootstrap", show_template
        )
    except ValueError as error:  # not JSON: a CLI that prints something else
        raise DeployError(f"cdk bootstrap --show-template printed no template ({error})") from None
    try:
        local_bootstrap.create(aws.client("cloudformation", settings), body)
    except (BotoCoreError, ClientError, WaiterError) as error:
        raise DeployError(
            f"could not create the CDK bootstrap stack {local_bootstrap.STACK_NAME} ({error}); "
            "restart the runtime (`make down && make up`) and deploy again"
        ) from None


def _synthesized_app(
    settings: Settings,
    args: list[str],
    key: str,
    report: Callable[[str], None],
    *,
    synth_now: bool,
    reuse: bool = True,
) -> list[str]:
    """``--app infra/cdk.out`` when the deploy can take a synthesized assembly: one made from
    the same inputs earlier (unless not ``reuse``), or (``synth_now``: beside a bootstrap) one
    synthesized now; else [] and the deploy synthesizes. On AWS the deploy always does (the
    account's credentials). ``key``: the synth's inputs (assembly.inputs_key)."""
    if not settings.is_local:
        return []
    if reuse and (kept := assembly.kept(key)) is not None:
        where = "infra/cdk.out" if kept == assembly.ASSEMBLY_DIR else f"the synth kept in {kept}"
        report(f"{where} holds this synth already (same infra code, context and locks)")
        return ["--app", str(kept)]
    assembly.forget()
    if not synth_now:
        return []
    _run([_cli(settings), "synth", "--quiet", *args], settings, "cdk synth")
    _remember_assembly(settings, args, key)
    return ["--app", str(assembly.ASSEMBLY_DIR)]


def _remember_assembly(settings: Settings, args: list[str], key: str) -> None:
    """Remember infra/cdk.out as made from ``key``'s inputs, unless they changed meanwhile (a
    file saved during the synth: the assembly may hold either version)."""
    if assembly.inputs_key(deploy_fingerprint(settings, args)) == key:
        assembly.remember(key)


def check_aws_deploy(
    settings: Settings, context: dict[str, str], report: Callable[[str], None]
) -> dict[str, str]:
    """Before an AWS deploy starts: what it needs (Docker with arm64 builds, credentials, a
    current model), each missing part named with how to get it. Returns the context the
    checks add (the regions the model's inference profile routes to)."""
    report("checking what the aws deploy needs (Docker, arm64 builds, credentials, the model)")
    problems, added = preflight.aws_deploy_problems(
        lambda service: aws.client(service, settings), settings.region, context
    )
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise DeployError(f"make deploy-aws cannot start:\n{listed}")
    return added


FAILED_STACK_STATES = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "CREATE_FAILED"}


def _remove_failed_stack(settings: Settings, report: Callable[[str], None]) -> None:
    """A failed first deploy leaves a stack that cannot be updated: delete it (local only)."""
    cloudformation = aws.client("cloudformation", settings)
    try:
        status = cloudformation.describe_stacks(StackName=settings.stack_name)["Stacks"][0][
            "StackStatus"
        ]
    except ClientError:
        return
    if status not in FAILED_STACK_STATES:
        return
    report(f"stack {settings.stack_name} is {status} from an earlier deploy: deleting it first")
    cloudformation.delete_stack(StackName=settings.stack_name)
    try:
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=settings.stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    except WaiterError as error:
        raise DeployError(
            f"could not delete the failed stack {settings.stack_name} ({error}); "
            "restart the runtime (`make down && make up`) and deploy again"
        ) from None


def destroy(settings: Settings, report: Callable[[str], None] = logger.info) -> None:
    with cdk_lock(report, "a destroy"):
        ensure_cdk_cli(settings, report)
        report(f"destroying stack {settings.stack_name}")
        assembly.forget()
        _run([_cli(settings), "destroy", settings.stack_name, "--force"], settings, "cdk destroy")


def synth(settings: Settings, report: Callable[[str], None] = logger.info) -> None:
    """Synthesize the app (the local stage, or the aws one) into infra/cdk.out. Locally a
    synth of the same inputs (infra code, context, locks) already made is put there instead:
    the same assembly, without the CLI and the app."""
    with cdk_lock(report, "a synth"):
        ensure_cdk_cli(settings, report)
        args = context_args(settings, "host", {})
        key = assembly.inputs_key(deploy_fingerprint(settings, args))
        if settings.is_local and assembly.put_back(key):
            report(
                "a synth of the same infra code, context and locks is kept: put in infra/cdk.out"
            )
            return
        assembly.forget()
        _run([_cli(settings), "synth", "--quiet", *args], settings, "cdk synth")
        if settings.is_local:
            _remember_assembly(settings, args, key)
