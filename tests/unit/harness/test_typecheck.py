"""Which of mypy's cache rows are this project's own (harness/typecheck.py): those are never
published to the machine's cache."""

from __future__ import annotations

import pytest

from harness import typecheck
from harness.settings import REPO_ROOT


@pytest.mark.parametrize(
    ("row", "own"),
    [
        ("agent/app.meta.ff", True),
        ("agent.data.ff", True),
        ("app.meta_ex.ff", True),  # infra/app.py, found through mypy_path
        ("agent_workflow/stack.data.ff", True),
        ("boto3/session.meta.ff", False),
        ("aws_cdk/aws_lambda/__init__.data.ff", False),
        ("agentlike/x.meta.ff", False),
        ("builtins.meta.ff", False),
    ],
)
def test_a_row_is_the_projects_when_its_top_level_module_is(row: str, own: bool) -> None:
    assert typecheck.is_project_row(row, {"agent", "app", "agent_workflow"}) is own


def test_the_projects_modules_are_found_where_mypy_finds_them() -> None:
    modules = typecheck.project_modules(REPO_ROOT)

    assert {"agent", "harness", "contract", "agent_workflow", "app"} <= modules
    assert "localstack_host_lambda" in modules  # harness/localstack_host_lambda, a mypy_path
    assert not {"boto3", "aws_cdk", "mypy"} & modules
