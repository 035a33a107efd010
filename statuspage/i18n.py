"""Locale and time zone of the reader: `?lang=`, then the `lang` cookie, then Accept-Language.

A shared read (a published page for an anonymous reader, `views.caching`) skips the cookie:
the page is cached and served to everyone who asks for the same URL and Accept-Language, so
its language must come from those alone. Its links carry a `?lang=` on instead
(`templating.carried_language`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import flask_babel
from babel.support import NullTranslations, Translations
from flask import current_app, has_app_context, request

from statuspage.models.vocab import ORIGINAL_LANGUAGE
from statuspage.reader import shared_read

# The package's catalogs (BABEL_TRANSLATION_DIRECTORIES); `make` compiles them.
TRANSLATIONS_DIR = os.path.join(os.path.dirname(__file__), "translations")


def select_locale() -> str | None:
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted not in languages and not shared_read():
        wanted = request.cookies.get("lang")
    if wanted in languages:
        return wanted
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    zone: str = current_app.config["STATUSPAGE_TIMEZONE"]
    return zone


@contextmanager
def language(code: str) -> Iterator[Callable[..., str]]:
    """`gettext` in `code` rather than the reader's language: mail (rendered in jobs, inside
    an app context, through Flask-Babel's `force_locale`) and text built for one subscriber.
    Outside an app (a script, a unit test) the same catalogs are read from the package."""
    if has_app_context():
        if code not in current_app.config["LANGUAGES"]:
            code = current_app.config["BABEL_DEFAULT_LOCALE"]
        with flask_babel.force_locale(code):
            yield flask_babel.gettext
        return
    catalog = _catalog(code)

    def gettext(message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        return text % variables if variables else text

    yield gettext


@lru_cache(maxsize=8)
def _catalog(code: str) -> NullTranslations:
    return Translations.load(TRANSLATIONS_DIR, [code])


def N_(message: str) -> str:
    """Marks a word for the catalogs (`pybabel extract`) where it is defined; it is translated
    where it is shown, with `gettext` in the reader's language."""
    return message


# The support plan's chat hours (SUPPORT_CHAT_HOURS' default), shown in every footer: a
# catalog message, so a page in another language shows them in its words.
DEFAULT_CHAT_HOURS = N_("M-F 5 AM to 12 AM MT, S/Su 8 AM to 5 PM")

# Beside staff-written text shown in its original language to a reader of another one (no
# version in theirs was given). The original is English (`models.vocab.ORIGINAL_LANGUAGE`).
ORIGINAL_NOTE = N_("(original in English)")
# Beside an update whose text staff corrected after posting it.
EDITED_NOTE = N_("edited")
ORIGINAL = ORIGINAL_LANGUAGE


def version_of(original: str, versions: Any, language: str) -> tuple[str, bool]:
    """The reader's version of a staff-written text and whether it is the original shown to
    a reader of another language (then marked with ORIGINAL_NOTE). `versions` maps a
    language to its text ({"es": ..., "de": ...}); anything else counts as none. Pure, for
    every renderer: pages, feeds, mail, cards."""
    if language == ORIGINAL:
        return original, False
    found = versions.get(language) if isinstance(versions, dict) else None
    if isinstance(found, str) and found.strip():
        return found, False
    return original, bool(original.strip())


# The closed vocabularies (models.vocab) as readers see them; `humanize` translates them.
VOCABULARY_LABELS = {
    # platform statuses
    "operational": N_("Operational"),
    "under_maintenance": N_("Under maintenance"),
    "degraded_performance": N_("Degraded performance"),
    "partial_outage": N_("Partial outage"),
    "major_outage": N_("Major outage"),
    # impacts
    "none": N_("None"),
    "minor": N_("Minor"),
    "major": N_("Major"),
    "critical": N_("Critical"),
    "maintenance": N_("Maintenance"),
    # incident statuses
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
    "postmortem": N_("Postmortem"),
    # maintenance window statuses
    "scheduled": N_("Scheduled"),
    "in_progress": N_("In progress"),
    "verifying": N_("Verifying"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}
# The Client Support Plan's priority labels (models.vocab.PRIORITIES).
PRIORITY_LABELS = [
    N_("Priority 1G (Global)"),
    N_("Priority 1"),
    N_("Priority 2"),
    N_("Priority 3"),
    N_("Priority 4"),
]
# The rest of the plan's priority table (models.vocab.PRIORITIES), shown on /help and as
# each incident's promise.
PRIORITY_TABLE = [
    N_("A single issue affecting multiple organisations (master case)"),
    N_("A platform-wide outage affecting several customers"),
    N_("Immediate"),
    N_("Hourly"),
    N_("Total impairment of critical services affecting an entire site"),
    N_("Circuit is down resulting in loss of service"),
    N_("15 min"),
    N_("Hourly/As Requested"),
    N_("Partial/intermittent impairment of critical services affecting multiple users"),
    N_("Intermittent drop while transferring calls"),
    N_("30 min"),
    N_("2 hours"),
    N_(
        "Impairment of non-critical services for multiple users or total impairment of "
        "services for a single user"
    ),
    N_("Presence not showing correctly for multiple users/phone not registering for a single user"),
    N_("4 hours"),
    N_("1 Business Day"),
    N_("Impairment of non-critical services for a single user"),
    N_("Message Waiting Light not functioning for a single user"),
    N_("2 Business Days"),
]
