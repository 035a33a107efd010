"""Staff pages for the maintenance calendar, subscribers and notice delivery.

Roles: any staff member manages windows (move, extend, cancel, annotate, status, release
notes, unscheduled work); series are edited by admins; MPOC imports by CSS and admins.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from calendars.recurrence import to_local
from statuspage import clock
from statuspage.extensions import db
from statuspage.models.vocab import MAINTENANCE_NOTICES
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import notices as notice_queries
from statuspage.queries import platforms as platform_queries
from statuspage.security import role_required
from statuspage.services import ValidationError
from statuspage.services import maintenance as svc
from statuspage.services import subscriptions as subscription_service
from statuspage.views.helpers import apply_errors, commit, submit

if TYPE_CHECKING:
    from statuspage.models import MaintenanceSeries

bp = Blueprint("admin_maintenance", __name__, url_prefix="/admin")

STAFF = ("admin", "css", "engineer")
FAILED_PAGE = 50  # failed recipients listed per page of a notice
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _platform_choices() -> list[SelectChoice]:
    return [SelectChoice(p.slug, p.name) for p in platform_queries.platforms(db.session)]


IMPACT_CHOICES = [
    SelectChoice("maintenance", "Customer impact (maintenance)"),
    SelectChoice("none", "No customer impact"),
]


class UnscheduledForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    starts_at = DateTimeLocalField("Starts (MT)", format=LOCAL_FORMAT, validators=[InputRequired()])
    ends_at = DateTimeLocalField("Ends (MT)", format=LOCAL_FORMAT, validators=[InputRequired()])
    platforms = MultiCheckboxField("Platforms affected", validate_choice=False)
    impact = SelectField("Impact", choices=IMPACT_CHOICES)
    description = TextAreaField(
        "Description of the work (Markdown)", validators=[DataRequired(), Length(max=20_000)]
    )
    justification = TextAreaField("Justification", validators=[Length(max=20_000)])
    urgency = TextAreaField(
        "Why it cannot wait until after 23:00 MT", validators=[Length(max=20_000)]
    )


class WindowForm(FlaskForm):
    starts_at = DateTimeLocalField("Starts (MT)", format=LOCAL_FORMAT, validators=[InputRequired()])
    ends_at = DateTimeLocalField("Ends (MT)", format=LOCAL_FORMAT, validators=[InputRequired()])
    platforms = MultiCheckboxField("Platforms affected", validate_choice=False)
    note = TextAreaField("Note for this occurrence (Markdown)", validators=[Length(max=20_000)])


class StatusForm(FlaskForm):
    status = SelectField(
        "New status",
        choices=[
            SelectChoice("in_progress", "In progress"),
            SelectChoice("verifying", "Verifying"),
            SelectChoice("completed", "Completed"),
            SelectChoice("cancelled", "Cancelled"),
        ],
    )


class ReleaseNotesForm(FlaskForm):
    release_notes = TextAreaField(
        "Release notes (Markdown)", validators=[DataRequired(), Length(max=20_000)]
    )


class SeriesForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    rule = StringField(
        "Recurrence rule (RFC 5545 RRULE)", validators=[DataRequired(), Length(max=500)]
    )
    first_start = DateTimeLocalField(
        "First occurrence starts (MT)", format=LOCAL_FORMAT, validators=[InputRequired()]
    )
    duration_minutes = IntegerField(
        "Duration (minutes)", validators=[InputRequired(), NumberRange(1, 48 * 60)]
    )
    impact = SelectField("Impact", choices=IMPACT_CHOICES)
    platforms = MultiCheckboxField("Platforms affected", validate_choice=False)
    notices = MultiCheckboxField(
        "Notices",
        choices=[SelectChoice(n, n.replace("_", " ").capitalize()) for n in MAINTENANCE_NOTICES],
    )
    description = TextAreaField("Description (Markdown)", validators=[Length(max=20_000)])
    justification = TextAreaField("Justification", validators=[Length(max=20_000)])
    active = BooleanField("Active", default=True)


class ImportForm(FlaskForm):
    file = FileField("MPOC contact list (CSV)", validators=[FileRequired()])
    organisation = StringField(
        "Organisation (used where a row leaves it blank)", validators=[Optional(), Length(max=200)]
    )


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["STATUSPAGE_TIMEZONE"])


def _aware(value: datetime | None) -> datetime | None:
    """A datetime-local input is wall-clock time in the provider's zone."""
    return to_local(value, _tz()) if value is not None else None


