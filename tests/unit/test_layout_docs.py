"""LOCAL_DEVELOPMENT.md's Project structure names every top-level folder and every module of
contract/, agent/ and harness/ (two levels deep), so the layout the docs show is the tree."""

from __future__ import annotations

from harness.settings import REPO_ROOT

DOCUMENTED_PACKAGES = ("contract", "agent", "harness")


def layout_block() -> str:
    text = (REPO_ROOT / "LOCAL_DEVELOPMENT.md").read_text()
    return text.split("## Project structure", 1)[1].split("```")[1]


def names_to_document() -> set[str]:
    names = {
        f"{path.name}/"
        for path in REPO_ROOT.iterdir()
        if path.is_dir()
        and path.name
        in {"contract", "agent", "harness", "infra", "tests"} | {"requirements", "scripts", ".ci"}
    }
    for package in DOCUMENTED_PACKAGES:
        for path in (REPO_ROOT / package).glob("*.py"):
            names.add(path.name)
        for path in (REPO_ROOT / package).glob("*/*.py"):
            if "localstack_host_lambda" not in path.parts:  # a plug-in package, named whole
                names.add(path.name)
    return names - {"__init__.py", "__main__.py"}


def test_the_layout_names_every_module() -> None:
    block = layout_block()
    missing = sorted(name for name in names_to_document() if name not in block)
    assert missing == [], "name these in LOCAL_DEVELOPMENT.md ## Project structure"
