"""The cloud assembly a local synth wrote (infra/cdk.out), reused while its inputs are the same.

A synth is a function of the CDK app's code, the contract it bundles, the locks of the
invoker's layer, of aws-cdk-lib (requirements/dev.lock) and of the CDK CLI
(infra/package-lock.json), the context, and the checkout: the deploy fingerprint and the two
locks. After a synth the harness writes that key beside the assembly; a deploy with the same
key (forced, or into a restarted emulator) deploys the assembly as it is (``cdk deploy --app
infra/cdk.out``) instead of running the app again. Any other CDK command of this checkout
forgets the key first, so an assembly is never reused for inputs it was not made from.

infra/cdk.out holds one synth; a copy of the last few is kept under .runtime/assemblies/<key>.
Deploys with other contexts take turns in one checkout (a demo's time budget, then the tests'),
so each reuses its own synth instead of synthesizing again after the other. (The stand-in's
URL, which differs between runtimes, is a stack parameter, not context: deploy.parameter_args.)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness import recently_used
from harness.fingerprint import fingerprint
from harness.settings import REPO_ROOT

ASSEMBLY_DIR = REPO_ROOT / "infra" / "cdk.out"
STAMP_NAME = "harness-inputs.txt"
KEPT_DIR = REPO_ROOT / ".runtime" / "assemblies"
KEPT_COUNT = 4  # the most recently used copies stay (~17 MB each)
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


def kept(key: str) -> Path | None:
    """An assembly synthesized from ``key``'s inputs: infra/cdk.out if it holds it, else a
    copy kept from an earlier synth (marked as just used), else None."""
    if reusable(key):
        return ASSEMBLY_DIR
    copy = KEPT_DIR / key
    try:
        stamped = (copy / STAMP_NAME).read_text().strip()
    except FileNotFoundError:
        return None
    if stamped != key or not (copy / "manifest.json").is_file():
        return None
    copy.touch()
    return copy


def put_back(key: str) -> bool:
    """Make infra/cdk.out hold the synth of ``key``'s inputs, from the copy kept of it if it
    holds another; False if there is none. The stamp is written last, once the copy is whole."""
    found = kept(key)
    if found is None:
        return False
    if found != ASSEMBLY_DIR:
        forget()
        shutil.rmtree(ASSEMBLY_DIR, ignore_errors=True)
        shutil.copytree(found, ASSEMBLY_DIR, ignore=shutil.ignore_patterns(STAMP_NAME))
        _stamp().write_text(key + "\n")
    return True


def forget() -> None:
    """Before a CDK command writes the assembly: whatever it held is not known any more."""
    _stamp().unlink(missing_ok=True)


def remember(key: str) -> None:
    """After a synth from ``key``'s inputs succeeded."""
    if ASSEMBLY_DIR.is_dir():
        _stamp().write_text(key + "\n")
        _keep(key)


def _keep(key: str) -> None:
    """Copy infra/cdk.out to KEPT_DIR/<key> (whole, then renamed into place, so a reader
    never sees half a copy; a real copy: the CDK rewrites cdk.out's files in place), and
    remove all but the KEPT_COUNT most recently used copies."""
    target = KEPT_DIR / key
    if target.is_dir():
        target.touch()
        return
    KEPT_DIR.mkdir(parents=True, exist_ok=True)
    partial = KEPT_DIR / f".{key}.{os.getpid()}"
    recently_used.put_whole(target, partial, lambda into: shutil.copytree(ASSEMBLY_DIR, into))
    copies = (path for path in KEPT_DIR.iterdir() if not path.name.startswith("."))
    recently_used.prune(copies, KEPT_COUNT)
