"""A module of the LocalStack plug-in (harness/localstack_host_lambda/), loaded in the project's
virtualenv over stand-ins for what it imports from LocalStack, which lives in its own."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from harness.settings import REPO_ROOT

PLUGIN_DIR = REPO_ROOT / "harness" / "localstack_host_lambda" / "localstack_host_lambda"


def _decorator() -> Any:
    return lambda function: function


def _once_loaded(name: str, patch: Any) -> None:
    """The plug-in's once_loaded, for a module already loaded (here: every stand-in)."""
    patch(sys.modules[name])


def load_plugin_module(
    monkeypatch: pytest.MonkeyPatch, file_name: str, stand_ins: dict[str, Any] | None = None
) -> Any:
    """``PLUGIN_DIR / file_name`` as a module: LocalStack's hooks are no-op decorators, the
    plug-in's ``once_loaded`` patches the (stand-in) module at once, and ``stand_ins`` are the
    LocalStack modules it patches."""
    hooks = types.SimpleNamespace(on_infra_start=_decorator, on_runtime_create=_decorator)
    modules = {
        "localstack": types.SimpleNamespace(),
        "localstack.runtime": types.SimpleNamespace(hooks=hooks),
        "localstack_host_lambda": types.SimpleNamespace(),
        "localstack_host_lambda.footprint": types.SimpleNamespace(once_loaded=_once_loaded),
        **(stand_ins or {}),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    path: Path = PLUGIN_DIR / file_name
    spec = importlib.util.spec_from_file_location(f"plugin_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