def _local_input(value: datetime) -> datetime:
    return value.astimezone(_tz()).replace(tzinfo=None)


def _status(form: FlaskForm) -> int:
    return 422 if request.method == "POST" else 200


@bp.get("/maintenance")
@role_required(*STAFF)
def windows() -> Any:
    now = clock.now()
    return render_template(
        "admin/maintenance/index.html",
        active=maintenance_queries.active(db.session),
        upcoming=maintenance_queries.upcoming(db.session, now, days=60),
        series=maintenance_queries.all_series(db.session),
    )


@bp.route("/maintenance/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new_unscheduled() -> Any:
    form = UnscheduledForm()
    form.platforms.choices = _platform_choices()
    saved = submit(
        form,
        lambda: svc.create_unscheduled(
            db.session,
            current_user,
            title=form.title.data or "",
            starts_at=_aware(form.starts_at.data),
            ends_at=_aware(form.ends_at.data),
            platforms=form.platforms.data or [],
            description=form.description.data or "",
            justification=form.justification.data or "",
            urgency=form.urgency.data or "",
            impact=form.impact.data or "maintenance",
            tz_name=current_app.config["STATUSPAGE_TIMEZONE"],
            now=clock.now(),
        ),
        done=lambda window: url_for("admin_maintenance.window", window_id=window.id),
        message="Unscheduled maintenance created; its notice goes out now.",
    )
    # Inside 05:00-23:00 MT the service asks why the work cannot wait: say so loudly.
    warning = form.urgency.errors[0] if form.urgency.errors else None
    return saved or (
        render_template("admin/maintenance/new.html", form=form, warning=warning),
        _status(form),
    )


@bp.route("/maintenance/<window_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def window(window_id: str) -> Any:
    win = svc.get_window(db.session, window_id)
    form = WindowForm(
        prefix="w",
        data={
            "starts_at": _local_input(win.starts_at),
            "ends_at": _local_input(win.ends_at),
            "platforms": [p.slug for p in win.platforms],
            "note": win.note,
        }
        if request.method == "GET"
        else None,
    )
    form.platforms.choices = _platform_choices()
    saved = submit(
        form,
        lambda: svc.change_window(
            db.session,
            current_user,
            win,
            starts_at=_aware(form.starts_at.data),
            ends_at=_aware(form.ends_at.data),
            platforms=form.platforms.data or [],
            note=form.note.data or "",
            now=clock.now(),
        ),
        done=url_for("admin_maintenance.window", window_id=win.id),
        message="Window updated.",
    )
    return saved or (
        render_template(
            "admin/maintenance/window.html",
            window=win,
            form=form,
            status_form=StatusForm(prefix="s"),
            notes_form=ReleaseNotesForm(prefix="r"),
        ),
        _status(form),
    )


@bp.post("/maintenance/<window_id>/status")
@role_required(*STAFF)
def window_status(window_id: str) -> Any:
    win = svc.get_window(db.session, window_id)
    form = StatusForm(prefix="s")
    if form.validate_on_submit():
        try:
            svc.set_window_status(
                db.session, current_user, win, form.status.data or "", clock.now()
            )
        except ValidationError as exc:
            db.session.rollback()
            flash("; ".join(exc.errors.values()), "error")
            return redirect(url_for("admin_maintenance.window", window_id=win.id)), 303
        commit()
        flash(f"Window is now {win.status.replace('_', ' ')}.", "success")
        return redirect(url_for("admin_maintenance.window", window_id=win.id))
    flash("Choose a valid status.", "error")
    return redirect(url_for("admin_maintenance.window", window_id=win.id)), 303


@bp.post("/maintenance/<window_id>/release-notes")
@role_required(*STAFF)
def release_notes(window_id: str) -> Any:
    win = svc.get_window(db.session, window_id)
    form = ReleaseNotesForm(prefix="r")
    if form.validate_on_submit():
        try:
            svc.add_release_notes(
                db.session, current_user, win, form.release_notes.data or "", clock.now()
            )
        except ValidationError as exc:
            db.session.rollback()
            flash("; ".join(exc.errors.values()), "error")
            return redirect(url_for("admin_maintenance.window", window_id=win.id)), 303
        commit()
        flash("Release notes published.", "success")
        return redirect(url_for("admin_maintenance.window", window_id=win.id))
    flash("Write the release notes.", "error")
    return redirect(url_for("admin_maintenance.window", window_id=win.id)), 303


def _series(series_id: str) -> MaintenanceSeries:
    return maintenance_queries.get_series(db.session, series_id)


@bp.route("/series/new", methods=["GET", "POST"], defaults={"series_id": None})
@bp.route("/series/<series_id>", methods=["GET", "POST"])
@role_required("admin")
def series(series_id: str | None) -> Any:
    existing = _series(series_id) if series_id else None
    data = None
    if request.method == "GET" and existing is not None:
        data = {
            "title": existing.title,
            "rule": existing.rule,
            "first_start": _local_input(existing.first_start),
            "duration_minutes": existing.duration_minutes,
            "impact": existing.impact,
            "platforms": [p.slug for p in existing.platforms],
            "notices": existing.notices,
            "description": existing.description,
            "justification": existing.justification,
            "active": existing.active,
        }
    form = SeriesForm(data=data)
    form.platforms.choices = _platform_choices()
    saved = submit(
        form,
        lambda: svc.save_series(
            db.session,
            current_user,
            existing,
            title=form.title.data or "",
            rule=form.rule.data or "",
            first_start=_aware(form.first_start.data),
            duration_minutes=form.duration_minutes.data or 0,
            impact=form.impact.data or "",
            platforms=form.platforms.data or [],
            description=form.description.data or "",
            justification=form.justification.data or "",
            notices=form.notices.data or [],
            active=form.active.data,
            tz_name=current_app.config["STATUSPAGE_TIMEZONE"],
            now=clock.now(),
        ),
        done=lambda saved_series: url_for("admin_maintenance.series", series_id=saved_series.id),
        message="Series saved; its future occurrences were re-expanded.",
    )
    return saved or (
        render_template("admin/maintenance/series.html", form=form, series=existing),
        _status(form),
    )


@bp.route("/subscribers/import", methods=["GET", "POST"])
@role_required("admin", "css")
def import_subscribers() -> Any:
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        raw = form.file.data.read()
        try:
            text = raw.decode("utf-8-sig")
            rows = list(subscription_service.read_csv(io.StringIO(text)))
            result = subscription_service.import_contacts(
                db.session,
                rows,
                actor=current_user,
                organisation=form.organisation.data or "",
                now=clock.now(),
            )
        except UnicodeDecodeError:
            db.session.rollback()
            form.file.errors = ["the file must be UTF-8 text (CSV)"]
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            commit()
    return render_template(
        "admin/maintenance/import.html", form=form, result=result
    ), 422 if form.errors else 200


@bp.get("/notices")
@role_required(*STAFF)
def notices() -> Any:
    recent = notice_queries.recent_notices(db.session, limit=100)
    return render_template(
        "admin/maintenance/notices.html",
        notices=recent,
        counts=notice_queries.delivery_counts(db.session),
    )


@bp.get("/notices/<notice_id>")
@role_required(*STAFF)
def notice(notice_id: str) -> Any:
    """One notice's delivery: its counts, and who it failed for and why, a page at a time."""
    found = notice_queries.get_notice(db.session, notice_id)
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        abort(400)
    page = int(raw)
    failed, total = notice_queries.failed_deliveries(db.session, found.id, page, FAILED_PAGE)
    return render_template(
        "admin/maintenance/notice.html",
        notice=found,
        counts=notice_queries.delivery_counts(db.session, found.id).get(found.id, {}),
        failed=failed,
        total=total,
        page=page,
        pages=max((total + FAILED_PAGE - 1) // FAILED_PAGE, 1),
    )
