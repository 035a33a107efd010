"""Fixed phrases by key for text built in code (the calendars' chrome in `publish`, the
notice headings of `renderers.mail`), read from the one set of catalogs
(statuspage/translations) like every page and email.

The maintenance vocabulary follows the support plan's own translations; add a phrase here
with `N_`, then `make catalogs` and translate it in each `messages.po`.
"""

from __future__ import annotations

from statuspage.i18n import N_, VOCABULARY_LABELS, language

PHRASES: dict[str, str] = {
    "incident_created": N_("New incident"),
    "incident_updated": N_("Incident update"),
    "incident_resolved": N_("Incident resolved"),
    "maintenance_week_before": N_("Maintenance in one week"),
    "maintenance_day_before": N_("Maintenance in 24 hours"),
    "maintenance_start": N_("Maintenance has started"),
    "maintenance_completion": N_("Maintenance completed"),
    "maintenance_rescheduled": N_("Maintenance rescheduled"),
    "maintenance_cancelled": N_("Maintenance cancelled"),
    "maintenance_narrowed": N_("Maintenance narrowed"),
    "maintenance_no_longer_affected": N_("Maintenance no longer affects you"),
    "maintenance_release_notes": N_("Release notes"),
    "maintenance_scheduled": N_("Unscheduled maintenance"),
    "maintenance_short_notice": N_("Maintenance at short notice"),
    "subscription_confirm": N_("Confirm your subscription"),
    "p1g_overdue": N_("P1G update overdue"),
    "master_case": N_("Master case P1G"),
    "feed_master_case": N_("[Master case]"),
    "etr": N_("Estimated time of resolution"),
    "case_number": N_("Case number"),
    "status": N_("Status"),
    "priority": N_("Priority"),
    "when": N_("Date and time"),
    "previously": N_("Previously"),
    "platforms": N_("Platforms affected"),
    "removed_platforms": N_("No longer affected"),
    "started": N_("Started"),
    "completed": N_("Completed"),
    "description": N_("Description of the work"),
    "justification": N_("Justification"),
    "urgency": N_("Why it cannot wait"),
    "note": N_("Note"),
    "release_notes": N_("Added features and functionality"),
    "no_impact": N_("No customer impact is expected."),
    "no_impact_short": N_("no customer impact"),
    "details": N_("Details"),
    "manage": N_("Manage your subscription"),
    "unsubscribe": N_("Unsubscribe"),
    "your_time": N_("your time"),
    "original_note": N_("(original in English)"),
    "edited": N_("edited"),
    "calendar_name": N_("{site}: maintenance of your platforms"),
    "public_calendar_name": N_("{site} maintenance"),
    "platform_calendar_name": N_("{site}: {platform} maintenance"),
    "public_calendar_description": N_("Scheduled and unscheduled maintenance windows"),
    "calendar_description": N_("Scheduled and unscheduled maintenance windows of {platforms}"),
}

# An incident's status as a word inside a sentence of a notice.
STATUS_WORDS: dict[str, str] = {
    "investigating": N_("investigating"),
    "identified": N_("identified"),
    "monitoring": N_("monitoring"),
    "resolved": N_("resolved"),
    "postmortem": N_("postmortem"),
}


def words(lang: str) -> dict[str, str]:
    """Every phrase in `lang` (English for a language without a catalog)."""
    with language(lang) as gettext:
        return {key: gettext(message) for key, message in PHRASES.items()}


def status_word(status: str, lang: str) -> str:
    with language(lang) as gettext:
        return gettext(STATUS_WORDS[status]) if status in STATUS_WORDS else status.replace("_", " ")


def labels(lang: str) -> dict[str, str]:
    """Every vocabulary word (statuses, impacts) in `lang`, capitalised as a label."""
    with language(lang) as gettext:
        return {key: gettext(message) for key, message in VOCABULARY_LABELS.items()}
