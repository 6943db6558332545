"""The cloud assembly a local synth wrote (infra/cdk.out), reused while its inputs are the same.

A synth is a function of the CDK app's code, the contract it bundles, the locks of the
invoker's layer, of aws-cdk-lib (requirements/dev.lock) and of the CDK CLI
(infra/package-lock.json), the context, and the checkout: the deploy fingerprint and the two
locks. After a synth the harness writes that key beside the assembly; a deploy with the same
key (forced, or into a restarted emulator) deploys the assembly as it is (``cdk deploy --app
infra/cdk.out``) instead of running the app again. Any other CDK command of this checkout
forgets the key first, so an assembly is never reused for inputs it was not made from.
"""

from __future__ import annotations

from pathlib import Path

from harness.fingerprint import fingerprint
from harness.settings import REPO_ROOT

ASSEMBLY_DIR = REPO_ROOT / "infra" / "cdk.out"
STAMP_NAME = "harness-inputs.txt"
SYNTH_LOCKS = (REPO_ROOT / "requirements" / "dev.lock", REPO_ROOT / "infra" / "package-lock.json")


def inputs_key(deploy_fingerprint: str) -> str:
    """What an assembly synthesized now would be made from."""
    return fingerprint(*SYNTH_LOCKS, extra=deploy_fingerprint)


def _stamp() -> Path:
    return ASSEMBLY_DIR / STAMP_NAME


def reusable(key: str) -> bool:
    """True if infra/cdk.out holds a complete assembly synthesized from ``key``'s inputs."""
    try:
        stamped = _stamp().read_text().strip()
    except FileNotFoundError:
        return False
    return stamped == key and (ASSEMBLY_DIR / "manifest.json").is_file()


def forget() -> None:
    """Before a CDK command writes the assembly: whatever it held is not known any more."""
    _stamp().unlink(missing_ok=True)


def remember(key: str) -> None:
    """After a synth from ``key``'s inputs succeeded."""
    if ASSEMBLY_DIR.is_dir():
        _stamp().write_text(key + "\n")
