"""The invoker's zip asset holds the handler and the contract package, and its hash (the S3
key LocalStack and the deploy compare) changes with either."""

from __future__ import annotations

import shutil
import sys

from harness.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "infra"))

from agent_workflow import agent_invoker


def test_the_bundle_is_the_handler_and_the_contract():
    files = agent_invoker.bundle_files()
    assert set(files) == {"handler.py", "contract/__init__.py", "contract/aws_calls.py"}
    assert files["contract/__init__.py"] == REPO_ROOT / "contract" / "__init__.py"


def test_the_hash_changes_with_the_handler_or_the_contract(tmp_path, monkeypatch):
    code, contract = tmp_path / "code", tmp_path / "contract"
    shutil.copytree(agent_invoker.CODE_DIR, code, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        agent_invoker.CONTRACT_DIR, contract, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(agent_invoker, "CODE_DIR", code)
    monkeypatch.setattr(agent_invoker, "CONTRACT_DIR", contract)
    before = agent_invoker.bundle_hash()
    assert before == agent_invoker.bundle_hash()  # stable
    (contract / "__pycache__").mkdir()
    (contract / "__pycache__" / "x.pyc").write_bytes(b"noise")
    assert agent_invoker.bundle_hash() == before  # bytecode is not code
    with (contract / "__init__.py").open("a") as file:
        file.write("\n# a contract change\n")
    after_contract = agent_invoker.bundle_hash()
    assert after_contract != before
    with (code / "handler.py").open("a") as file:
        file.write("\n# a handler change\n")
    assert agent_invoker.bundle_hash() not in (before, after_contract)
