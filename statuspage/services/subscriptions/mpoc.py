"""The import of an organisation's MPOC contact list (CSV): its contacts are confirmed by
the import; a bad row is reported and never stops the good ones. Only CSS staff import, on
the staff page or at the command line; audited."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import Subscriber, Subscription, User
from statuspage.models.vocab import P1G_ROLES
from statuspage.services import audit, text
from statuspage.services.errors import Errors, Message, PermissionDenied, ValidationError
from statuspage.services.subscriptions.validation import (
    NAME_MAX,
    ORGANISATION_MAX,
    TOPICS,
    check_language,
    checked_email,
    platforms_by_slug,
)

IMPORT_COLUMNS = ("email", "name", "organisation", "platforms", "topics", "language")


class RowProblem(str):
    """What is wrong with one row of a contact list: `field: message; ...` in English (the
    command line, logs) that keeps each field's `Message`, so a page can word it in the
    reader's language."""

    fields: dict[str, str]

    def __new__(cls, fields: Mapping[str, str]) -> RowProblem:
        self = super().__new__(cls, "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = dict(fields)
        return self


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, RowProblem)
    # Each good row's line number -> "created" or "updated" (what the staff preview lists).
    outcomes: dict[int, str] = field(default_factory=dict)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def _split(errors: Errors, field: str, value: str | None) -> list[str]:
    """A `;`-separated cell as a list, refusing more than LIST_MAX entries before reading them."""
    raw = (value or "").split(";", text.LIST_MAX)
    if len(raw) > text.LIST_MAX:
        errors.add(field, N_("at most %(count)d entries"), count=text.LIST_MAX)
        return []
    return text.unique(v.strip().lower() for v in raw if v.strip())


def read_csv(stream: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of an MPOC CSV with their line numbers; raises ValidationError for a bad header."""
    reader = csv.DictReader(stream)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("email", "platforms") if c not in header]
    if missing:
        raise ValidationError(
            {
                "file": Message(
                    N_("missing column(s): %(missing)s; expected %(expected)s"),
                    missing=", ".join(missing),
                    expected=", ".join(IMPORT_COLUMNS),
                )
            }
        )
    reader.fieldnames = header
    try:
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}
    except csv.Error as exc:  # a field over the csv module's size limit, a broken quote
        raise ValidationError(
            {"file": Message(N_("line %(line)d: %(error)s"), line=reader.line_num, error=str(exc))}
        ) from None


def import_contacts(
    session: Session,
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    actor: User | None,
    organisation: str = "",
    timezone: str = "America/Denver",
    now: datetime,
    progress: Callable[[int], None] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Create or update confirmed subscribers from MPOC rows; collect per-row errors (an
    address mail cannot reach, such as one whose part before the @ is not ASCII, is one).

    Only CSS staff (`css`, `admin`) import; `actor` None is the operator at the command line
    (trusted, audited as "cli"). The import is recorded in the audit log with its counts.
    `dry_run` checks every row and counts what would be created or updated, writing nothing
    (the staff page's preview before the import).
    """
    if actor is not None and actor.role not in P1G_ROLES:
        raise PermissionDenied("only CSS staff may import MPOC contacts")
    organisation = text.checked("organisation", organisation)
    platforms = platforms_by_slug(session)
    existing = {s.address: s for s in session.scalars(select(Subscriber))}
    result = ImportResult()
    planned: set[str] = set()  # a dry run's addresses so far (a repeated row updates)
    for count, (line, row) in enumerate(rows, start=1):
        if progress:
            progress(count)
        errors = Errors()
        address = checked_email(errors, row.get("email", ""))
        slugs = _split(errors, "platforms", row.get("platforms"))
        # Shown back to staff (page or terminal): a control character is shown escaped.
        unknown = [s if text.is_clean(s) else ascii(s) for s in slugs if s not in platforms]
        if not slugs:
            errors.add("platforms", N_("no platform given"))
        elif unknown:
            errors.add(
                "platforms", N_("unknown platform(s): %(names)s"), names=", ".join(unknown)[:200]
            )
        topics = _split(errors, "topics", row.get("topics")) or list(TOPICS)
        if any(t not in TOPICS for t in topics):
            errors.add("topics", N_("topics must be incidents and/or maintenance"))
        language = (row.get("language") or "en").lower()
        check_language(errors, language)
        name = row.get("name", "")
        org = row.get("organisation", "") or organisation
        if len(name) > NAME_MAX:
            errors.add("name", N_("must be at most %(max)d characters"), max=NAME_MAX)
        if len(org) > ORGANISATION_MAX:
            errors.add(
                "organisation", N_("must be at most %(max)d characters"), max=ORGANISATION_MAX
            )
        text.check(errors, "name", name)
        text.check(errors, "organisation", org)
        if errors.errors:
            result.errors.append((line, RowProblem(errors.errors)))
            continue
        subscriber = existing.get(address)
        result.outcomes[line] = "updated" if subscriber or address in planned else "created"
        if dry_run:
            planned.add(address)
            result.created += result.outcomes[line] == "created"
            result.updated += result.outcomes[line] == "updated"
            continue
        if subscriber is None:
            subscriber = Subscriber(
                address=address, token_version=0, created_at=now, timezone=timezone
            )
            session.add(subscriber)
            existing[address] = subscriber
            result.created += 1
        else:
            result.updated += 1
        subscriber.name = name or subscriber.name
        subscriber.organisation = org or subscriber.organisation
        subscriber.language = language
        subscriber.source = "import"
        subscriber.confirmed_at = subscriber.confirmed_at or now
        subscriber.updated_at = now
        current = {s.platform_id: s for s in subscriber.subscriptions if s.platform_id}
        for slug in slugs:
            platform = platforms[slug]
            sub = current.get(platform.id)
            if sub is None:
                sub = Subscription(platform_id=platform.id, created_at=now)
                subscriber.subscriptions.append(sub)
                current[platform.id] = sub
            sub.incidents = "incidents" in topics
            sub.maintenance = "maintenance" in topics
            sub.confirmed_at = sub.confirmed_at or now
    if dry_run:
        return result
    session.flush()
    audit.record(
        session,
        actor,
        "subscribers.import",
        result,
        before=None,
        after={
            "created": result.created,
            "updated": result.updated,
            "errors": len(result.errors),
            "organisation": organisation,
        },
        label="cli",
        now=now,
    )
    return result
