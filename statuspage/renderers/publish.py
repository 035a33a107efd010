"""What the calendars and feeds publish: rows turned into the pure builders' inputs.

UIDs and guids are derived from stored keys only, so they never change across requests or
restarts; every time stamp comes from stored last-modified times, never the render time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy.orm import Session

from calendars import feeds, ical
from statuspage import moments
from statuspage.i18n import version_of
from statuspage.links import with_language
from statuspage.models import (
    IncidentUpdate,
    MaintenanceSeries,
    MaintenanceWindow,
    Platform,
    Subscriber,
)
from statuspage.models.vocab import ORIGINAL_LANGUAGE
from statuspage.queries import publications
from statuspage.renderers import markdown
from statuspage.renderers.wording import labels, words


@dataclass(frozen=True)
class Site:
    name: str
    url: str  # base URL, no trailing slash
    timezone: str

    @property
    def host(self) -> str:
        return ical.host_of(self.url)


# Links in a calendar or feed open the site in its language: `?lang=` but for the default
# language (the site's English, which needs none).
DEFAULT_LANGUAGE = ORIGINAL_LANGUAGE


def in_language(url: str, language: str) -> str:
    """`url` opening in `language` (unchanged for the default language)."""
    return url if language == DEFAULT_LANGUAGE else with_language(url, language)


def window_text(site: Site, window: MaintenanceWindow, language: str = "en") -> ical.EventText:
    return _window_text(site, window, words(language), language)


# The phrases are looked up once per calendar, not once per event.
def _window_text(
    site: Site, window: MaintenanceWindow, w: dict[str, str], language: str = "en"
) -> ical.EventText:
    description = markdown.calendar_text(window.description)
    if window.urgency:
        description += f"\n\n{w['urgency']}: " + markdown.calendar_text(window.urgency)
    if window.note:
        description += f"\n\n{w['note']}: " + markdown.calendar_text(window.note)
    if window.release_notes:
        description += f"\n\n{w['maintenance_release_notes']}: " + markdown.calendar_text(
            window.release_notes
        )
    return ical.EventText(
        summary=window.title + ("" if window.has_impact else f" ({w['no_impact_short']})"),
        platforms=tuple(p.name for p in window.platforms),
        description=description.strip(),
        justification=markdown.calendar_text(window.justification),
        url=in_language(f"{site.url}/maintenance/{window.id}", language),
        labels=_labels(w),
    )


def series_text(site: Site, series: MaintenanceSeries, language: str = "en") -> ical.EventText:
    return _series_text(site, series, words(language), language)


def _series_text(
    site: Site, series: MaintenanceSeries, w: dict[str, str], language: str = "en"
) -> ical.EventText:
    return ical.EventText(
        summary=series.title + (f" ({w['no_impact_short']})" if series.impact == "none" else ""),
        platforms=tuple(p.name for p in series.platforms),
        description=markdown.calendar_text(series.description),
        justification=markdown.calendar_text(series.justification),
        url=in_language(f"{site.url}/maintenance", language),
        labels=_labels(w),
    )


def _labels(w: dict[str, str]) -> ical.Labels:
    return ical.Labels(platforms=w["platforms"], justification=w["justification"])


def series_uid(site: Site, series: MaintenanceSeries) -> str:
    return ical.series_uid(series.key, site.host)


def window_uid(site: Site, window: MaintenanceWindow) -> str:
    return ical.window_uid(window.id, site.host)


def maintenance_calendar(
    session: Session, site: Site, platform: Platform | None = None, language: str = "en"
) -> bytes:
    """The public maintenance calendar, of every platform or of one, worded in `language`."""
    w = words(language)
    if platform is None:
        name = w["public_calendar_name"].format(site=site.name)
        description = w["public_calendar_description"]
        path = "/maintenance.ics"
    else:
        name = w["platform_calendar_name"].format(site=site.name, platform=platform.name)
        description = w["calendar_description"].format(platforms=platform.name)
        path = f"/platforms/{platform.slug}/maintenance.ics"
    info = ical.CalendarInfo(
        name=name,
        description=description,
        timezone=site.timezone,
        url=in_language(site.url + path, language),
    )
    return _calendar(session, site, info, None if platform is None else [platform], language)


def personal_calendar(
    session: Session,
    site: Site,
    subscriber: Subscriber,
    *,
    path: str,
    reminder: timedelta | None = None,
) -> bytes:
    """A subscriber's own calendar: the windows of the platforms whose maintenance notices
    they take, worded in their language, with a VALARM `reminder` before each event.

    `path` is the calendar's own (secret) address, named in its URL and SOURCE.
    """
    platforms = publications.maintenance_platforms_of(session, subscriber.id)
    w = words(subscriber.language)
    info = ical.CalendarInfo(
        name=w["calendar_name"].format(site=site.name),
        description=w["calendar_description"].format(
            platforms=", ".join(p.name for p in platforms) or "-"
        ),
        timezone=site.timezone,
        url=site.url + path,
        reminder=reminder,
    )
    return _calendar(session, site, info, platforms, subscriber.language)


def _calendar(
    session: Session,
    site: Site,
    info: ical.CalendarInfo,
    platforms: Collection[Platform] | None,
    language: str = "en",
) -> bytes:
    """The maintenance calendar of `platforms` (None: of every platform).

    A series is one RRULE event; its cancelled occurrences (and, in a calendar of some
    platforms, the occurrences narrowed to leave all of them out) are EXDATEs; occurrences
    staff changed are RECURRENCE-ID events with the series' UID. One-off windows are single
    events.
    """
    wanted = None if platforms is None else {p.id for p in platforms}
    w = words(language)

    def left_out(of: Iterable[Platform]) -> bool:
        return wanted is not None and wanted.isdisjoint(p.id for p in of)

    series_events: list[ical.SeriesEvent] = []
    for series in publications.calendar_series(session):
        if left_out(series.platforms):
            continue
        exdates: list[datetime] = []
        overrides: list[ical.Override] = []
        last_modified = series.updated_at
        for window in series.windows:
            if window.recurrence_id is None:
                continue
            recurrence_local = window.recurrence_id.astimezone(_zone(series))
            if window.status == "cancelled" or left_out(window.platforms):
                exdates.append(recurrence_local)
                last_modified = max(last_modified, window.updated_at)
            elif window.customised:
                overrides.append(
                    ical.Override(
                        recurrence_id=recurrence_local,
                        start=window.starts_at,
                        end=window.ends_at,
                        text=_window_text(site, window, w, language),
                        sequence=window.calendar_sequence,
                        last_modified=max(series.updated_at, window.updated_at),
                    )
                )
        series_events.append(
            ical.SeriesEvent(
                uid=series_uid(site, series),
                rule=series.rule,
                first_start=series.first_start.astimezone(_zone(series)),
                duration=timedelta(minutes=series.duration_minutes),
                text=_series_text(site, series, w, language),
                # Not a count of the EXDATEs: that falls when an occurrence is widened back.
                sequence=series.revision,
                last_modified=last_modified,
                created=series.created_at,
                exdates=exdates,
                overrides=overrides,
                transparent=series.impact == "none",
            )
        )

    singles = [
        ical.SingleEvent(
            uid=window_uid(site, window),
            start=window.starts_at,
            end=window.ends_at,
            text=_window_text(site, window, w, language),
            sequence=window.calendar_sequence,
            last_modified=window.updated_at,
            created=window.created_at,
            status="CANCELLED" if window.status == "cancelled" else "CONFIRMED",
            transparent=not window.has_impact,
        )
        for window in publications.calendar_singles(session, wanted)
    ]
    return ical.build_calendar(info, series_events, singles)


def _zone(series: MaintenanceSeries) -> ZoneInfo:
    return ZoneInfo(series.timezone)


# --- feeds ---------------------------------------------------------------------------


def _label(vocabulary: dict[str, str], value: str) -> str:
    return vocabulary.get(value) or value.replace("_", " ").capitalize()


def _moment(site: Site, value: datetime, language: str) -> str:
    """ "Fri, Dec 18, 2026, 22:00 MST · Sat, Dec 19, 05:00 UTC" (`statuspage.moments`)."""
    return moments.written(value, moments.Zones(site.timezone), language)


def _update_item(
    site: Site,
    update: IncidentUpdate,
    w: dict[str, str],
    vocabulary: dict[str, str],
    language: str = "en",
) -> feeds.FeedItem:
    """One timeline entry: the title and text in the feed's language where staff gave them
    (else the original, marked), and a correction's "edited" with its time."""
    incident = update.incident
    label = _label(vocabulary, update.status)
    prefix = f"{w['feed_master_case']} " if incident.is_master_case else ""
    title, title_original = version_of(incident.title, incident.title_translations, language)
    if title_original:
        title = f"{title} {w['original_note']}"
    text, text_original = version_of(update.body, update.body_translations, language)
    body = str(markdown.render(text)) or f"<p>{_escape(label)}</p>"
    if text_original:
        body = f"<p><em>{_escape(w['original_note'])}</em></p>{body}"
    if update.etr is not None:
        body += f"<p>{_escape(w['etr'])}: {_escape(_moment(site, update.etr, language))}</p>"
    if update.edited_at is not None:
        edited = _moment(site, update.edited_at, language)
        body += f"<p><em>{_escape(w['edited'])} {_escape(edited)}</em></p>"
    return feeds.FeedItem(
        guid=f"{site.url}/incidents/{incident.id}#update-{update.id}",
        title=f"{prefix}{title}: {label}",
        link=in_language(f"{site.url}/incidents/{incident.id}", language),
        html=body,
        published=update.display_at,
        updated=update.updated_at,
        categories=[ip.platform.name for ip in incident.platforms],
    )


