"""Staff pages for the maintenance calendar and notice delivery.

Roles: any staff member manages windows (move, extend, cancel, annotate, status, release
notes, unscheduled work); series are edited by admins; CSS staff and admins release the
messages held beyond a channel's ceiling. (The MPOC import is in `views.admin_subscribers`.)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3

from statuspage import clock
from statuspage.extensions import db
from statuspage.forms.fields import aware, local_input
from statuspage.forms.maintenance import (
    STATUS_CHOICE_LABELS,
    NoteForm,
    ReleaseNotesForm,
    SeriesForm,
    StatusForm,
    UnscheduledForm,
    WindowForm,
)
from statuspage.forms.staff import ConfirmForm
from statuspage.i18n import N_, VOCABULARY_LABELS
from statuspage.models.vocab import CSS_ROLES, STAFF_ROLES
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import notices as notice_queries
from statuspage.queries import platforms as platform_queries
from statuspage.renderers.templating import format_span, format_when
from statuspage.security import role_required
from statuspage.services import ValidationError
from statuspage.services import maintenance as svc
from statuspage.services import notices as notice_service
from statuspage.views.confirm import confirmation_page, first_step, going_back, rehearse
from statuspage.views.helpers import (
    apply_errors,
    commit,
    form_status,
    page_number,
    submit,
    worded,
)

if TYPE_CHECKING:
    from statuspage.models import MaintenanceSeries, MaintenanceWindow

bp = Blueprint("admin_maintenance", __name__, url_prefix="/admin")

FAILED_PAGE = 50  # failed recipients listed per page of a notice


def _platform_choices() -> list[SelectChoice]:
    return [SelectChoice(p.slug, p.name) for p in platform_queries.platforms(db.session)]


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
    "component_update": N_("Platform status change (webhooks)"),
    "subscription_confirm": N_("Subscription confirmation"),
    "webhook_verification": N_("Webhook verification"),
}


@bp.app_template_filter("notice_kind")
def notice_kind(kind: str) -> str:
    """A notice's kind as words: `maintenance_day_before` -> "Maintenance in 24 hours"."""
    label: str = _(NOTICE_KINDS.get(kind) or kind.replace("_", " ").capitalize())
    return label


def _status(form: FlaskForm) -> int:
    return 422 if request.method == "POST" else 200


@bp.get("/maintenance")
@role_required(*STAFF_ROLES)
def windows() -> Any:
    now = clock.now()
    return render_template(
        "admin/maintenance/index.html",
        active=maintenance_queries.active(db.session),
        upcoming=maintenance_queries.upcoming(db.session, now, days=60),
        series=maintenance_queries.all_series(db.session),
    )


