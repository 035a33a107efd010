"""The documents name the tests that prove what they claim: each name must be a test."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
