"""The documents say what is there: each test they name exists, the architecture's layout is
the app's files, and the package data names files that exist."""

from __future__ import annotations

import ast
import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

from tests.helpers import PROJECT_ROOT

ROOT = PROJECT_ROOT
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
NAMED = re.compile(r"\btest_[a-z0-9_]+\b")

pytestmark = pytest.mark.one_backend


@cache
def _tests() -> frozenset[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
        )
        names.add(path.stem)  # a document may name a test module
    return frozenset(names)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_test_a_document_names_exists(document: Path) -> None:
    existing = _tests()
    named = set(NAMED.findall(document.read_text(encoding="utf-8")))
    missing = sorted(name for name in named if name not in existing)
    assert not missing, f"{document.name} names tests that do not exist: {missing}"


def _section(document: Path, heading: str) -> str:
    """The text of `document` under `heading`, up to the next heading of its level."""
    text = document.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    level = heading.split(" ", 1)[0]
    end = text.find(f"\n{level} ", start + len(heading) + 2)
    return text[start : end if end != -1 else len(text)]


def test_the_architecture_layout_lists_every_python_file_of_the_app() -> None:
    """docs/architecture.md's layout is `find statuspage calendars jobs -name '*.py'` (the
    migrations' versions aside), in that order, each file once."""
    layout = _section(ROOT / "docs" / "architecture.md", "## The layout")
    listed = re.findall(r"^\| `([^`]+\.py)` \|", layout, re.M)
    real = {
        path.relative_to(ROOT).as_posix()
        for package in ("statuspage", "calendars", "jobs")
        for path in (ROOT / package).rglob("*.py")
        if "migrations/versions" not in path.as_posix()
    }
    assert sorted(real - set(listed)) == [], "files the layout does not list"
    assert sorted(set(listed) - real) == [], "files the layout lists that do not exist"
    assert listed == sorted(real), "the layout lists each file once, in path order"


def test_the_package_data_names_files_that_exist() -> None:
    """Each pattern of pyproject.toml's package data matches a file of the package (the
    .mo catalogs are compiled from the .po files by `make` before the tests run)."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        package_data = tomllib.load(fh)["tool"]["setuptools"]["package-data"]
    for package, patterns in package_data.items():
        for pattern in patterns:
            found = [p for p in (ROOT / package).glob(pattern) if p.is_file()]
            assert found, f"{package}/{pattern} matches no file"