@bp.route("/maintenance/new", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def new_unscheduled() -> Any:
    form = UnscheduledForm()
    form.platforms.choices = _platform_choices()
    saved = submit(
        form,
        lambda: svc.create_unscheduled(
            db.session,
            current_user,
            title=form.title.data or "",
            # InputRequired: a form that validated has both times.
            starts_at=cast(datetime, aware(form.starts_at.data)),
            ends_at=cast(datetime, aware(form.ends_at.data)),
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


def _status_choices(win: MaintenanceWindow) -> list[SelectChoice]:
    """The status form's options: an empty one first, then what the window may become
    (cancelling is the red button's)."""
    return [SelectChoice("", _l("— choose —"))] + [
        SelectChoice(status, STATUS_CHOICE_LABELS.get((win.status, status), status))
        for status in svc.next_statuses(win)
        if status != "cancelled"
    ]


def _window_form(win: MaintenanceWindow, *, posted: bool) -> WindowForm | NoteForm:
    """The form of a window's page: move/extend/narrow/annotate while it has not finished,
    a note alone once it has."""
    if svc.is_finished(win):
        return NoteForm(prefix="w", data=None if posted else {"note": win.note})
    form = WindowForm(
        prefix="w",
        data=None
        if posted
        else {
            "starts_at": local_input(win.starts_at),
            "ends_at": local_input(win.ends_at),
            "platforms": [p.slug for p in win.platforms],
            "note": win.note,
        },
    )
    form.platforms.choices = _platform_choices()
    return form


def _window_page(
    win: MaintenanceWindow,
    *,
    form: WindowForm | NoteForm | None = None,
    status_form: StatusForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """A window's staff page; a form handed in keeps what was typed and its errors."""
    if form is None:
        form = _window_form(win, posted=False)
    if status_form is None:
        status_form = StatusForm(prefix="s", formdata=None)
    status_form.status.choices = _status_choices(win)
    return render_template(
        "admin/maintenance/window.html",
        window=win,
        form=form,
        finished=svc.is_finished(win),
        status_form=status_form,
        notes_form=ReleaseNotesForm(prefix="r"),
        can_cancel="cancelled" in svc.next_statuses(win),
    ), status


@bp.route("/maintenance/<window_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def window(window_id: str) -> Any:
    """A window's page. Moving, extending or narrowing it may notify subscribers: the first
    submit shows what would be sent and to how many, and only its confirmation saves it."""
    win = svc.get_window(db.session, window_id)
    form = _window_form(win, posted=request.method == "POST")
    if not form.validate_on_submit() or going_back(form):
        status = 200 if request.method == "GET" or going_back(form) else 422
        return _window_page(win, form=form, status=status)
    now = clock.now()
    if isinstance(form, NoteForm):
        changes: dict[str, Any] = {"note": form.note.data or ""}
    else:
        changes = {
            "starts_at": aware(form.starts_at.data),
            "ends_at": aware(form.ends_at.data),
            "platforms": form.platforms.data or [],
            "note": form.note.data or "",
        }

    def change() -> MaintenanceWindow:
        return svc.change_window(db.session, current_user, win, now=now, **changes)

    if (
        isinstance(form, WindowForm)
        and not form.confirmed
        and svc.change_notifies(
            win,
            starts_at=changes["starts_at"],
            ends_at=changes["ends_at"],
            platforms=changes["platforms"],
        )
    ):
        before = format_span(win.starts_at, win.ends_at)
        try:
            planned = rehearse(change)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
            return _window_page(win, form=form, status=422)
        after = format_span(changes["starts_at"], changes["ends_at"])
        return confirmation_page(
            form,
            title=_("Change maintenance window"),
            question=_("Save these changes to “%(title)s”?", title=win.title),
            consequences=[
                Markup(_("Now: %(span)s")) % {"span": before},
                Markup(_("After: %(span)s")) % {"span": after},
                _("Platforms after: %(names)s", names=", ".join(_platform_names(changes))),
                _("The calendars show the change at once."),
            ],
            button=_("Save and notify"),
            cancel=url_for("admin_maintenance.window", window_id=win.id),
            refused=_("Nothing was changed: confirm with the red button."),
            planned=planned,
            carry=True,
            asked=first_step(form),
        )
    saved = submit(
        form,
        change,
        done=url_for("admin_maintenance.window", window_id=win.id),
        message=_("Window updated."),
    )
    return saved or _window_page(win, form=form, status=form_status(form))


def _platform_names(changes: dict[str, Any]) -> list[str]:
    chosen = set(changes.get("platforms") or [])
    return [p.name for p in platform_queries.platforms(db.session) if p.slug in chosen]


@bp.post("/maintenance/<window_id>/status")
@role_required(*STAFF_ROLES)
def window_status(window_id: str) -> Any:
    """Start, verify or complete a window. Starting and completing notify subscribers: the
    first submit shows what would be sent and to how many; its confirmation does it."""
    win = svc.get_window(db.session, window_id)
    if request.form.get("s-status") == "cancelled":
        # Cancelling is never one click: it goes through its confirmation page.
        return redirect(url_for("admin_maintenance.cancel_window", window_id=win.id), 303)
    form = StatusForm(prefix="s")
    form.status.choices = _status_choices(win)
    if going_back(form):
        return _window_page(win, status_form=form)
    if not form.validate_on_submit():
        if svc.is_finished(win):
            form.form_errors.append(
                _(
                    "This window is %(status)s: its status no longer changes.",
                    status=_status_word(win.status),
                )
            )
        return _window_page(win, status_form=form, status=422)
    status = form.status.data or ""
    now = clock.now()

    def change() -> MaintenanceWindow:
        return svc.set_status_now(
            db.session,
            current_user,
            win,
            status,
            now=now,
            tz_name=current_app.config["STATUSPAGE_TIMEZONE"],
        )

    if svc.status_notifies(win, status) and not form.confirmed:
        try:
            planned = rehearse(change)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
            return _window_page(win, status_form=form, status=422)
        return confirmation_page(
            form,
            **_status_question(win, status),
            cancel=url_for("admin_maintenance.window", window_id=win.id),
            refused=_("Nothing was changed: confirm with the red button."),
            planned=planned,
            carry=True,
            asked=first_step(form),
        )
    saved = submit(
        form,
        change,
        done=url_for("admin_maintenance.window", window_id=win.id),
        message=_("The window is now %(status)s.", status=_status_word(status)),
    )
    return saved or _window_page(win, status_form=form, status=form_status(form))


def _status_question(win: MaintenanceWindow, status: str) -> dict[str, Any]:
    """What the confirmation page of a start or a completion says."""
    names = ", ".join(p.name for p in win.platforms)
    held = win.impact == "maintenance"
    if status == "in_progress":
        return {
            "title": _("Start maintenance now"),
            "question": Markup(_("Start “%(title)s” now? It is planned for %(span)s."))
            % {"title": win.title, "span": format_span(win.starts_at, win.ends_at)},
            "consequences": [
                _("It starts now, not at its planned start.")
                if win.starts_at > clock.now()
                else _("It starts now."),
                _("%(platforms)s are shown under maintenance from now.", platforms=names)
                if held
                else _("It has no customer impact: platform statuses stay as they are."),
            ],
            "button": _("Start now"),
        }
    return {
        "title": _("Complete maintenance now"),
        "question": Markup(_("Complete “%(title)s” now? It is planned to end %(when)s."))
        % {"title": win.title, "when": format_when(win.ends_at)},
        "consequences": [
            _("It ends now."),
            _(
                "%(platforms)s return to operational unless something else holds them.",
                platforms=names,
            )
            if held
            else _("It has no customer impact: platform statuses stay as they are."),
        ],
        "button": _("Complete now"),
    }


def _status_word(status: str) -> str:
    word: str = _(VOCABULARY_LABELS.get(status) or status)
    return word.lower()


@bp.route("/maintenance/<window_id>/cancel", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def cancel_window(window_id: str) -> Any:
    """Cancelling is two steps: this page asks (saying what would be sent, to how many),
    and only its Confirm button cancels."""
    win = svc.get_window(db.session, window_id)
    back = url_for("admin_maintenance.window", window_id=win.id)
    form = ConfirmForm(prefix="cx")
    now = clock.now()

    def change() -> MaintenanceWindow:
        return svc.set_status_now(
            db.session,
            current_user,
            win,
            "cancelled",
            now=now,
            tz_name=current_app.config["STATUSPAGE_TIMEZONE"],
        )

    try:
        if form.validate_on_submit():
            change()
            commit()
            flash(_("The window “%(title)s” is cancelled.", title=win.title), "success")
            return redirect(back)
        planned = rehearse(change)
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(worded(m) for m in exc.errors.values()), "error")
        return redirect(back, 303)
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
        planned=planned,
    )


@bp.post("/maintenance/<window_id>/release-notes")
@role_required(*STAFF_ROLES)
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
            "first_start": local_input(existing.first_start),
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
            first_start=cast(datetime, aware(form.first_start.data)),  # InputRequired
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


@bp.get("/notices")
@role_required(*STAFF_ROLES)
def notices() -> Any:
    recent = notice_queries.recent_notices(db.session, limit=100)
    return render_template(
        "admin/maintenance/notices.html",
        notices=recent,
        counts=notice_queries.delivery_counts(db.session),
    )


@bp.get("/notices/<notice_id>")
@role_required(*STAFF_ROLES)
def notice(notice_id: str) -> Any:
    """One notice's delivery: its counts, and who it failed for and why, a page at a time."""
    found = notice_queries.get_notice(db.session, notice_id)
    page = page_number()
    failed, total = notice_queries.failed_deliveries(db.session, found.id, page, FAILED_PAGE)
    return render_template(
        "admin/maintenance/notice.html",
        notice=found,
        counts=notice_queries.delivery_counts(db.session, found.id).get(found.id, {}),
        failed=failed,
        total=total,
        page=page,
        pages=max((total + FAILED_PAGE - 1) // FAILED_PAGE, 1),
        form=FlaskForm(),
        can_release=current_user.role in CSS_ROLES,
    )


@bp.post("/notices/<notice_id>/release")
@role_required(*CSS_ROLES)
def release_held(notice_id: str) -> Any:
    """Send the notice's messages held beyond their channel's ceiling (CSS staff)."""
    found = notice_queries.get_notice(db.session, notice_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    released = notice_service.release_held(db.session, current_user, found.id, clock.now())
    commit()
    flash(_("%(count)s held messages released: they are being sent.", count=released), "success")
    return redirect(url_for(".notice", notice_id=found.id))
