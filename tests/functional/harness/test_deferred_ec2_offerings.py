"""LocalStack's start-up hook that defers moto's EC2 instance type offerings: the module
imports without reading an offerings file, and each region's offerings, read when first looked
up, are what the module itself builds (tagged with their location type). Run on a stand-in
for moto's module (moto lives in LocalStack's virtualenv, not in the project's), written as
moto writes it."""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path

import pytest

from tests.support.helpers import plugin_module_with_stand_in_hooks

LOAD_RESOURCE = """
import json, pkgutil
READ = []
def load_resource(package, resource):
    READ.append(resource)
    return json.loads(pkgutil.get_data(package, resource))
"""
# moto 5's moto/ec2/models/instance_types.py, its module body
INSTANCE_TYPES = """
import pathlib
from os import listdir
from moto.utilities.utils import load_resource
INSTANCE_TYPES = load_resource(__name__, "../resources/instance_types.json")
root = pathlib.Path(__file__).parent
offerings_path = "../resources/instance_type_offerings"
INSTANCE_TYPE_OFFERINGS = {}
for _location_type in listdir(root / offerings_path):
    INSTANCE_TYPE_OFFERINGS[_location_type] = {}
    for data_file in listdir(root / offerings_path / _location_type):
        full_path = offerings_path + "/" + _location_type + "/" + data_file
        _region = data_file.split(".")[0]
        res = load_resource(__name__, full_path)
        for instance in res:
            instance["LocationType"] = _location_type
        INSTANCE_TYPE_OFFERINGS[_location_type][_region] = res
"""
OFFERINGS = {
    "region": {"us-east-1": [{"InstanceType": "t3.micro", "Location": "us-east-1"}]},
    "availability-zone": {
        "us-east-1": [{"InstanceType": "t3.micro", "Location": "us-east-1a"}],
        "eu-west-1": [{"InstanceType": "m5.large", "Location": "eu-west-1b"}],
    },
}


@pytest.fixture
def stand_in_moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    files = {
        "moto/__init__.py": "",
        "moto/utilities/__init__.py": "",
        "moto/utilities/utils.py": LOAD_RESOURCE,
        "moto/ec2/__init__.py": "",
        "moto/ec2/models/__init__.py": "",
        "moto/ec2/models/instance_types.py": INSTANCE_TYPES,
        "moto/ec2/resources/instance_types.json": json.dumps({"t3.micro": {}}),
        **{
            f"moto/ec2/resources/instance_type_offerings/{kind}/{region}.json": json.dumps(rows)
            for kind, regions in OFFERINGS.items()
            for region, rows in regions.items()
        },
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n == "moto" or n.startswith("moto.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # the hook's finder undone
    yield tmp_path
    for name in [n for n in sys.modules if n == "moto" or n.startswith("moto.")]:
        del sys.modules[name]


@pytest.fixture
def footprint(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    return plugin_module_with_stand_in_hooks(monkeypatch, "footprint")


def tagged(kind: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{**row, "LocationType": kind} for row in rows]


def test_offerings_are_read_when_a_region_is_first_looked_up(stand_in_moto, footprint):
    footprint.defer_ec2_offerings()
    module = importlib.import_module("moto.ec2.models.instance_types")
    read = importlib.import_module("moto.utilities.utils").READ
    assert read == ["../resources/instance_types.json"]  # no offerings file read at import
    offerings = module.INSTANCE_TYPE_OFFERINGS
    assert {kind: sorted(regions) for kind, regions in offerings.items()} == {
        kind: sorted(regions) for kind, regions in OFFERINGS.items()
    }
    zones = offerings["availability-zone"]
    assert zones.get("eu-west-1") == tagged(
        "availability-zone", OFFERINGS["availability-zone"]["eu-west-1"]
    )
    assert zones.get("ap-south-2", []) == []
    assert len(read) == 2
    assert offerings["region"]["us-east-1"] == tagged("region", OFFERINGS["region"]["us-east-1"])
    assert len(read) == 3


def test_without_the_hook_the_stand_in_reads_every_file(stand_in_moto):
    """The stand-in behaves as moto does: the same data, every file read at import."""
    module = importlib.import_module("moto.ec2.models.instance_types")
    assert len(importlib.import_module("moto.utilities.utils").READ) == 4
    assert {
        kind: {region: tagged(kind, rows) for region, rows in regions.items()}
        for kind, regions in OFFERINGS.items()
    } == module.INSTANCE_TYPE_OFFERINGS
