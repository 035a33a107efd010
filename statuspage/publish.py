"""What the calendars and feeds publish: rows turned into the pure builders' inputs.

UIDs and guids are derived from stored keys only, so they never change across requests or
restarts; every time stamp comes from stored last-modified times, never the render time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy.orm import Session

from calendars import feeds, ical
from statuspage import markdown
from statuspage.models import (
    IncidentUpdate,
    MaintenanceSeries,
    MaintenanceWindow,
    Platform,
)
from statuspage.queries import publications


@dataclass(frozen=True)
class Site:
    name: str
    url: str  # base URL, no trailing slash
    timezone: str

    @property
    def host(self) -> str:
        return ical.host_of(self.url)


def window_text(site: Site, window: MaintenanceWindow) -> ical.EventText:
    description = markdown.calendar_text(window.description)
    if window.urgency:
        description += "\n\nWhy it cannot wait: " + markdown.calendar_text(window.urgency)
    if window.note:
        description += "\n\nNote: " + markdown.calendar_text(window.note)
    if window.release_notes:
        description += "\n\nRelease notes: " + markdown.calendar_text(window.release_notes)
    return ical.EventText(
        summary=window.title + (" (no customer impact)" if not window.has_impact else ""),
        platforms=tuple(p.name for p in window.platforms),
        description=description.strip(),
        justification=markdown.calendar_text(window.justification),
        url=f"{site.url}/maintenance/{window.id}",
    )


def series_text(site: Site, series: MaintenanceSeries) -> ical.EventText:
    return ical.EventText(
        summary=series.title + (" (no customer impact)" if series.impact == "none" else ""),
        platforms=tuple(p.name for p in series.platforms),
        description=markdown.calendar_text(series.description),
        justification=markdown.calendar_text(series.justification),
        url=f"{site.url}/maintenance",
    )


def series_uid(site: Site, series: MaintenanceSeries) -> str:
    return ical.series_uid(series.key, site.host)


def window_uid(site: Site, window: MaintenanceWindow) -> str:
    return ical.window_uid(window.id, site.host)


def maintenance_calendar(session: Session, site: Site, platform: Platform | None = None) -> bytes:
    """The maintenance calendar, of every platform or of one.

    A series is one RRULE event; its cancelled occurrences (and, in one platform's calendar,
    the occurrences narrowed to leave that platform out) are EXDATEs; occurrences staff
    changed are RECURRENCE-ID events with the series' UID. One-off windows are single events.
    """
    series_events: list[ical.SeriesEvent] = []
    for series in publications.calendar_series(session):
        if platform is not None and platform not in series.platforms:
            continue
        exdates: list[datetime] = []
        overrides: list[ical.Override] = []
        last_modified = series.updated_at
        for w in series.windows:
            if w.recurrence_id is None:
                continue
            recurrence_local = w.recurrence_id.astimezone(_zone(series))
            left_out = platform is not None and platform not in w.platforms
            if w.status == "cancelled" or left_out:
                exdates.append(recurrence_local)
                last_modified = max(last_modified, w.updated_at)
            elif w.customised:
                overrides.append(
                    ical.Override(
                        recurrence_id=recurrence_local,
                        start=w.starts_at,
                        end=w.ends_at,
                        text=window_text(site, w),
                        sequence=w.calendar_sequence,
                        last_modified=max(series.updated_at, w.updated_at),
                    )
                )
        series_events.append(
            ical.SeriesEvent(
                uid=series_uid(site, series),
                rule=series.rule,
                first_start=series.first_start.astimezone(_zone(series)),
                duration=timedelta(minutes=series.duration_minutes),
                text=series_text(site, series),
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
            uid=window_uid(site, w),
            start=w.starts_at,
            end=w.ends_at,
            text=window_text(site, w),
            sequence=w.calendar_sequence,
            last_modified=w.updated_at,
            created=w.created_at,
            status="CANCELLED" if w.status == "cancelled" else "CONFIRMED",
            transparent=not w.has_impact,
        )
        for w in publications.calendar_singles(session, platform)
    ]
    name = site.name + (f": {platform.name}" if platform else "") + " maintenance"
    info = ical.CalendarInfo(
        name=name,
        description="Scheduled and unscheduled maintenance windows"
        + (f" of {platform.name}" if platform else ""),
        timezone=site.timezone,
        url=f"{site.url}/platforms/{platform.slug}/maintenance.ics"
        if platform
        else f"{site.url}/maintenance.ics",
    )
    return ical.build_calendar(info, series_events, singles)


def _zone(series: MaintenanceSeries) -> ZoneInfo:
    return ZoneInfo(series.timezone)


# --- feeds ---------------------------------------------------------------------------


def _update_item(site: Site, update: IncidentUpdate) -> feeds.FeedItem:
    incident = update.incident
    label = update.status.replace("_", " ").capitalize()
    prefix = "[Master case] " if incident.is_master_case else ""
    body = str(markdown.render(update.body)) or f"<p>{label}</p>"
    return feeds.FeedItem(
        guid=f"{site.url}/incidents/{incident.id}#update-{update.id}",
        title=f"{prefix}{incident.title}: {label}",
        link=f"{site.url}/incidents/{incident.id}",
        html=body,
        published=update.display_at,
        updated=update.updated_at,
        categories=[ip.platform.name for ip in incident.platforms],
    )


def _window_item(site: Site, window: MaintenanceWindow) -> feeds.FeedItem:
    text = window_text(site, window)
    tz_local = window.starts_at.astimezone(ZoneInfo(site.timezone))
    end_local = window.ends_at.astimezone(ZoneInfo(site.timezone))
    when = (
        f"{tz_local:%Y-%m-%d %H:%M} {tz_local.tzname()} - {end_local:%Y-%m-%d %H:%M} "
        f"{end_local.tzname()} ({window.starts_at:%Y-%m-%d %H:%M} - "
        f"{window.ends_at:%Y-%m-%d %H:%M} UTC)"
    )
    parts = [
        f"<p><strong>{_escape(when)}</strong></p>",
        f"<p>Platforms affected: {_escape(', '.join(text.platforms))}</p>",
        str(markdown.render(window.description)),
    ]
    if window.justification:
        parts.append(f"<p>Justification:</p>{markdown.render(window.justification)}")
    if window.note:
        parts.append(f"<p>Note:</p>{markdown.render(window.note)}")
    if window.release_notes:
        parts.append(f"<p>Release notes:</p>{markdown.render(window.release_notes)}")
    status = window.status.replace("_", " ")
    return feeds.FeedItem(
        guid=f"{site.url}/maintenance/{window.id}",
        title=f"{text.summary} ({status}): {tz_local:%Y-%m-%d %H:%M} {tz_local.tzname()}",
        link=text.url,
        html="".join(parts),
        published=window.created_at,
        updated=window.updated_at,
        categories=list(text.platforms),
    )


def _escape(text: str) -> str:
    return str(escape(text))


def history_items(
    session: Session, site: Site, now: datetime, platform: Platform | None = None
) -> list[feeds.FeedItem]:
    """Incident updates and maintenance with impact, newest first."""
    items = [_update_item(site, u) for u in publications.feed_updates(session, platform)]
    items += [
        _window_item(site, w)
        for w in publications.windows_for_feed(session, now, platform, with_impact_only=True)
    ]
    return sorted(items, key=lambda i: (i.published, i.guid), reverse=True)


def maintenance_items(
    session: Session, site: Site, now: datetime, platform: Platform | None = None
) -> list[feeds.FeedItem]:
    """Recent and upcoming maintenance windows, newest first."""
    windows = publications.windows_for_feed(session, now, platform, with_impact_only=False)
    windows.sort(key=lambda w: (w.starts_at, w.id), reverse=True)
    return [_window_item(site, w) for w in windows]