def _window_item(
    site: Site,
    window: MaintenanceWindow,
    w: dict[str, str],
    vocabulary: dict[str, str],
    language: str = "en",
) -> feeds.FeedItem:
    text = _window_text(site, window, w, language)
    zones = moments.Zones(site.timezone)
    when = moments.span(window.starts_at, window.ends_at, zones, language)
    start_local = moments.texts(
        window.starts_at, moments.Zones(site.timezone, utc=False), language
    )[0]
    parts = [
        f"<p><strong>{_escape(when)}</strong></p>",
        f"<p>{_escape(w['platforms'])}: {_escape(', '.join(text.platforms))}</p>",
        str(markdown.render(window.description)),
    ]
    if window.justification:
        parts.append(
            f"<p>{_escape(w['justification'])}:</p>{markdown.render(window.justification)}"
        )
    if window.note:
        parts.append(f"<p>{_escape(w['note'])}:</p>{markdown.render(window.note)}")
    if window.release_notes:
        parts.append(
            f"<p>{_escape(w['maintenance_release_notes'])}:</p>"
            f"{markdown.render(window.release_notes)}"
        )
    status = _label(vocabulary, window.status)
    return feeds.FeedItem(
        guid=f"{site.url}/maintenance/{window.id}",
        title=f"{text.summary} ({status}): {start_local}",
        link=text.url,
        html="".join(parts),
        published=window.created_at,
        updated=window.updated_at,
        categories=list(text.platforms),
    )


