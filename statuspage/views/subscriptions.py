"""Public subscription pages: subscribe (by any channel), confirm (a link's button, or a code
typed), manage, unsubscribe. The channels and their address fields come from the registry
(`statuspage.channels`); what a page says of one channel is in its own templates
(`templates/channels/<name>/`).

The subscribe and manage forms report every mistake in one round: WTForms only checks the
form token (CSRF); the services validate every field at once and the page lists all their
messages in a summary at the top (each linking to its field) and beside each field.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3

from calendars import ical
from statuspage import channels, clock
from statuspage.channels.base import Channel
from statuspage.extensions import csrf, db, limiter
from statuspage.forms.subscriptions import (
    CodeForm,
    ConfirmForm,
    PreferencesForm,
    subscribe_form_class,
)
from statuspage.i18n import N_
from statuspage.queries import incidents as incident_queries
from statuspage.queries import platforms as platform_queries
from statuspage.renderers import publish
from statuspage.services import ValidationError
from statuspage.services.errors import whole_number
from statuspage.services.subscriptions import channel_signup, links, preferences, signup, validation
from statuspage.views.errors import http_error_response
from statuspage.views.feeds import CALENDAR_TYPE, site
from statuspage.views.helpers import apply_errors, commit, worded

if TYPE_CHECKING:
    from statuspage.models import Subscriber

bp = Blueprint("subscriptions", __name__)

# The pages whose address is a secret (a signed token) and that show the address subscribed:
# never kept by a browser or proxy, never indexed (a crawler that finds a link must not list
# it). The calendar and the page showing a new channel's manage link say so themselves.
SECRET_PAGES = (
    "subscriptions.confirm",
    "subscriptions.manage",
    "subscriptions.unsubscribe",
    "subscriptions.verify",
)
NOT_KEPT = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


@bp.after_request
def secret_pages(response: Response) -> Response:
    if request.endpoint in SECRET_PAGES:
        response.headers.update(NOT_KEPT)
    return response


# The zones this provider's customers use most, first in the list; MT is the default.
COMMON_ZONES = [
    ("America/Denver", _l("Mountain Time (MT)")),
    ("America/Phoenix", _l("Mountain Time, Arizona")),
    ("America/Chicago", _l("Central Time")),
    ("America/New_York", _l("Eastern Time")),
    ("America/Los_Angeles", _l("Pacific Time")),
    ("America/Anchorage", _l("Alaska Time")),
    ("Pacific/Honolulu", _l("Hawaii Time")),
    ("America/Mexico_City", _l("Mexico City")),
    ("Europe/London", _l("United Kingdom")),
    ("Europe/Madrid", _l("Spain")),
    ("Europe/Berlin", _l("Germany")),
    ("UTC", _l("Coordinated Universal Time")),
]
# The tz database's regions; its other names (US/Mountain, EST5EDT...) are old aliases that
# the server still accepts but the list does not offer.
ZONE_REGIONS = {
    "Africa": _l("Africa"),
    "America": _l("Americas"),
    "Antarctica": _l("Antarctica"),
    "Arctic": _l("Arctic"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic"),
    "Australia": _l("Australia"),
    "Europe": _l("Europe"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific"),
}


@lru_cache(maxsize=1)
def _regional_zones() -> dict[str, list[str]]:
    common = {zone for zone, _ in COMMON_ZONES}
    grouped: dict[str, list[str]] = {region: [] for region in ZONE_REGIONS}
    for zone in sorted(available_timezones()):
        region = zone.split("/", 1)[0]
        if region in grouped and "/" in zone and zone not in common:
            grouped[region].append(zone)
    return grouped


def zone_choices(current: str | None = None) -> list[SelectChoice]:
    """The time zone list: the common ones, then every zone by region (optgroups). A stored
    zone the list does not offer (an old alias) is kept as the first choice."""
    offered = {zone for zone, _ in COMMON_ZONES}
    offered.update(z for zones in _regional_zones().values() for z in zones)
    choices: list[SelectChoice] = []
    if current and current not in offered and current in available_timezones():
        choices.append(SelectChoice(current, current, optgroup=str(_l("Your current zone"))))
    common = str(_l("Common time zones"))
    choices.extend(
        SelectChoice(zone, f"{zone.replace('_', ' ')} – {label}", optgroup=common)
        for zone, label in COMMON_ZONES
    )
    for region, zones in _regional_zones().items():
        group = str(ZONE_REGIONS[region])
        choices.extend(
            SelectChoice(zone, zone.split("/", 1)[1].replace("_", " "), optgroup=group)
            for zone in zones
        )
    return choices


def _incident_id(raw: str | None) -> int | None:
    if not raw:
        return None
    number = whole_number(raw)
    return number if number is not None else -1


def _page_language() -> str:
    language = str(get_locale() or "en")
    return language if language in validation.LANGUAGES else "en"


def _subscribe_errors(form: FlaskForm, channel: Channel | None, errors: dict[str, str]) -> None:
    """Put the service's messages on the fields this page shows."""
    aliases = {
        "topics": "incidents",
        "mode": "channel",
        # The incident is not a field of the page: its message goes above the form.
        "incident": "incident_page",
    }
    if channel is not None:
        aliases[channel.address_field] = channel.form_field
    if form.incident.data:
        aliases["platforms"] = "incident_page"
    apply_errors(form, errors, aliases)


