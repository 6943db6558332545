"""LocalStack's start-up hook that defers moto packages' ``__init__`` (and a plain module's
body): importing moto's SSM models (``from moto.ec2 import ec2_backends``) or
``moto.batch.utils`` no longer imports moto's EC2 (or Batch) models, nor a name taken from
SAM's transform module its body, and every use of what the packages hold still gets the real
objects, loaded then. Run on stand-ins for moto's packages (moto lives in LocalStack's
virtualenv, not in the project's), written as moto writes them; the end-to-end tier runs the
same against LocalStack's own SSM provider and moto."""

from __future__ import annotations

import importlib
import sys
import threading
import types
from pathlib import Path

import pytest

from tests.support.helpers import plugin_module_with_stand_in_hooks

LOADED = "import moto\nmoto.LOADED.append(__name__)\n"
STAND_IN = {
    "moto/__init__.py": "LOADED = []\n",
    "moto/ec2/__init__.py": "from .models import ec2_backends  # noqa: F401\n",
    "moto/ec2/models.py": LOADED
    + "class BackendDict(dict):\n    pass\n"
    + "ec2_backends = BackendDict({'123456789012': {'us-east-1': 'ec2 backend'}})\n",
    "moto/ssm/__init__.py": "",
    "moto/ssm/models.py": LOADED
    + "from moto.ec2 import ec2_backends\n"
    + "def instances(account, region):\n    return ec2_backends[account][region]\n",
    "moto/batch/__init__.py": "from .models import batch_backends  # noqa: F401\n",
    "moto/batch/models.py": LOADED + "from moto.ec2 import ec2_backends\nbatch_backends = {}\n",
    "moto/batch/utils.py": LOADED
    + "from enum import Enum\nclass JobStatus(str, Enum):\n    SUCCEEDED = 'SUCCEEDED'\n",
}


SAM_TRANSFORM = (  # a plain module (no package) whose body is deferred
    "import moto\nmoto.LOADED.append(__name__)\n"
    "def transform(template, parameters, loader):\n    return {**template, 'done': True}\n"
)
STAND_IN |= {
    "samtranslator/__init__.py": "",
    "samtranslator/translator/__init__.py": "",
    "samtranslator/translator/transform.py": SAM_TRANSFORM,
}


def _moto_modules() -> list[str]:
    return [n for n in sys.modules if n.split(".")[0] in ("moto", "samtranslator")]


@pytest.fixture
def moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    for name, text in STAND_IN.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in _moto_modules():  # the real moto (other tests use it) is put back after
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # the hook's finder undone
    yield importlib.import_module("moto")
    for name in _moto_modules():
        del sys.modules[name]


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = plugin_module_with_stand_in_hooks(monkeypatch, "deferred_packages")
    module.defer_package_inits()
    return module


def test_ssm_models_import_without_ec2s_and_load_them_when_used(moto, deferred):
    ssm = importlib.import_module("moto.ssm.models")
    assert moto.LOADED == ["moto.ssm.models"]
    assert "moto.ec2.models" not in sys.modules
    assert ssm.instances("123456789012", "us-east-1") == "ec2 backend"
    assert moto.LOADED == ["moto.ssm.models", "moto.ec2.models"]
    ec2_backends = importlib.import_module("moto.ec2.models").ec2_backends
    assert importlib.import_module("moto.ec2").ec2_backends is ec2_backends  # the real one now
    assert isinstance(ssm.ec2_backends, type(ec2_backends))
    assert dict(ssm.ec2_backends) == ec2_backends
    assert "123456789012" in ssm.ec2_backends
    assert moto.LOADED.count("moto.ec2.models") == 1


def test_batch_utils_import_without_batch_models(moto, deferred):
    job_status = importlib.import_module("moto.batch.utils").JobStatus
    assert job_status.SUCCEEDED == "SUCCEEDED"
    assert moto.LOADED == ["moto.batch.utils"]
    batch = importlib.import_module("moto.batch")  # what moto's get_backend does
    assert batch.batch_backends == {}
    assert moto.LOADED == ["moto.batch.utils", "moto.batch.models"]
    assert "moto.ec2.models" not in sys.modules  # Batch's EC2 name not used yet


def test_a_submodule_imports_without_the_package_body(moto, deferred):
    from moto.ec2 import models  # as LocalStack's EC2 patches import it

    assert moto.LOADED == ["moto.ec2.models"]
    ec2 = importlib.import_module("moto.ec2")
    assert type(vars(ec2)["ec2_backends"]) is deferred.DeferredName  # the body has not run
    assert ec2.ec2_backends["123456789012"] is models.ec2_backends["123456789012"]
    assert vars(ec2)["ec2_backends"] is models.ec2_backends  # its body ran at that first use
    assert moto.LOADED == ["moto.ec2.models"]


def test_a_name_the_package_lacks_is_still_an_attribute_error(moto, deferred):
    ec2 = importlib.import_module("moto.ec2")
    with pytest.raises(AttributeError, match="no_such_name"):
        ec2.no_such_name  # noqa: B018 - the read is the test
    assert moto.LOADED == ["moto.ec2.models"]  # the package was loaded to look
    assert "__getattr__" not in vars(ec2)


def test_a_plain_modules_body_runs_when_its_name_is_first_called(moto, deferred):
    from samtranslator.translator.transform import transform as transform_sam  # as LocalStack

    assert moto.LOADED == []  # the import system's look for __path__ loaded nothing
    assert transform_sam({"Resources": {}}, {}, None) == {"Resources": {}, "done": True}
    assert moto.LOADED == ["samtranslator.translator.transform"]


def test_threads_load_the_package_once(moto, deferred):
    ssm = importlib.import_module("moto.ssm.models")
    start = threading.Barrier(8)
    answers: list[str] = []

    def use() -> None:
        start.wait()
        answers.append(ssm.instances("123456789012", "us-east-1"))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["ec2 backend"] * 8
    assert moto.LOADED.count("moto.ec2.models") == 1


def test_without_the_hook_the_stand_in_imports_ec2s_models(moto):
    """The stand-in behaves as moto does."""
    importlib.import_module("moto.ssm.models")
    importlib.import_module("moto.batch.utils")
    importlib.import_module("samtranslator.translator.transform")
    assert moto.LOADED == [
        "moto.ssm.models", "moto.ec2.models", "moto.batch.models", "moto.batch.utils",
        "samtranslator.translator.transform",
    ]  # fmt: skip
