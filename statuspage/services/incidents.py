"""Incidents and master cases (P1G): creation, timeline updates, resolution, designation.

Rules enforced here:
- only CSS staff (`css`, `admin`) may open, designate or remove a master case (P1G), and a
  master case carries its support case number;
- a master case is CSS's: only CSS staff change anything about it (title, impact, case
  numbers, status, platforms, its timeline, deleting it; an engineer may read it and post
  nothing to it, not even plain text, see `roles`), and only they may change the status of
  a platform an open master case holds (see `platforms.check_incident_change`), whichever
  incident an engineer changes to do it;
- a platform is in the worst status any open incident puts it in, and returns to
  `operational` when nothing holds it any more;
- an incident with an update interval (P1G hourly) has a next-update-due time;
- an update may give an estimated time of resolution (ETR) instead of scheduled updates: it
  lies after the update's time, on an open incident, and the next update is due at it;
- an ETR carries forward: an update that gives none keeps the standing one while it lies
  ahead (one that has passed lapses, and the priority's clock resumes); only `clear_etr`
  removes it on purpose;
- a title and an update's text may carry versions in the site's other languages
  (`TRANSLATED_LANGUAGES`) beside the original; staff add them when posting or later;
- a posted update's text (the original and its versions) can be corrected, and nothing else
  of it: the change is audited with before and after, a change to text readers could already
  see marks the update edited, and subscribers are told again only when staff ask for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import (
    Incident,
    IncidentPlatform,
    IncidentUpdate,
    IncidentUpdatePlatform,
    Platform,
    User,
)
from statuspage.models.vocab import (
    IMPACTS,
    INCIDENT_STATUSES,
    OPEN_INCIDENT_STATUSES,
    PLATFORM_STATUSES,
    PRIORITIES,
    TRANSLATED_LANGUAGES,
)
from statuspage.services import audit, notices, roles, text
from statuspage.services import platforms as platform_service
from statuspage.services.errors import (
    Conflict,
    Errors,
    Message,
    NotFound,
    ValidationError,
    get_or_404,
    row_id,
)

TITLE_MAX = 200
BODY_MAX = 20_000
CASE_NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
CUSTOMER_CASES_MAX = 100


def can_manage_p1g(user: User) -> bool:
    """Only CallTower CSS designate, remove and change master cases (Client Support Plan)."""
    return roles.may(user, "master_case.change")


def may_change(user: User, incident: Incident) -> bool:
    """Whether `user` may change `incident` at all (a master case is CSS's): the staff pages
    offer its forms only then."""
    return not incident.is_master_case or roles.may(user, "master_case.change")


def snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "title_translations": dict(incident.title_translations or {}),
        "impact": incident.impact,
        "priority": incident.priority,
        "status": incident.status,
        "case_number": incident.case_number,
        "customer_case_numbers": list(incident.customer_case_numbers or []),
        "platforms": {ip.platform.slug: ip.status for ip in incident.platforms},
    }


def get(session: Session, incident_id: int | str) -> Incident:
    return get_or_404(session, Incident, incident_id)


def parse_case_numbers(value: str | Iterable[str] | None) -> list[str]:
    """Accept "A-1, A-2" or ["A-1", "A-2"]; keep order, drop blanks and repeats.

    More than CUSTOMER_CASES_MAX items is refused before any is looked at, and repeats are
    dropped in linear time, so the cost of a request is bounded whatever it sends.
    """
    if value is None:
        return []
    if isinstance(value, str):
        if len(value) > CUSTOMER_CASES_MAX * 66:
            raise ValidationError(
                {
                    "customer_case_numbers": Message(
                        N_("at most %(count)d case numbers"), count=CUSTOMER_CASES_MAX
                    )
                }
            )
        # Blanks around the separators are no case numbers and do not count against the limit.
        value = [part for part in re.split(r"[,;\s]+", value) if part]
    items = text.bounded("customer_case_numbers", value, CUSTOMER_CASES_MAX, what="case numbers")
    return text.unique(c for c in (str(item).strip() for item in items) if c)


def _check_fields(
    errors: Errors,
    *,
    title: str | None = None,
    body: str | None = None,
    impact: str | None = None,
    priority: str | None = None,
    status: str | None = None,
    case_number: str | None = None,
    customer_case_numbers: list[str] | None = None,
) -> None:
    if title is not None and not (1 <= len(title.strip()) <= TITLE_MAX):
        errors.add("title", N_("is required and must be at most %(max)d characters"), max=TITLE_MAX)
    text.check(errors, "title", title)
    if body is not None and len(body) > BODY_MAX:
        errors.add("body", N_("must be at most %(max)d characters"), max=BODY_MAX)
    if impact is not None and impact not in IMPACTS:
        errors.add("impact", N_("must be one of %(choices)s"), choices=", ".join(IMPACTS))
    if priority is not None and priority not in PRIORITIES:
        errors.add("priority", N_("must be one of %(choices)s"), choices=", ".join(PRIORITIES))
    if status is not None and status not in INCIDENT_STATUSES:
        errors.add("status", N_("must be one of %(choices)s"), choices=", ".join(INCIDENT_STATUSES))
    if case_number and not CASE_NUMBER_RE.fullmatch(case_number):
        errors.add("case_number", N_("must be letters, digits, '.', '_', '/' or '-', up to 64"))
    if customer_case_numbers is not None:
        if len(customer_case_numbers) > CUSTOMER_CASES_MAX:
            errors.add(
                "customer_case_numbers",
                N_("at most %(count)d case numbers"),
                count=CUSTOMER_CASES_MAX,
            )
        elif any(not CASE_NUMBER_RE.fullmatch(c) for c in customer_case_numbers):
            errors.add(
                "customer_case_numbers",
                N_("each must be letters, digits, '.', '_', '/' or '-', up to 64"),
            )


def _translations(
    errors: Errors,
    field: str,
    versions: Mapping[str, str | None] | None,
    *,
    multiline: bool,
    limit: int,
) -> dict[str, str | None] | None:
    """The versions of a text in the other languages, {language: text or None to remove},
    each held to the original's rules; errors under `<field>_<language>` (`title_es`)."""
    if versions is None:
        return None
    if not isinstance(versions, Mapping):
        errors.add(f"{field}_translations", N_("must map a language to its text"))
        return None
    result: dict[str, str | None] = {}
    for language, value in versions.items():
        if language not in TRANSLATED_LANGUAGES:
            errors.add(
                f"{field}_translations",
                N_("languages are %(choices)s"),
                choices=", ".join(TRANSLATED_LANGUAGES),
            )
            continue
        name = f"{field}_{language}"
        value = text.check(errors, name, value, multiline=multiline)
        if value is not None and not isinstance(value, str):
            continue
        cleaned = (value or "").strip() if not multiline else (value or "")
        if len(cleaned) > limit:
            errors.add(name, N_("must be at most %(max)d characters"), max=limit)
        result[language] = cleaned if cleaned.strip() else None
    return result


def _merged(current: Mapping[str, str] | None, changes: Mapping[str, str | None]) -> dict[str, str]:
    """`current` versions with `changes` applied (None removes a language)."""
    merged = dict(current or {})
    for language, value in changes.items():
        if value is None:
            merged.pop(language, None)
        else:
            merged[language] = value
    return merged


def _check_etr(errors: Errors, etr: datetime | None, status: str, now: datetime) -> None:
    """An ETR is a moment after the update that gives it, for an incident still open."""
    if etr is None:
        return
    if etr.tzinfo is None:
        errors.add("etr", N_("needs a time zone"))
    elif etr <= now:
        errors.add("etr", N_("must be after the time of the update"))
    elif status not in OPEN_INCIDENT_STATUSES:
        errors.add("etr", N_("only an open incident has an estimated time of resolution"))


def _resolve_platforms(
    session: Session, errors: Errors, platform_statuses: Mapping[Any, str] | None
) -> dict[Platform, str]:
    """Map {platform id or slug: status} to platforms, reporting unknown ids and statuses."""
    if not platform_statuses:
        return {}
    if len(platform_statuses) > text.LIST_MAX:
        errors.add("components", N_("at most %(count)d components"), count=text.LIST_MAX)
        return {}
    resolved: dict[Platform, str] = {}
    for key, status in platform_statuses.items():
        platform = None
        if row_id(key) is not None:
            platform = session.get(Platform, row_id(key))
        elif isinstance(key, str) and text.is_clean(key):
            platform = session.scalar(select(Platform).where(Platform.slug == key))
        if platform is None:
            errors.add("components", N_("unknown platform %(name)r"), name=str(key)[:64])
            continue
        if status not in PLATFORM_STATUSES:
            errors.add(
                "components",
                N_("status must be one of %(choices)s"),
                choices=", ".join(PLATFORM_STATUSES),
            )
            continue
        resolved[platform] = status
    return resolved


def _apply_status(incident: Incident, status: str, now: datetime) -> None:
    if status == "monitoring" and incident.monitoring_at is None:
        incident.monitoring_at = now
    if status in ("resolved", "postmortem"):
        if incident.resolved_at is None:
            incident.resolved_at = now
    else:
        incident.resolved_at = None
    incident.status = status


def _apply_platforms(
    session: Session, incident: Incident, statuses: Mapping[Platform, str]
) -> None:
    current = {ip.platform_id: ip for ip in incident.platforms}
    for platform, status in statuses.items():
        if platform.id in current:
            current[platform.id].status = status
        else:
            incident.platforms.append(IncidentPlatform(platform=platform, status=status))
    session.flush()


def _record_update(
    session: Session,
    actor: User | None,
    incident: Incident,
    *,
    status: str,
    body: str,
    deliver_notifications: bool,
    touched: Iterable[int],
    first: bool = False,
    etr: datetime | None = None,
    body_translations: Mapping[str, str] | None = None,
    now: datetime,
) -> IncidentUpdate:
    changes = platform_service.refresh_statuses(session, touched, now)
    update = IncidentUpdate(
        incident=incident,
        status=status,
        body=body,
        body_translations=dict(body_translations or {}),
        author_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
        display_at=now,
        deliver_notifications=deliver_notifications,
        etr=etr,
    )
    for platform_id, (old, new) in sorted(changes.items()):
        update.platform_changes.append(
            IncidentUpdatePlatform(platform_id=platform_id, old_status=old, new_status=new)
        )
    session.add(update)
    incident.updated_at = now
    session.flush()
    if deliver_notifications:
        notices.incident_notice(session, incident, update, first=first, now=now)
    return update


def create_incident(
    session: Session,
    actor: User,
    *,
    title: str,
    body: str = "",
    status: str = "investigating",
    impact: str = "none",
    priority: str = "P3",
    platform_statuses: Mapping[Any, str] | None = None,
    case_number: str | None = None,
    customer_case_numbers: Iterable[str] | str | None = None,
    deliver_notifications: bool = True,
    etr: datetime | None = None,
    title_translations: Mapping[str, str | None] | None = None,
    body_translations: Mapping[str, str | None] | None = None,
    now: datetime,
) -> Incident:
    """Open an incident with its first timeline entry and put its platforms in their status.

    A P1G (master case) needs a CSS actor and a support case number. The first entry may
    give an ETR (after `now`). The title and the first entry's text may come with their
    versions in the other languages.
    """
    errors = Errors()
    body = text.check(errors, "body", body, multiline=True) or ""
    titles = _translations(errors, "title", title_translations, multiline=False, limit=TITLE_MAX)
    bodies = _translations(errors, "body", body_translations, multiline=True, limit=BODY_MAX)
    cases = parse_case_numbers(customer_case_numbers)
    case_number = (case_number or "").strip() or None
    _check_fields(
        errors,
        title=title,
        body=body,
        impact=impact,
        priority=priority,
        status=status,
        case_number=case_number,
        customer_case_numbers=cases,
    )
    if status == "postmortem":
        errors.add("status", N_("a new incident cannot start in postmortem"))
    _check_etr(errors, etr, status, now)
    if priority == "P1G" and not case_number:
        errors.add("case_number", N_("a master case (P1G) needs its support case number"))
    statuses = _resolve_platforms(session, errors, platform_statuses)
    errors.raise_if_any()
    if priority == "P1G":
        roles.require(actor, "master_case.open")
    platform_service.check_incident_change(
        session,
        actor,
        incident_id=None,
        after={p.id: s for p, s in statuses.items()} if status in OPEN_INCIDENT_STATUSES else {},
        touched=[p.id for p in statuses],
    )

    incident = Incident(
        title=title.strip(),
        title_translations=_merged({}, titles or {}),
        impact=impact,
        priority=priority,
        status=status,
        case_number=case_number,
        customer_case_numbers=cases,
        created_at=now,
        updated_at=now,
        started_at=now,
        created_by_id=actor.id,
    )
    _apply_status(incident, status, now)
    session.add(incident)
    _apply_platforms(session, incident, statuses)
    _record_update(
        session,
        actor,
        incident,
        status=status,
        body=body,
        deliver_notifications=deliver_notifications,
        touched=[p.id for p in statuses],
        first=True,
        etr=etr,
        body_translations=_merged({}, bodies or {}),
        now=now,
    )
    audit.record(
        session, actor, "incident.create", incident, before=None, after=snapshot(incident), now=now
    )
    return incident


def post_update(
    session: Session,
    actor: User,
    incident: Incident,
    *,
    status: str | None = None,
    body: str = "",
    platform_statuses: Mapping[Any, str] | None = None,
    deliver_notifications: bool = True,
    etr: datetime | None = None,
    clear_etr: bool = False,
    body_translations: Mapping[str, str | None] | None = None,
    now: datetime,
) -> IncidentUpdate:
    """Add a timeline entry; change the incident's status and its platforms' statuses.

    Resolving releases the incident's platforms: each returns to `operational` unless another
    open incident holds it. Postmortem follows resolution only. An entry may give an ETR
    (after `now`, while open): the next update is then due at it, not after the interval.
    An entry that gives none keeps the standing ETR while it lies ahead; `clear_etr` removes
    it. The text may come with its versions in the other languages.
    """
    if incident.is_master_case:
        # Each entry is the master case's hourly update and resets its clock: CSS's to post.
        roles.require(actor, "master_case.change")
    errors = Errors()
    body = text.check(errors, "body", body, multiline=True) or ""
    bodies = _translations(errors, "body", body_translations, multiline=True, limit=BODY_MAX)
    status = status or incident.status
    _check_fields(errors, body=body, status=status)
    if status == "postmortem" and incident.status not in ("resolved", "postmortem"):
        raise Conflict({"status": Message(N_("postmortem follows resolution"))})
    standing = incident.etr
    if clear_etr and etr is not None:
        errors.add("etr", N_("give an estimated time of resolution or clear it, not both"))
    _check_etr(errors, etr, status, now)
    etr_changed = (etr is not None and etr != standing) or (clear_etr and standing is not None)
    if not body.strip() and status == incident.status and not platform_statuses and not etr_changed:
        errors.add("body", N_("write what changed"))
    statuses = _resolve_platforms(session, errors, platform_statuses)
    errors.raise_if_any()
    after = {ip.platform_id: ip.status for ip in incident.platforms}
    after.update({p.id: s for p, s in statuses.items()})
    platform_service.check_incident_change(
        session,
        actor,
        incident_id=incident.id,
        after=after if status in OPEN_INCIDENT_STATUSES else {},
        touched=list(after),
    )

    if etr is None and not clear_etr and status in OPEN_INCIDENT_STATUSES:
        # Carried forward: the ETR stands until staff clear it or it passes.
        etr = standing if standing is not None and standing > now else None

    before = snapshot(incident)
    _apply_status(incident, status, now)
    _apply_platforms(session, incident, statuses)
    touched = {ip.platform_id for ip in incident.platforms}
    update = _record_update(
        session,
        actor,
        incident,
        status=status,
        body=body,
        deliver_notifications=deliver_notifications,
        touched=touched,
        etr=etr,
        body_translations=_merged({}, bodies or {}),
        now=now,
    )
    audit.record(
        session,
        actor,
        "incident.update",
        incident,
        before=before,
        after=snapshot(incident),
        now=now,
    )
    return update


def resolve(
    session: Session,
    actor: User,
    incident: Incident,
    *,
    body: str,
    now: datetime,
    deliver_notifications: bool = True,
    body_translations: Mapping[str, str | None] | None = None,
) -> IncidentUpdate:
    """Resolve an incident (a timeline entry with status `resolved`)."""
    return post_update(
        session,
        actor,
        incident,
        status="resolved",
        body=body,
        deliver_notifications=deliver_notifications,
        body_translations=body_translations,
        now=now,
    )


def edit_incident(
    session: Session,
    actor: User,
    incident: Incident,
    *,
    title: str | None = None,
    impact: str | None = None,
    priority: str | None = None,
    case_number: str | None = None,
    customer_case_numbers: Iterable[str] | str | None = None,
    title_translations: Mapping[str, str | None] | None = None,
    now: datetime,
) -> Incident:
    """Change an incident's title (and its versions in the other languages: a language
    given blank loses its version), impact, priority or case numbers (no timeline entry).

    Moving an incident into or out of P1G is designating or removing a master case; any
    change to a master case is CSS's.
    """
    if incident.is_master_case:
        roles.require(actor, "master_case.change")
    errors = Errors()
    titles = _translations(errors, "title", title_translations, multiline=False, limit=TITLE_MAX)
    cases = None if customer_case_numbers is None else parse_case_numbers(customer_case_numbers)
    if case_number is not None:
        case_number = case_number.strip()
    _check_fields(
        errors,
        title=title,
        impact=impact,
        priority=priority,
        case_number=case_number,
        customer_case_numbers=cases,
    )
    new_priority = priority or incident.priority
    new_case = incident.case_number if case_number is None else (case_number or None)
    if new_priority == "P1G" and not new_case:
        errors.add("case_number", N_("a master case (P1G) needs its support case number"))
    errors.raise_if_any()
    touches_p1g = (new_priority == "P1G") != incident.is_master_case
    if touches_p1g:
        roles.require(
            actor, "master_case.designate" if new_priority == "P1G" else "master_case.remove"
        )

    before = snapshot(incident)
    if title is not None:
        incident.title = title.strip()
    if titles is not None:
        incident.title_translations = _merged(incident.title_translations, titles)
    if impact is not None:
        incident.impact = impact
    incident.priority = new_priority
    incident.case_number = new_case
    if cases is not None:
        incident.customer_case_numbers = cases
    incident.updated_at = now
    action = "incident.edit"
    if touches_p1g:
        action = "incident.designate_p1g" if new_priority == "P1G" else "incident.remove_p1g"
    audit.record(session, actor, action, incident, before=before, after=snapshot(incident), now=now)
    session.flush()
    return incident


def update_snapshot(update: IncidentUpdate) -> dict[str, Any]:
    return {
        "update_id": update.id,
        "body": update.body,
        "body_translations": dict(update.body_translations or {}),
    }


def correct_update(
    session: Session,
    actor: User,
    update: IncidentUpdate,
    *,
    body: str | None = None,
    body_translations: Mapping[str, str | None] | None = None,
    notify: bool = False,
    now: datetime,
) -> IncidentUpdate:
    """Correct a posted update's text: the original (`body`, None keeps it) and its versions
    in the other languages (a language given blank loses its version). Nothing else of the
    update changes: its status, time, ETR and platforms stand as posted.

    The change is audited with the text before and after. Changing text readers could
    already see (the original, or a version that existed) marks the update edited at `now`;
    adding a version that was missing does not. With `notify`, the incident's subscribers
    are sent the corrected update (a notice of its own, marked as a correction); without it
    nobody is told. A master case's timeline is CSS's.
    """
    incident = update.incident
    if incident.is_master_case:
        roles.require(actor, "master_case.change")
    errors = Errors()
    new_body = text.check(errors, "body", body, multiline=True) if body is not None else None
    _check_fields(errors, body=new_body)
    bodies = _translations(errors, "body", body_translations, multiline=True, limit=BODY_MAX)
    errors.raise_if_any()
    before = update_snapshot(update)
    original = update.body if new_body is None else new_body
    versions = _merged(update.body_translations, bodies or {})
    if original == update.body and versions == (update.body_translations or {}):
        raise ValidationError({"body": Message(N_("change the text to correct it"))})
    if not original.strip() and update.body.strip():
        errors.add("body", N_("a correction cannot leave the text empty"))
        errors.raise_if_any()
    # Text readers could already see: the original and the versions that existed.
    seen = dict(update.body_translations or {})
    rewritten = original != update.body or any(
        versions.get(lang) != old for lang, old in seen.items()
    )
    update.body = original
    update.body_translations = versions
    update.updated_at = now
    if rewritten:
        update.edited_at = now
    incident.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "incident.correct_update",
        incident,
        before=before,
        after=update_snapshot(update),
        now=now,
    )
    if notify:
        notices.correction_notice(session, incident, update, now=now)
    return update