def _subscribe_form() -> FlaskForm:
    """The subscribe form, filled from the request (what was typed, on a POST)."""
    form = subscribe_form_class()()
    form.channel.choices = [SelectChoice(c.name, c.choice) for c in channels.all_channels()]
    form.platforms.choices = [
        SelectChoice(p.slug, p.name) for p in platform_queries.platforms(db.session)
    ]
    if request.method == "GET":
        form.incident.data = request.args.get("incident", "")
        form.language.data = _page_language()
        if request.args.get("platform"):
            form.platforms.data = [request.args["platform"]]
    form.timezone.choices = zone_choices(form.timezone.data)
    return form


def _subscribe_page(form: FlaskForm, status: int) -> tuple[str, int]:
    incident_id = _incident_id(form.incident.data)
    incident = (
        incident_queries.find(db.session, incident_id) if incident_id and incident_id > 0 else None
    )
    return render_template(
        "subscriptions/subscribe.html",
        form=form,
        channel_list=channels.all_channels(),
        incident=incident,
        fresh=request.method == "GET",
    ), status


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def subscribe() -> Any:
    form = _subscribe_form()
    incident_id = _incident_id(form.incident.data)
    if request.method == "POST" and form.validate():
        channel = channels.find(form.channel.data)
        topics = [t for t in validation.TOPICS if getattr(form, t).data]
        try:
            if channel is None:
                raise ValidationError({"mode": N_("choose how you want notices")})
            made = channel_signup.subscribe_channel(
                db.session,
                channel=channel.name,
                address=(getattr(form, channel.form_field).data or "").strip(),
                platform_slugs=form.platforms.data or [],
                topics=topics,
                incident_id=incident_id,
                language=form.language.data or "",
                timezone=form.timezone.data or "",
                # The operator's rules for addresses (endpoints: loopback only where allowed,
                # in tests; Teams and Slack on their services' hosts).
                settings=current_app.config,
                secret=current_app.config["SECRET_KEY"],
                now=clock.now(),
            )
        except ValidationError as exc:
            db.session.rollback()
            _subscribe_errors(form, channel, exc.errors)
        else:
            commit()
            assert channel is not None
            if channel.confirmation == "link":
                # The same answer whether the address was known or not.
                return render_template("subscriptions/check_mail.html")
            if channel.confirmation == "code":
                return _code_page(made.subscriber)
            return _channel_added(channel, made)
    return _subscribe_page(form, 422 if request.method == "POST" else 200)


def _retry_after() -> int:
    """Seconds until the limit this request went over lets the client send again."""
    breached = getattr(limiter, "current_limit", None)
    reset = getattr(breached, "reset_at", None)
    return max(1, int(reset - time.time()) + 1) if reset else 60


