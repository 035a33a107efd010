"""One word per concept: the catalogs are held to docs/glossary.md (one table per language)."""

from __future__ import annotations

import re
from functools import cache

import pytest

from tests.helpers import PROJECT_ROOT
from tests.translations.support import catalog

pytestmark = pytest.mark.one_backend

GLOSSARY = PROJECT_ROOT / "docs" / "glossary.md"
SECTIONS = {"es": "## Spanish (es)", "de": "## German (de)"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\w+\}")


@cache
def glossary() -> dict[str, dict[str, tuple[str, ...]]]:
    """language -> English term -> the forms its translation may take (lower case)."""
    text = GLOSSARY.read_text(encoding="utf-8")
    tables: dict[str, dict[str, tuple[str, ...]]] = {}
    for language, heading in SECTIONS.items():
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        lines = [line for line in section.splitlines() if line.startswith("|")]
        rows = [line for line in lines[1:] if not line.startswith("|---")]  # no header
        table: dict[str, tuple[str, ...]] = {}
        for row in rows:
            english, word, other = (cell.strip() for cell in row.strip("|").split("|"))
            forms = [word, *(f.strip() for f in other.split(",") if f.strip())]
            table[english.lower()] = tuple(f.lower() for f in forms)
        tables[language] = table
    return tables


@cache
def not_the_terms() -> tuple[str, ...]:
    """The phrases of the glossary's last section: a term's word used for something else."""
    section = GLOSSARY.read_text(encoding="utf-8").split("## Where a word is not the term", 1)[1]
    return tuple(re.findall(r"`([^`]+)`", section))


def mentions(msgid: str, term: str) -> bool:
    text = PLACEHOLDER.sub(" ", msgid)
    for phrase in not_the_terms():
        text = text.replace(phrase, " ")
    return re.search(rf"(?<![\w-]){re.escape(term)}(?:s|es)?(?![\w-])", text, re.I) is not None


def messages(language: str) -> list[tuple[str, str]]:
    return [
        (m.id, m.string)
        for m in catalog(language)
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    ]


def test_the_glossary_has_a_table_per_language_with_the_same_terms():
    tables = glossary()
    assert set(tables) == {"es", "de"}
    assert tables["es"].keys() == tables["de"].keys()
    assert {"platform", "incident", "master case", "maintenance", "notice"} <= tables["es"].keys()
    assert tables["es"]["platform"] == ("plataforma",)
    assert tables["de"]["platform"] == ("plattform",)


@pytest.mark.parametrize("language", ["es", "de"])
def test_every_message_uses_the_glossarys_word_for_each_term(language):
    wrong = [
        f"{term!r}: {msgid!r} -> {msgstr!r}"
        for term, forms in glossary()[language].items()
        for msgid, msgstr in messages(language)
        if mentions(msgid, term) and not any(form in msgstr.lower() for form in forms)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", ["es", "de"])
def test_every_term_of_the_glossary_is_used_in_the_catalogs(language):
    unused = [
        term
        for term in glossary()[language]
        if not any(mentions(msgid, term) for msgid, _ in messages(language))
    ]
    assert not unused, unused


def test_a_message_that_strays_from_the_glossary_is_caught():
    """The check itself: "Productos afectados" for "Platforms affected" is refused."""
    forms = glossary()["es"]["platform"]
    assert mentions("Platforms affected", "platform")
    assert not any(form in "productos afectados" for form in forms)
    assert not mentions("%(platform)s history", "platform")  # a placeholder is no term
    assert not mentions("Maintenance at short notice", "notice")