def _escape(text: str) -> str:
    return str(escape(text))


def history_items(
    session: Session,
    site: Site,
    now: datetime,
    platform: Platform | None = None,
    language: str = "en",
) -> list[feeds.FeedItem]:
    """Incident updates and maintenance with impact, newest first; the feed's own words
    (statuses, headings) in `language`, incident titles and texts in `language` where staff
    gave a version in it (else the original, marked), windows' text as written."""
    w, vocabulary = words(language), labels(language)
    items = [
        _update_item(site, u, w, vocabulary, language)
        for u in publications.feed_updates(session, platform)
    ]
    items += [
        _window_item(site, window, w, vocabulary, language)
        for window in publications.windows_for_feed(session, now, platform, with_impact_only=True)
    ]
    return sorted(items, key=lambda i: (i.published, i.guid), reverse=True)


def maintenance_items(
    session: Session,
    site: Site,
    now: datetime,
    platform: Platform | None = None,
    language: str = "en",
) -> list[feeds.FeedItem]:
    """Recent and upcoming maintenance windows, newest first, worded in `language`."""
    w, vocabulary = words(language), labels(language)
    windows = publications.windows_for_feed(session, now, platform, with_impact_only=False)
    windows.sort(key=lambda window: (window.starts_at, window.id), reverse=True)
    return [_window_item(site, window, w, vocabulary, language) for window in windows]