@bp.errorhandler(RateLimitExceeded)
def too_many(exc: RateLimitExceeded) -> Any:
    """The subscribe form sent too often: the same page again with what was typed and, above
    it, when it can be sent again (429), rather than an error page that throws the form away.
    Any other page of the blueprint refused so gets the error page in the reader's words."""
    seconds = _retry_after()
    note = gettext(
        "Too many requests in a short time: wait %(seconds)s seconds, then send the form "
        "again. What you typed is kept.",
        seconds=seconds,
    )
    if request.method != "POST" or request.endpoint != "subscriptions.subscribe":
        return http_error_response(exc)  # the page in the reader's words, nothing typed to keep
    form = _subscribe_form()
    form.form_errors.append(note)
    body, status = _subscribe_page(form, 429)
    response = Response(body, status=status)
    response.headers["Retry-After"] = str(seconds)
    return response


def _channel_added(channel: Channel, made: channel_signup.ChannelSubscription) -> Response:
    """The page after an endpoint subscribed: its manage link and (a channel that signs) its
    signing secret, each shown this once. Never stored by any cache."""
    secret_key = current_app.config["SECRET_KEY"]
    response = Response(
        render_template(
            "subscriptions/channel_added.html",
            channel=channel,
            secret=made.secret if channel.signs else None,
            address=channel.masked(made.subscriber.address),
            manage_url=site().url + links.manage_path(secret_key, made.subscriber),
        )
    )
    response.headers.update(NOT_KEPT)
    return response


def _code_page(
    subscriber: Subscriber, form: CodeForm | None = None, status: int = 200, sent: bool = False
) -> Response:
    """The page where the code sent to the address is typed (its link is signed; the page
    is never kept by a cache). It names no address: the same page whether it was known."""
    secret = current_app.config["SECRET_KEY"]
    response = Response(
        render_template(
            "subscriptions/verify.html",
            form=form or CodeForm(),
            channel=validation.channel_of(subscriber),
            token=signup.verify_path(secret, subscriber).rsplit("/", 1)[1],
            sent=sent,
        ),
        status=status,
    )
    response.headers.update(NOT_KEPT)
    return response


