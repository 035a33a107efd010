"""One place commits a request's work (views.helpers.commit), and a failed commit is a 4xx
or 503 with nothing written, never a 500 or half a write."""

from __future__ import annotations

import ast

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from statuspage.models import AuditEntry, Incident
from tests.helpers import PROJECT_ROOT, api_headers

VIEWS = PROJECT_ROOT / "statuspage" / "views"
BASE = "/api/v1/pages/calltower"


def test_views_commit_in_exactly_one_place():
    """Every `<anything>.commit(...)` call in the views' code (docstrings do not count)."""
    sites = [
        f"{path.name}:{node.lineno}"
        for path in sorted(VIEWS.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]
    assert len(sites) == 1 and sites[0].startswith("helpers.py:"), sites


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (IntegrityError("INSERT", {}, Exception("duplicate key")), 409),
        (OperationalError("INSERT", {}, Exception("database is locked")), 503),
    ],
)
def test_failed_commit_answers_without_500_and_writes_nothing(
    client, db, monkeypatch, error, status
):
    headers = api_headers(db, "engineer")
    audit_before = db.scalar(select(func.count(AuditEntry.id)))

    def refuse() -> None:
        raise error

    monkeypatch.setattr(db, "commit", refuse)
    answer = client.post(
        f"{BASE}/incidents", headers=headers, json={"incident": {"name": "Lost write"}}
    )
    monkeypatch.undo()
    assert answer.status_code == status
    assert "error" in answer.get_json()
    assert db.scalar(select(func.count(Incident.id))) == 0
    assert db.scalar(select(func.count(AuditEntry.id))) == audit_before
