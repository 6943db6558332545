"""The local runtime's CDK bootstrap stack (CDKToolkit), created without running `cdk bootstrap`.

`cdk bootstrap` deploys the template its package ships (what `cdk bootstrap --show-template`
prints) through a change set; its node process took ~1.5 CPU-s for each fresh runtime, of
which loading the CLI ~0.6. Locally the harness creates the same stack from the same template,
with the parameters `cdk bootstrap aws://000000000000/<region>` passes (the others keep the
template's defaults), by CloudFormation's CreateStack through boto3: the same resources, the
same SSM version parameter and staging bucket, so `cdk deploy` accepts it. The template is
asked of the pinned CLI once (`--show-template --json`) and kept by the content of what makes
it: the CLI's own template file and infra/package-lock.json. The emulator's work is the same;
only the CLI's process is left out. `make deploy-aws` runs `cdk bootstrap` itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from harness import recently_used
from harness.fingerprint import fingerprint
from harness.settings import REPO_ROOT

STACK_NAME = "CDKToolkit"
# The file the pinned CLI reads for `cdk bootstrap` (its "default" template source), and the
# lock that pins the CLI (which parses and prints it).
TEMPLATE_SOURCES = (
    REPO_ROOT / "infra/node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml",
    REPO_ROOT / "infra/package-lock.json",
)
SHOW_TEMPLATE = ("bootstrap", "--show-template", "--json")
KEPT_COUNT = 2  # templates of the last CLI versions used
# What `cdk bootstrap` with no options passes for a new stack (its modernBootstrap): no
# trusted accounts, no execution policies (the template then uses AdministratorAccess), the
# AWS-managed key for the bucket, public access blocked.
PARAMETERS = {
    "TrustedAccounts": "",
    "TrustedAccountsForLookup": "",
    "CloudFormationExecutionPolicies": "",
    "FileAssetsBucketKmsKeyId": "AWS_MANAGED_KEY",
    "PublicAccessBlockConfiguration": "true",
}
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")
FAILED_STATES = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "CREATE_FAILED"}
WAITER = {"Delay": 1, "MaxAttempts": 300}


def template(kept_in: Path, show_template: Callable[[], str]) -> dict[str, Any]:
    """The bootstrap template: the one kept in ``kept_in`` for this CLI and template file,
    else what ``show_template()`` (the CLI's ``--show-template --json``) prints, then kept."""
    kept = kept_in / f"{fingerprint(*TEMPLATE_SOURCES)}.json"
    try:
        text = kept.read_text()
        kept.touch()
    except FileNotFoundError:
        text = show_template()
        json.loads(text)  # a template, not a warning or half an output
        kept_in.mkdir(parents=True, exist_ok=True)
        partial = kept_in / f".{kept.name}.{os.getpid()}"
        recently_used.put_whole(kept, partial, lambda into: into.write_text(text))
        recently_used.prune(
            (p for p in kept_in.iterdir() if not p.name.startswith(".")), KEPT_COUNT
        )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _status(cloudformation: Any) -> str | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"]
    except ClientError:
        return None
    return str(stacks[0]["StackStatus"])


def create(cloudformation: Any, body: dict[str, Any]) -> None:
    """Create the bootstrap stack from the template ``body`` and wait until it is complete.
    A failed one is deleted first; one being created (another deploy into this emulator) is
    waited for."""
    status = _status(cloudformation)
    if status in FAILED_STATES:
        cloudformation.delete_stack(StackName=STACK_NAME)
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=STACK_NAME, WaiterConfig=WAITER
        )
        status = None
    if status is None:
        cloudformation.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(body, separators=(",", ":")),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
            Capabilities=list(CAPABILITIES),
            EnableTerminationProtection=False,
        )
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=STACK_NAME, WaiterConfig=WAITER
    )
