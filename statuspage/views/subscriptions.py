"""Public subscription pages: subscribe, confirm, manage, one-click unsubscribe."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from calendars import ical
from statuspage import clock, publish
from statuspage.extensions import csrf, db, limiter
from statuspage.queries import incidents as incident_queries
from statuspage.queries import platforms as platform_queries
from statuspage.services import ValidationError
from statuspage.services import subscriptions as svc
from statuspage.views.feeds import CALENDAR_TYPE, site
from statuspage.views.helpers import apply_errors, commit

bp = Blueprint("subscriptions", __name__)

LANGUAGE_CHOICES = [
    SelectChoice("en", "English"),
    SelectChoice("es", "Español"),
    SelectChoice("de", "Deutsch"),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubscribeForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    platforms = MultiCheckboxField(_l("Platforms"), choices=[], validate_choice=False)
    incidents = BooleanField(_l("Incidents and master cases"), default=True)
    maintenance = BooleanField(_l("Maintenance notices"), default=True)
    incident = HiddenField()
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="en")
    timezone = StringField(
        _l("Time zone"), default="America/Denver", validators=[DataRequired(), Length(max=64)]
    )


class PreferencesForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])


def _incident_id(raw: str | None) -> int | None:
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 19 else -1


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def subscribe() -> Any:
    form = SubscribeForm()
    platforms = platform_queries.platforms(db.session)
    form.platforms.choices = [SelectChoice(p.slug, p.name) for p in platforms]
    if request.method == "GET":
        form.incident.data = request.args.get("incident", "")
        if request.args.get("platform"):
            form.platforms.data = [request.args["platform"]]
    incident = None
    incident_id = _incident_id(form.incident.data)
    if incident_id and incident_id > 0:
        incident = incident_queries.find(db.session, incident_id)
    if form.validate_on_submit():
        topics = [t for t in ("incidents", "maintenance") if getattr(form, t).data]
        try:
            svc.subscribe(
                db.session,
                secret=current_app.config["SECRET_KEY"],
                email=form.email.data or "",
                platforms=form.platforms.data or [],
                topics=topics,
                incident_id=incident_id,
                language=form.language.data or "en",
                timezone=form.timezone.data or "",
                now=clock.now(),
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors, {"topics": "platforms", "incident": "platforms"})
        else:
            commit()
            # The same answer whether the address was known or not.
            return render_template("subscriptions/check_mail.html")
    status = 422 if request.method == "POST" else 200
    return render_template("subscriptions/subscribe.html", form=form, incident=incident), status


class ConfirmForm(FlaskForm):
    """The confirmation page's button: only its CSRF token."""


@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    """GET shows the page and writes nothing (mail scanners fetch links); its button POSTs.

    The signed link is what proves the mailbox; the form token keeps another site from
    pressing the button for the reader.
    """
    secret = current_app.config["SECRET_KEY"]
    subscriber = svc.read_confirmation(db.session, secret=secret, token=token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        if request.method == "POST":
            abort(400)
        return render_template(
            "subscriptions/confirm.html", form=form, token=token, email=subscriber.email
        )
    subscriber = svc.confirm(db.session, secret=secret, token=token, now=clock.now())
    commit()
    manage_url = svc.manage_path(secret, subscriber)
    return render_template("subscriptions/confirmed.html", manage_url=manage_url)


def _subscriber(token: str, purpose: str):  # type: ignore[no-untyped-def]
    subscriber, _ = svc.read_token(db.session, current_app.config["SECRET_KEY"], purpose, token)
    return subscriber


@bp.route("/subscriptions/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> Any:
    subscriber = _subscriber(token, "manage")
    platforms = platform_queries.platforms(db.session)
    form = PreferencesForm(obj=subscriber)
    saved = False
    if form.validate_on_submit():
        choice = {
            p.slug: [
                t for t in ("incidents", "maintenance") if request.form.get(f"{p.slug}:{t}") == "on"
            ]
            for p in platforms
        }
        try:
            svc.update_preferences(
                db.session,
                subscriber,
                platforms=choice,
                language=form.language.data or "",
                timezone=form.timezone.data or "",
                now=clock.now(),
            )
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors, {"topics": "platforms", "incident": "platforms"})
        else:
            commit()
            saved = True
    status = 422 if request.method == "POST" and not saved else 200
    current = {s.platform_id: s for s in subscriber.subscriptions if s.platform_id}
    unsubscribe_url = svc.unsubscribe_path(current_app.config["SECRET_KEY"], subscriber)
    calendar_url = svc.calendar_path(current_app.config["SECRET_KEY"], subscriber)
    return render_template(
        "subscriptions/manage.html",
        form=form,
        platforms=platforms,
        current=current,
        subscriber=subscriber,
        token=token,
        saved=saved,
        unsubscribe_url=unsubscribe_url,
        calendar_url=calendar_url,
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
@csrf.exempt  # RFC 8058 one-click: mail clients POST without a form token; the URL is signed
def unsubscribe(token: str) -> Any:
    subscriber = _subscriber(token, "unsubscribe")
    if request.method == "POST":
        svc.unsubscribe_all(db.session, subscriber, clock.now())
        commit()
        return render_template("subscriptions/unsubscribed.html")
    return render_template("subscriptions/unsubscribe.html", token=token)
