"""Helpers the staff-page tests share: reading a confirmation page as a browser would."""

from __future__ import annotations

from html.parser import HTMLParser


class _ActionsForm(HTMLParser):
    """The fields of a page's confirmation form (`<form method="post" class="actions">`),
    as a browser sends them when its red button is pressed."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and "actions" in (found.get("class") or "").split():
            self.inside = True
        elif self.inside and tag == "input" and found.get("name"):
            self.fields.append((found["name"] or "", found.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def confirmation_fields(page: str) -> list[tuple[str, str]]:
    """What the confirmation page's red button sends: its token, the carried fields and
    `confirm=yes`."""
    parser = _ActionsForm()
    parser.feed(page)
    assert parser.fields, "no confirmation form on the page"
    return parser.fields


def as_form(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """(name, value) pairs as the test client's form data (repeated names kept)."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data
