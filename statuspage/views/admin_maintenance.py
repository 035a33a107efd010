"""Staff pages for the maintenance calendar, subscribers and notice delivery.

Roles: any staff member manages windows (move, extend, cancel, annotate, status, release
notes, unscheduled work); series are edited by admins; MPOC imports by CSS and admins.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
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
from statuspage.forms import ConfirmForm
from statuspage.i18n import N_, VOCABULARY_LABELS
from statuspage.models.vocab import MAINTENANCE_NOTICES
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import notices as notice_queries
from statuspage.queries import platforms as platform_queries
from statuspage.security import role_required
from statuspage.services import ValidationError
from statuspage.services import maintenance as svc
from statuspage.services import subscriptions as subscription_service
from statuspage.views import import_store
from statuspage.views.confirm import confirmation_page
from statuspage.views.helpers import apply_errors, commit, submit, worded, worded_fields

if TYPE_CHECKING:
    from statuspage.models import MaintenanceSeries

bp = Blueprint("admin_maintenance", __name__, url_prefix="/admin")

STAFF = ("admin", "css", "engineer")
CSS = ("admin", "css")
FAILED_PAGE = 50  # failed recipients listed per page of a notice
# An MPOC list is read, checked and imported in one request (one transaction: all or
# nothing); 1 MB is some 10,000 contacts. Bigger lists are split (or imported with
# `flask --app statuspage subscribers import`, which shows progress).
IMPORT_MAX_BYTES = 1_000_000
PREVIEW_ROWS = 200  # rows listed in the preview (every row is checked and counted)
ERRORS_SHOWN = 500  # rows with errors listed (all are counted)
# A window the service still lets staff cancel (services.maintenance.set_window_status).
CANCELLABLE = ("scheduled", "in_progress")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _platform_choices() -> list[SelectChoice]:
    return [SelectChoice(p.slug, p.name) for p in platform_queries.platforms(db.session)]


IMPACT_CHOICES = [
    SelectChoice("maintenance", _l("Customer impact (maintenance)")),
    SelectChoice("none", _l("No customer impact")),
]
NOTICE_LABELS = {
    "week_before": _l("One week before"),
    "day_before": _l("24 hours before"),
    "start": _l("At the start"),
    "completion": _l("At completion"),
}
# What each kind of notice is, in the staff's language (the notices pages and dashboard).
NOTICE_KINDS = {
    "incident_created": N_("Incident opened"),
    "incident_updated": N_("Incident update"),
    "incident_resolved": N_("Incident resolved"),
    "maintenance_scheduled": N_("Maintenance scheduled"),
    "maintenance_short_notice": N_("Maintenance at short notice"),
    "maintenance_week_before": N_("Maintenance in one week"),
    "maintenance_day_before": N_("Maintenance in 24 hours"),
    "maintenance_start": N_("Maintenance started"),
    "maintenance_completion": N_("Maintenance completed"),
    "maintenance_rescheduled": N_("Maintenance rescheduled"),
    "maintenance_narrowed": N_("Maintenance narrowed"),
    "maintenance_no_longer_affected": N_("Maintenance no longer affects a platform"),
    "maintenance_cancelled": N_("Maintenance cancelled"),
    "maintenance_release_notes": N_("Release notes"),
    "p1g_overdue": N_("Overdue P1G update alert"),
    "subscription_confirm": N_("Subscription confirmation"),
    "webhook_verification": N_("Webhook verification"),
}


@bp.app_template_filter("notice_kind")
def notice_kind(kind: str) -> str:
    """A notice's kind as words: `maintenance_day_before` -> "Maintenance in 24 hours"."""
    return _(NOTICE_KINDS.get(kind) or kind.replace("_", " ").capitalize())


class UnscheduledForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    starts_at = DateTimeLocalField(
        _l("Starts (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField(_l("Ends (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()])
    platforms = MultiCheckboxField(_l("Platforms affected"), validate_choice=False)
    impact = SelectField(_l("Impact"), choices=IMPACT_CHOICES)
    description = TextAreaField(
        _l("Description of the work (Markdown)"), validators=[DataRequired(), Length(max=20_000)]
    )
    justification = TextAreaField(_l("Justification"), validators=[Length(max=20_000)])
    urgency = TextAreaField(
        _l("Why it cannot wait until after 23:00 MT"), validators=[Length(max=20_000)]
    )


class WindowForm(FlaskForm):
    starts_at = DateTimeLocalField(
        _l("Starts (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField(_l("Ends (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()])
    platforms = MultiCheckboxField(_l("Platforms affected"), validate_choice=False)
    note = TextAreaField(_l("Note for this occurrence (Markdown)"), validators=[Length(max=20_000)])


class StatusForm(FlaskForm):
    """Moving a window along; cancelling has its own confirmation page (cancel_window)."""

    status = SelectField(
        _l("New status"),
        choices=[
            SelectChoice("in_progress", _l("In progress")),
            SelectChoice("verifying", _l("Verifying")),
            SelectChoice("completed", _l("Completed")),
        ],
    )


class ReleaseNotesForm(FlaskForm):
    release_notes = TextAreaField(
        _l("Release notes (Markdown)"), validators=[DataRequired(), Length(max=20_000)]
    )


class SeriesForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    rule = StringField(
        _l("Recurrence rule (RFC 5545 RRULE)"), validators=[DataRequired(), Length(max=500)]
    )
    first_start = DateTimeLocalField(
        _l("First occurrence starts (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()]
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), validators=[InputRequired(), NumberRange(1, 48 * 60)]
    )
    impact = SelectField(_l("Impact"), choices=IMPACT_CHOICES)
    platforms = MultiCheckboxField(_l("Platforms affected"), validate_choice=False)
    notices = MultiCheckboxField(
        _l("Notices"),
        choices=[SelectChoice(n, NOTICE_LABELS.get(n, n)) for n in MAINTENANCE_NOTICES],
    )
    description = TextAreaField(_l("Description (Markdown)"), validators=[Length(max=20_000)])
    justification = TextAreaField(_l("Justification"), validators=[Length(max=20_000)])
    active = BooleanField(_l("Active"), default=True)


class ImportForm(FlaskForm):
    file = FileField(_l("MPOC contact list (CSV)"), validators=[FileRequired()])
    organisation = StringField(
        _l("Organisation (used where a row leaves it blank)"),
        validators=[Optional(), Length(max=200)],
    )


class ImportConfirmForm(FlaskForm):
    upload = HiddenField(validators=[DataRequired()])


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
        message=_("Unscheduled maintenance created; its notice goes out now."),
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
        message=_("Window updated."),
    )
    return saved or (
        render_template(
            "admin/maintenance/window.html",
            window=win,
            form=form,
            status_form=StatusForm(prefix="s"),
            notes_form=ReleaseNotesForm(prefix="r"),
            can_cancel=win.status in CANCELLABLE,
        ),
        _status(form),
    )


@bp.post("/maintenance/<window_id>/status")
@role_required(*STAFF)
def window_status(window_id: str) -> Any:
    win = svc.get_window(db.session, window_id)
    if request.form.get("s-status") == "cancelled":
        # Cancelling is never one click: it goes through its confirmation page.
        return redirect(url_for("admin_maintenance.cancel_window", window_id=win.id), 303)
    form = StatusForm(prefix="s")
    if form.validate_on_submit():
        try:
            svc.set_window_status(
                db.session, current_user, win, form.status.data or "", clock.now()
            )
        except ValidationError as exc:
            db.session.rollback()
            flash("; ".join(worded(m) for m in exc.errors.values()), "error")
            return redirect(url_for("admin_maintenance.window", window_id=win.id)), 303
        commit()
        flash(_("The window is now %(status)s.", status=_status_word(win.status)), "success")
        return redirect(url_for("admin_maintenance.window", window_id=win.id))
    flash(_("Choose a valid status."), "error")
    return redirect(url_for("admin_maintenance.window", window_id=win.id)), 303


def _status_word(status: str) -> str:
    return _(VOCABULARY_LABELS.get(status) or status).lower()


@bp.route("/maintenance/<window_id>/cancel", methods=["GET", "POST"])
@role_required(*STAFF)
def cancel_window(window_id: str) -> Any:
    """Cancelling is two steps: this page asks, and only its Confirm button cancels."""
    win = svc.get_window(db.session, window_id)
    back = url_for("admin_maintenance.window", window_id=win.id)
    form = ConfirmForm(prefix="cx")
    if form.validate_on_submit():
        try:
            svc.set_window_status(db.session, current_user, win, "cancelled", clock.now())
        except ValidationError as exc:
            db.session.rollback()
            flash("; ".join(worded(m) for m in exc.errors.values()), "error")
            return redirect(back, 303)
        commit()
        flash(_("The window “%(title)s” is cancelled.", title=win.title), "success")
        return redirect(back)
    return confirmation_page(
        form,
        title=_("Cancel maintenance window"),
        question=_("Cancel “%(title)s”?", title=win.title),
        consequences=[
            _("Subscribers who were told about it get one cancellation notice."),
            _("It leaves the calendars and its pending notices are dropped."),
            _("A cancelled window cannot be scheduled again; create a new one instead."),
        ],
        button=_("Cancel the window"),
        cancel=back,
        refused=_("Nothing was cancelled: confirm with the red button."),
    )


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
            flash("; ".join(worded(m) for m in exc.errors.values()), "error")
            return redirect(url_for("admin_maintenance.window", window_id=win.id)), 303
        commit()
        flash(_("Release notes published."), "success")
        return redirect(url_for("admin_maintenance.window", window_id=win.id))
    flash(_("Write the release notes."), "error")
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
        message=_("Series saved; its future occurrences were re-expanded."),
    )
    return saved or (
        render_template("admin/maintenance/series.html", form=form, series=existing),
        _status(form),
    )


