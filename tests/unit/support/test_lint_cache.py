"""cfn-lint's findings are kept by content: a template is linted once for the same inputs, again
when the template, the regions or an input (the lock, the code that lints) changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import lint_cache

FINDING: lint_cache.Finding = ("W3005", ("Resources", "Fn", "DependsOn", 1), "already enforced")


@pytest.fixture
def lock(one_input) -> Path:
    """The one input of the lint (it stands for the lock and the code that lints)."""
    return one_input(lint_cache, "dev.lock", "cfn-lint==1.0.0")


class Lints:
    """A stand-in cfn-lint: one finding per template, its runs counted."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, text: str) -> list[lint_cache.Finding]:
        self.runs += 1
        return [FINDING]


def test_a_template_is_linted_once_and_its_findings_read_back(lock):
    lints = Lints()
    first = lint_cache.kept_findings('{"Resources": {}}', ["us-east-1"], lints)
    again = lint_cache.kept_findings('{"Resources": {}}', ["us-east-1"], lints)
    assert first == again == [FINDING]
    assert lints.runs == 1


def test_another_template_regions_or_input_is_linted_again(lock):
    lints = Lints()
    lint_cache.kept_findings("{}", ["us-east-1"], lints)
    lint_cache.kept_findings('{"Resources": {}}', ["us-east-1"], lints)
    lint_cache.kept_findings("{}", ["eu-west-1"], lints)
    lock.write_text("cfn-lint==1.0.1")
    lint_cache.kept_findings("{}", ["us-east-1"], lints)
    assert lints.runs == 4


def test_only_the_most_recently_used_entries_stay(lock, monkeypatch):
    monkeypatch.setattr(lint_cache, "KEPT_ENTRIES", 2)
    lints = Lints()
    for n in range(3):
        lint_cache.kept_findings(f'{{"n": {n}}}', ["us-east-1"], lints)
    assert len(list(lint_cache.CACHE_DIR.iterdir())) == 2
    lint_cache.kept_findings('{"n": 0}', ["us-east-1"], lints)
    assert lints.runs == 4