def get_update(session: Session, incident: Incident, update_id: int | str) -> IncidentUpdate:
    """One update of `incident` (a 404 for another incident's)."""
    found = get_or_404(session, IncidentUpdate, update_id)
    if found.incident_id != incident.id:
        raise NotFound(update_id)
    return found


def designate_p1g(
    session: Session,
    actor: User,
    incident: Incident,
    *,
    case_number: str,
    customer_case_numbers: Iterable[str] | str | None = None,
    now: datetime,
) -> Incident:
    """Make an incident a master case (CSS only)."""
    return edit_incident(
        session,
        actor,
        incident,
        priority="P1G",
        case_number=case_number,
        customer_case_numbers=customer_case_numbers,
        now=now,
    )


def remove_p1g(
    session: Session, actor: User, incident: Incident, *, priority: str = "P1", now: datetime
) -> Incident:
    """Turn a master case back into an ordinary incident of `priority` (CSS only)."""
    errors = Errors()
    if not incident.is_master_case:
        errors.add("priority", N_("this incident is not a master case"))
    elif priority == "P1G" or priority not in PRIORITIES:
        errors.add("priority", N_("choose the priority the incident keeps"))
    errors.raise_if_any()
    return edit_incident(session, actor, incident, priority=priority, now=now)


def delete_incident(session: Session, actor: User, incident: Incident, now: datetime) -> None:
    """Delete an incident and release its platforms. A master case needs CSS to delete."""
    if incident.is_master_case:
        roles.require(actor, "master_case.delete")
    touched = [ip.platform_id for ip in incident.platforms]
    platform_service.check_incident_change(
        session, actor, incident_id=incident.id, after={}, touched=touched
    )
    audit.record(
        session, actor, "incident.delete", incident, before=snapshot(incident), after=None, now=now
    )
    session.delete(incident)
    session.flush()
    platform_service.refresh_statuses(session, touched, now)