# --- MPOC import: upload, preview (nothing written), confirm -------------------------------


def _import_page(form: ImportForm, status: int = 200, **extra: Any) -> tuple[str, int]:
    return render_template(
        "admin/maintenance/import.html",
        form=form,
        platforms=platform_queries.platforms(db.session),
        max_bytes=IMPORT_MAX_BYTES,
        **extra,
    ), status


def _too_large(size: int | None) -> str:
    limit = IMPORT_MAX_BYTES / 1_000_000
    if size is None:
        return _(
            "The file is larger than %(limit)s MB: split it into parts and import each.",
            limit=f"{limit:g}",
        )
    return _(
        "The file is %(size)s MB; files up to %(limit)s MB are accepted: split it into parts "
        "and import each.",
        size=f"{size / 1_000_000:.1f}",
        limit=f"{limit:g}",
    )


def _row_errors(result: Any) -> list[tuple[int, str]]:
    """The first rows with errors, each row's messages in the reader's language."""
    return [
        (line, worded_fields(problem.fields) if hasattr(problem, "fields") else problem)
        for line, problem in result.errors[:ERRORS_SHOWN]
    ]


def _check(text: str, organisation: str, *, dry_run: bool) -> tuple[Any, list[Any]]:
    """Parse and check (or import) the list: the service's result and the parsed rows."""
    rows = list(subscription_service.read_csv(io.StringIO(text)))
    result = subscription_service.import_contacts(
        db.session,
        rows,
        actor=current_user,
        organisation=organisation,
        now=clock.now(),
        dry_run=dry_run,
    )
    return result, rows


