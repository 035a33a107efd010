"""Staff pages of subscribers: the URL and SMS subscribers, and the MPOC import.

Any staff member sees the subscribers of every channel but email (webhooks, Microsoft Teams
and Slack channels, SMS numbers), with their state, why one is quarantined (paused after its
address kept failing) and the last delivery error; CSS staff and admins lift a quarantine
(a CSRF-checked POST; the service checks the role again and audits it).

CSS staff and admins import an organisation's MPOC contact list: upload (every row checked,
nothing written), a preview, then the import in one transaction.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge

from statuspage import channels, clock, uploads
from statuspage.extensions import db
from statuspage.forms.subscribers import ImportConfirmForm, ImportForm
from statuspage.models.vocab import CSS_ROLES, STAFF_ROLES
from statuspage.queries import channels as channel_queries
from statuspage.queries import platforms as platform_queries
from statuspage.security import role_required
from statuspage.services import ValidationError
from statuspage.services.subscriptions import mpoc, pauses
from statuspage.views.helpers import apply_errors, commit, page_number, worded_fields

bp = Blueprint("admin_subscribers", __name__, url_prefix="/admin/subscribers")

PER_PAGE = 50
# An MPOC list is read, checked and imported in one request (one transaction: all or
# nothing); 1 MB is some 10,000 contacts. Bigger lists are split (or imported with
# `flask --app statuspage subscribers import`, which shows progress).
IMPORT_MAX_BYTES = 1_000_000
PREVIEW_ROWS = 200  # rows listed in the preview (every row is checked and counted)
ERRORS_SHOWN = 500  # rows with errors listed (all are counted)


@bp.get("/")
@role_required(*STAFF_ROLES)
def endpoints() -> Any:
    state = request.args.get("state", "")
    if state and state not in channel_queries.STATES:
        abort(400)
    page = page_number()
    rows, total = channel_queries.url_subscribers(
        db.session, state=state or None, page=page, per_page=PER_PAGE
    )
    return render_template(
        "admin/subscribers.html",
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        state=state,
        states=channel_queries.STATES,
        form=FlaskForm(),
        can_lift=current_user.role in CSS_ROLES,
        channel_labels={c.name: c.staff_label for c in channels.all_channels()},
    )


@bp.post("/<subscriber_id>/unquarantine")
@role_required(*CSS_ROLES)
def unquarantine(subscriber_id: str) -> Any:
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        pauses.lift_quarantine(db.session, current_user, subscriber_id, clock.now())
    except ValidationError:
        db.session.rollback()
        flash(_("That subscriber is not quarantined."), "error")
        return redirect(url_for(".endpoints"))
    commit()
    flash(_("Quarantine lifted: the endpoint receives notices again."), "success")
    return redirect(url_for(".endpoints"))


# --- MPOC import: upload, preview (nothing written), confirm -------------------------------


def _import_page(form: ImportForm, status: int = 200, **extra: Any) -> tuple[str, int]:
    return render_template(
        "admin/subscribers_import.html",
        form=form,
        platforms=platform_queries.platforms(db.session),
        max_bytes=IMPORT_MAX_BYTES,
        **extra,
    ), status


def _too_large(size: int | None) -> str:
    limit = IMPORT_MAX_BYTES / 1_000_000
    words: str
    if size is None:
        words = _(
            "The file is larger than %(limit)s MB: split it into parts and import each.",
            limit=f"{limit:g}",
        )
        return words
    words = _(
        "The file is %(size)s MB; files up to %(limit)s MB are accepted: split it into parts "
        "and import each.",
        size=f"{size / 1_000_000:.1f}",
        limit=f"{limit:g}",
    )
    return words


def _row_errors(result: Any) -> list[tuple[int, str]]:
    """The first rows with errors, each row's messages in the reader's language."""
    return [
        (line, worded_fields(problem.fields) if hasattr(problem, "fields") else problem)
        for line, problem in result.errors[:ERRORS_SHOWN]
    ]


def _check(text: str, organisation: str, *, dry_run: bool) -> tuple[Any, list[Any]]:
    """Parse and check (or import) the list: the service's result and the parsed rows."""
    rows = list(mpoc.read_csv(io.StringIO(text)))
    result = mpoc.import_contacts(
        db.session,
        rows,
        actor=current_user,
        organisation=organisation,
        now=clock.now(),
        dry_run=dry_run,
    )
    return result, rows


@bp.route("/import", methods=["GET", "POST"])
@role_required(*CSS_ROLES)
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
    upload = uploads.Upload(
        text=text,
        organisation=form.organisation.data or "",
        filename=form.file.data.filename or "",
    )
    key = uploads.save(current_user.id, upload, clock.now())
    return _import_page(
        form,
        preview=result,
        rows=[(line, row) for line, row in rows if line in result.outcomes][:PREVIEW_ROWS],
        total=len(rows),
        errors=_row_errors(result),
        upload=upload,
        confirm_form=ImportConfirmForm(formdata=None, data={"upload": key}),
    )


@bp.post("/import/confirm")
@role_required(*CSS_ROLES)
def import_confirm() -> Any:
    """Step 2: the previewed list is imported, in one transaction (all or nothing)."""
    confirm_form = ImportConfirmForm()
    form = ImportForm(formdata=None)
    if not confirm_form.validate_on_submit():
        form.form_errors.append(_("Upload the file again: the preview was incomplete."))
        return _import_page(form, 422)
    key = confirm_form.upload.data or ""
    upload = uploads.load(key, current_user.id, clock.now())
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
    uploads.drop(key)
    return _import_page(
        form, result=result, total=len(rows), errors=_row_errors(result), upload=upload
    )


@bp.get("/import/sample.csv")
@role_required(*CSS_ROLES)
def import_sample() -> Response:
    """A sample list with the columns the import reads and this page's real platform slugs."""
    slugs = [p.slug for p in platform_queries.platforms(db.session)] or ["platform-slug"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(mpoc.IMPORT_COLUMNS)
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
    allowed = getattr(current_user, "role", None) in CSS_ROLES
    if request.endpoint != "admin_subscribers.import_subscribers" or not allowed:
        return render_template(
            "error.html",
            status=413,
            title=_("Request too large"),
            message=_("The request is larger than this service accepts."),
        ), 413
    form = ImportForm(formdata=None)
    form.file.errors = [_too_large(request.content_length)]
    return _import_page(form, 413)
