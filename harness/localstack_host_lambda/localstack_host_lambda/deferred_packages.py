"""Packages whose ``__init__`` runs when a name in it is first needed (a start-up hook).

LocalStack's SSM provider loads moto's SSM models, which take ``ec2_backends`` from
``moto.ec2`` at import (read only by SendCommand with targets), and its Step Functions batch
task takes ``JobStatus`` from ``moto.batch.utils`` (``moto.batch``'s ``__init__`` imports its
models, which import moto's EC2, ECS, Logs ...). Either one imported moto's EC2 models:
~50 modules, ~15 MB of objects, ~45 MB RSS, which no call of this workflow uses. And its
CloudFormation engine (v2) takes two type names from ``localstack.aws.api.ec2`` (LocalStack's
EC2 API, ~1 MB of source: +17.6 MB RSS at import), read only in annotations, which that
module's ``from __future__ import annotations`` keeps as strings. Its transforms import AWS
SAM's translator (``samtranslator.translator.transform``: ~170 modules, +9.4 MB RSS) for
templates with the ``AWS::Serverless`` transform, which the stack has none of.

``DeferPackageInit`` imports such a package without running its ``__init__`` (a plain module
without running its body): its submodules import as before (its ``__path__`` is set), a
name its importers take at import time is a ``DeferredName`` until first used, and the body
runs on the first use of such a name or the first read of any other name the package does
not have yet (a module ``__getattr__``). Every call that needs the real objects gets them:
the same objects, loaded on first use.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import pkgutil
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from types import ModuleType
from typing import Any

from localstack.runtime import hooks

from localstack_host_lambda.footprint import BodyRunner, spec_with_body_wrapped

# package (or module) -> the names its importers take at import time (``from moto.ec2 import
# ec2_backends`` in moto's SSM, ECS, Batch ... models), stood in for until first used.
DEFERRED_PACKAGES: dict[str, tuple[str, ...]] = {
    "moto.ec2": ("ec2_backends",),
    "moto.batch": (),
    "localstack.aws.api.ec2": ("AvailabilityZoneList", "DescribeAvailabilityZonesResult"),
    "samtranslator.translator.transform": ("transform",),
}


class DeferredName:
    """Stands in for a package's name: each use loads the package (once) and acts on the
    name's value there (items, attributes, iteration, ``isinstance``)."""

    __slots__ = ("_value",)

    def __init__(self, value: Callable[[], Any]) -> None:
        object.__setattr__(self, "_value", value)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() asks for it: the value's class
        return type(self._value())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._value(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._value(), name, value)

    def __getitem__(self, key: Any) -> Any:
        return self._value()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._value()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._value()[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._value()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._value())

    def __len__(self) -> int:
        return len(self._value())

    def __bool__(self) -> bool:
        return bool(self._value())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._value()(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(self._value())


class DeferredInit:
    """A package's ``__init__`` (or a module's) body, run once, on demand (thread-safe)."""

    def __init__(self, module: ModuleType, run_body: Callable[[ModuleType], None]) -> None:
        self._module = module
        self._run_body = run_body
        path = getattr(module, "__path__", None)  # None: a plain module
        self._submodules = {info.name for info in pkgutil.iter_modules(path)} if path else set()
        self._lock = threading.RLock()
        self._running = False
        self._done = False

    def load(self) -> bool:
        """Run the body if it has not run; False while it runs in this thread."""
        with self._lock:
            if self._done:
                return True
            if self._running:
                return False
            self._running = True
            try:
                self._run_body(self._module)
                self._done = True
            finally:
                self._running = False
            if vars(self._module).get("__getattr__") == self.missing_name:
                delattr(self._module, "__getattr__")
            return True

    def missing_name(self, name: str) -> Any:
        """The module's ``__getattr__``: a submodule's name is left to the import system
        (``from package import submodule`` imports it), and so is a module attribute the body
        does not define (the import system asks a plain module for ``__path__``); any other
        name (``__all__`` too) loads the package."""
        special = name.startswith("__") and name.endswith("__") and name != "__all__"
        if special or name in self._submodules or not self.load():
            raise AttributeError(f"module {self._module.__name__!r} has no attribute {name!r}")
        return getattr(self._module, name)

    def value(self, name: str) -> Any:
        """The package's own value for ``name``, the package loaded."""
        if not self.load():
            raise ImportError(f"{self._module.__name__}.{name} used while its package loads")
        value = vars(self._module).get(name)
        if type(value) is DeferredName:
            raise ImportError(f"{self._module.__name__} defines no {name} once loaded")
        return value


class DeferPackageInit(importlib.abc.MetaPathFinder):
    """Imports each package of ``packages`` with its ``__init__`` deferred (``DeferredInit``)
    and its listed names standing in (``DeferredName``)."""

    def __init__(self, packages: Mapping[str, Sequence[str]]) -> None:
        self._packages = dict(packages)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        names = self._packages.get(fullname)
        if names is None:
            return None
        return spec_with_body_wrapped(fullname, path, partial(_body_deferred, names))


def _body_deferred(names: Sequence[str], run_body: BodyRunner) -> BodyRunner:
    def exec_module(module: ModuleType) -> None:
        deferred = DeferredInit(module, run_body)
        setattr(module, "__getattr__", deferred.missing_name)  # noqa: B010 - PEP 562
        for name in names:
            setattr(module, name, DeferredName(partial(deferred.value, name)))

    return exec_module


@hooks.on_runtime_create()
def defer_package_inits() -> None:
    """Before LocalStack's providers import them."""
    packages = {name: names for name, names in DEFERRED_PACKAGES.items() if name not in sys.modules}
    if packages:
        sys.meta_path.insert(0, DeferPackageInit(packages))