@bp.route("/subscribers/import", methods=["GET", "POST"])
@role_required(*CSS)
def import_subscribers() -> Any:
    """Step 1: upload. The list is parsed and every row checked, nothing is written; the
    preview shows what the import would do and keeps the file for step 2."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(form, 422 if request.method == "POST" else 200)
    raw = form.file.data.read(IMPORT_MAX_BYTES + 1)
    if len(raw) > IMPORT_MAX_BYTES:
        form.file.errors = [_too_large(request.content_length)]
        return _import_page(form, 413)
    try:
        text = raw.decode("utf-8-sig")
        result, rows = _check(text, form.organisation.data or "", dry_run=True)
    except UnicodeDecodeError:
        form.file.errors = [_("The file must be UTF-8 text (CSV).")]
        return _import_page(form, 422)
    except ValidationError as exc:
        db.session.rollback()
        apply_errors(form, exc.errors)
        return _import_page(form, 422)
    if not rows:
        form.file.errors = [_("The file has a header but no rows.")]
        return _import_page(form, 422)
    upload = import_store.Upload(
        text=text,
        organisation=form.organisation.data or "",
        filename=form.file.data.filename or "",
    )
    key = import_store.save(current_user.id, upload, clock.now())
    return _import_page(
        form,
        preview=result,
        rows=[(line, row) for line, row in rows if line in result.outcomes][:PREVIEW_ROWS],
        total=len(rows),
        errors=_row_errors(result),
        upload=upload,
        confirm_form=ImportConfirmForm(formdata=None, data={"upload": key}),
    )


@bp.post("/subscribers/import/confirm")
@role_required(*CSS)
def import_confirm() -> Any:
    """Step 2: the previewed list is imported, in one transaction (all or nothing)."""
    confirm_form = ImportConfirmForm()
    form = ImportForm(formdata=None)
    if not confirm_form.validate_on_submit():
        form.form_errors.append(_("Upload the file again: the preview was incomplete."))
        return _import_page(form, 422)
    key = confirm_form.upload.data or ""
    upload = import_store.load(key, current_user.id, clock.now())
    if upload is None:
        form.form_errors.append(
            _("This preview has expired or was already imported: upload the file again.")
        )
        return _import_page(form, 422)
    try:
        result, rows = _check(upload.text, upload.organisation, dry_run=False)
    except ValidationError as exc:
        db.session.rollback()
        apply_errors(form, exc.errors)
        return _import_page(form, 422)
    if not result.imported:
        db.session.rollback()
        form.form_errors.append(_("No row of this list can be imported; nothing was saved."))
        return _import_page(form, 422, errors=_row_errors(result))
    commit()
    import_store.drop(key)
    return _import_page(
        form, result=result, total=len(rows), errors=_row_errors(result), upload=upload
    )


@bp.get("/subscribers/import/sample.csv")
@role_required(*CSS)
def import_sample() -> Response:
    """A sample list with the columns the import reads and this page's real platform slugs."""
    slugs = [p.slug for p in platform_queries.platforms(db.session)] or ["platform-slug"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(subscription_service.IMPORT_COLUMNS)
    writer.writerow(
        [
            "noc@example.com",
            "Network operations",
            "Example Ltd",
            slugs[0],
            "incidents;maintenance",
            "en",
        ]
    )
    writer.writerow(
        ["it@example.org", "Servicio de TI", "Ejemplo SA", ";".join(slugs[:2]), "maintenance", "es"]
    )
    writer.writerow(
        ["support@example.net", "Sprachdienste", "", ";".join(slugs[-2:]), "incidents", "de"]
    )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="mpoc-sample.csv"'},
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> Any:
    """A list over the request limit is refused before any view runs: on the import page,
    say so next to the file field rather than on a bare error page."""
    allowed = getattr(current_user, "role", None) in CSS
    if request.endpoint != "admin_maintenance.import_subscribers" or not allowed:
        return render_template(
            "error.html",
            status=413,
            title=_("Request too large"),
            message=_("The request is larger than this service accepts."),
        ), 413
    form = ImportForm(formdata=None)
    form.file.errors = [_too_large(request.content_length)]
    return _import_page(form, 413)


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