@bp.route("/subscriptions/verify/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def verify(token: str) -> Any:
    """GET shows the code form; POST checks the code typed (a wrong one is counted and
    committed, so guessing costs tries), or with `again` sends a new code."""
    secret = current_app.config["SECRET_KEY"]
    subscriber = signup.read_verification(db.session, secret=secret, token=token)
    form = CodeForm()
    if request.method == "GET":
        return _code_page(subscriber, form)
    if not form.validate():
        abort(400)
    if request.form.get("again"):
        signup.resend_code(db.session, secret=secret, token=token, now=clock.now())
        commit()
        return _code_page(subscriber, CodeForm(formdata=None), sent=True)
    check = signup.confirm_code(
        db.session, secret=secret, token=token, code=form.code.data or "", now=clock.now()
    )
    commit()
    if not check.confirmed:
        form.code.errors = [worded(check.error or "")]
        return _code_page(check.subscriber, form, status=422)
    manage_url = links.manage_path(secret, check.subscriber)
    return render_template("subscriptions/confirmed.html", manage_url=manage_url)


@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    """GET shows the page and writes nothing (mail scanners fetch links); its button POSTs.

    The signed link is what proves the mailbox; the form token keeps another site from
    pressing the button for the reader.
    """
    secret = current_app.config["SECRET_KEY"]
    subscriber = signup.read_confirmation(db.session, secret=secret, token=token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        if request.method == "POST":
            abort(400)
        return render_template(
            "subscriptions/confirm.html", form=form, token=token, email=subscriber.address
        )
    subscriber = signup.confirm(db.session, secret=secret, token=token, now=clock.now())
    commit()
    manage_url = links.manage_path(secret, subscriber)
    return render_template("subscriptions/confirmed.html", manage_url=manage_url)


def _subscriber(token: str, purpose: str) -> Subscriber:
    subscriber, _ = links.read_token(db.session, current_app.config["SECRET_KEY"], purpose, token)
    return subscriber


@bp.route("/subscriptions/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> Any:
    subscriber = _subscriber(token, "manage")
    channel = validation.channel_of(subscriber)
    platforms = platform_queries.platforms(db.session)
    form = PreferencesForm(obj=subscriber)
    form.timezone.choices = zone_choices(form.timezone.data)
    saved = False
    if request.method == "POST" and form.validate():
        choice = {
            p.slug: [t for t in validation.TOPICS if request.form.get(f"{p.slug}:{t}") == "on"]
            for p in platforms
        }
        try:
            preferences.update_preferences(
                db.session,
                subscriber,
                platforms=choice,
                language=form.language.data or "",
                timezone=form.timezone.data or "",
                now=clock.now(),
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors, {"topics": "__form__", "platforms": "__form__"})
        else:
            commit()
            saved = True
    status = 422 if request.method == "POST" and not saved else 200
    waiting = preferences.awaiting_confirmation(subscriber)
    current = {s.platform_id: s for s in subscriber.subscriptions if s.platform_id}
    if request.method == "POST" and not saved:
        # Show the boxes as the reader left them, not as stored.
        ticked = {
            (p.slug, t): p.id not in waiting and request.form.get(f"{p.slug}:{t}") == "on"
            for p in platforms
            for t in validation.TOPICS
        }
    else:
        ticked = {
            (p.slug, t): bool(p.id in current and p.id not in waiting and getattr(current[p.id], t))
            for p in platforms
            for t in validation.TOPICS
        }
    following = [s for s in subscriber.subscriptions if s.incident_id]
    secret = current_app.config["SECRET_KEY"]
    return render_template(
        "subscriptions/manage.html",
        form=form,
        platforms=platforms,
        ticked=ticked,
        waiting=waiting,
        following=following,
        subscriber=subscriber,
        channel=channel,
        address=channel.masked(subscriber.address),
        token=token,
        saved=saved,
        # After saving: whether anything at all will still be sent (shown in the message).
        nothing_ticked=not any(ticked.values()),
        unsubscribe_url=links.unsubscribe_path(secret, subscriber),
        calendar_url=links.calendar_path(secret, subscriber),
    ), status


@bp.get("/subscriptions/calendar/<token>.ics")
def calendar(token: str) -> Response:
    """The subscriber's personal maintenance calendar (signed; revoked with the manage link).

    `?reminder=24h` (or `1h`, `15m`: minutes or hours, up to 168h) adds an alarm that long
    before each event; anything else is refused with 400. Never the public render cache: the
    body is one subscriber's, and its address is a secret.
    """
    subscriber = _subscriber(token, "calendar")
    reminder = None
    raw = request.args.getlist("reminder")
    if raw:
        try:
            if len(raw) > 1:
                raise ValueError("give one reminder")
            reminder = ical.parse_reminder(raw[0])
        except ValueError as exc:
            abort(400, description=str(exc))
    body = publish.personal_calendar(
        db.session,
        site(),
        subscriber,
        path=request.full_path.rstrip("?"),
        reminder=reminder,
    )
    response = Response(body, content_type=CALENDAR_TYPE)
    response.headers["Content-Disposition"] = 'inline; filename="maintenance.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/subscriptions/unsubscribe/<token>", methods=["GET", "POST"])
# RFC 8058 one-click: mail clients POST without a form token; the URL is signed.
@csrf.exempt  # type: ignore[untyped-decorator]  # Flask-WTF ships no types
def unsubscribe(token: str) -> Any:
    subscriber = _subscriber(token, "unsubscribe")
    if request.method == "POST":
        preferences.unsubscribe_all(db.session, subscriber, clock.now())
        commit()
        return render_template("subscriptions/unsubscribed.html")
    return render_template("subscriptions/unsubscribe.html", token=token)
