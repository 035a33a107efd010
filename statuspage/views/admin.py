"""Staff pages: dashboard, incidents and master cases, platforms, users, tokens, audit log.

Every route checks the role on the server; the P1G rule itself lives in the incident
service, so a form that slips past a template still gets 403.
"""

from __future__ import annotations

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
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3

from statuspage import clock
from statuspage.extensions import db
from statuspage.forms.fields import aware
from statuspage.forms.staff import (
    DEFAULT_PRIORITY,
    MESSAGE_TEMPLATES,
    PLATFORM_STATUS_CHOICES,
    PRIORITY_LABELS,
    ROLE_LABELS,
    ConfirmForm,
    CorrectionForm,
    DeleteForm,
    EditIncidentForm,
    EditUserForm,
    IncidentForm,
    P1GForm,
    PlatformForm,
    RemoveP1GForm,
    ResolveForm,
    TokenForm,
    UpdateForm,
    UserForm,
    priority_choices,
    versions,
)
from statuspage.i18n import language as in_language
from statuspage.models.vocab import (
    CSS_ROLES,
    ORIGINAL_LANGUAGE,
    PRIORITIES,
    STAFF_ROLES,
    TRANSLATED_LANGUAGES,
)
from statuspage.queries import incidents as incident_queries
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import notices as notice_queries
from statuspage.queries import platforms as platform_queries
from statuspage.queries import staff as staff_queries
from statuspage.queries import subscribers as subscriber_queries
from statuspage.security import password_hash_method, role_required
from statuspage.services import (
    NotFound,
    PermissionDenied,
    ValidationError,
    factors,
    incidents,
    sessions,
    staff,
)
from statuspage.services import platforms as platform_service
from statuspage.views.confirm import confirmation_page, first_step, going_back, rehearse
from statuspage.views.helpers import apply_errors, commit, deny, form_status, page_number, submit

if TYPE_CHECKING:
    from statuspage.models import Incident

bp = Blueprint("admin", __name__, url_prefix="/admin")

ALIASES = {"components": "body", "name": "title"}
AUDIT_PAGE = 50
LANGUAGES = TRANSLATED_LANGUAGES


def _platform_statuses() -> dict[str, str]:
    """The per-platform status selects (`platform-<slug>`), unchanged ones left out."""
    return {
        key.removeprefix("platform-"): value
        for key, value in request.form.items()
        if key.startswith("platform-") and value
    }


def _message_templates(found: Incident) -> dict[str, dict[str, str]]:
    """The canned messages, worded for this incident in every language the text is kept in
    ({key: {"en": ..., "es": ..., "de": ...}}): a template fills the original and each
    version, whatever the staff member's own language."""
    names = ", ".join(ip.platform.name for ip in found.platforms)
    filled: dict[str, dict[str, str]] = {key: {} for key in MESSAGE_TEMPLATES}
    for language in (ORIGINAL_LANGUAGE, *TRANSLATED_LANGUAGES):
        with in_language(language) as gettext:
            platforms = names or gettext("the affected platforms")
            for key, text in MESSAGE_TEMPLATES.items():
                filled[key][language] = gettext(text, platforms=platforms)
    return filled


def _fill_template(form: UpdateForm | ResolveForm, texts: dict[str, str]) -> None:
    """Without JavaScript: the chosen template's words into the message and its versions."""
    form.body.data = texts.get(ORIGINAL_LANGUAGE, "")
    for language in TRANSLATED_LANGUAGES:
        getattr(form, f"body_{language}").data = texts.get(language, "")


def _standing_etr(found: Incident) -> datetime | None:
    """The ETR the next update keeps unless staff clear it (one still ahead), as the form's
    wall-clock time in the provider's zone."""
    etr = found.etr
    if etr is None or etr <= clock.now():
        return None
    return etr.astimezone(ZoneInfo(current_app.config["STATUSPAGE_TIMEZONE"])).replace(tzinfo=None)


def _update_form(found: Incident) -> UpdateForm:
    """The update form: on a first view, the incident's status and its standing ETR filled in
    (an ETR carries forward until it is cleared on purpose)."""
    if request.method == "POST":
        return UpdateForm()
    return UpdateForm(data={"status": found.status, "etr": _standing_etr(found)})


@bp.app_template_filter("role")
def role_label(role: str) -> str:
    """A staff role in the reader's language: `css` -> "CSS"."""
    label: str = _(ROLE_LABELS.get(role, role))
    return label


@bp.get("/")
@role_required(*STAFF_ROLES)
def dashboard() -> Any:
    now = clock.now()
    open_incidents = incident_queries.open_incidents(db.session)
    recent_notices = notice_queries.recent_notices(db.session, limit=15)
    return render_template(
        "admin/dashboard.html",
        incidents=open_incidents,
        clocks={i.id: (i.next_update_due, i.is_update_overdue(now)) for i in open_incidents},
        upcoming=maintenance_queries.upcoming(db.session, now, days=14),
        active=maintenance_queries.active(db.session),
        notices=recent_notices,
        counts=notice_queries.delivery_counts(db.session),
        subscribers=subscriber_queries.subscriber_counts(db.session),
        platforms=platform_queries.platforms(db.session),
    )


@bp.route("/incidents/new", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def new_incident() -> Any:
    """Open an incident. With "Notify subscribers" ticked, the first submit shows what the
    notice would say and to how many, and only the confirmation opens it."""
    form = IncidentForm()
    may_p1g = incidents.can_manage_p1g(current_user)
    form.priority.choices = priority_choices(may_p1g)
    if not form.validate_on_submit() or going_back(form):
        return _new_incident_page(form, may_p1g, 200 if going_back(form) else form_status(form))

    def change() -> Incident:
        return incidents.create_incident(
            db.session,
            current_user,
            title=form.title.data or "",
            body=form.body.data or "",
            status=form.status.data or "investigating",
            impact=form.impact.data or "none",
            priority=form.priority.data or DEFAULT_PRIORITY,
            platform_statuses=_platform_statuses(),
            case_number=form.case_number.data,
            customer_case_numbers=form.customer_case_numbers.data,
            deliver_notifications=form.deliver_notifications.data,
            title_translations=versions(form, "title"),
            body_translations=versions(form, "body"),
            now=clock.now(),
        )

    if form.deliver_notifications.data and not form.confirmed:
        try:
            planned = rehearse(change)
        except ValidationError as exc:
            apply_errors(form, exc.errors, ALIASES)
            return _new_incident_page(form, may_p1g, 422)
        except PermissionDenied as exc:
            deny(form, exc)
            return _new_incident_page(form, may_p1g, 403)
        title = (form.title.data or "").strip()
        return confirmation_page(
            form,
            title=_("Open incident and notify"),
            question=_("Open “%(title)s” and notify its subscribers?", title=title),
            consequences=[
                _("It shows on the public pages at once, with its platforms' statuses."),
                *(
                    [_("It is a master case: every public page carries its banner.")]
                    if form.priority.data == "P1G"
                    else []
                ),
                _("The notice below goes out within a minute and cannot be called back."),
            ],
            button=_("Open and notify"),
            cancel=url_for("admin.new_incident"),
            refused=_("Nothing was opened: confirm with the red button."),
            planned=planned,
            carry=True,
            asked=first_step(form),
        )
    saved = submit(
        form,
        change,
        done=lambda created: url_for("admin.incident", incident_id=created.id),
        message=_("Incident opened."),
        aliases=ALIASES,
    )
    return saved or _new_incident_page(form, may_p1g, form_status(form))


def _new_incident_page(form: IncidentForm, may_p1g: bool, status: int) -> tuple[str, int]:
    return render_template(
        "admin/incident_new.html",
        form=form,
        platforms=platform_queries.platforms(db.session),
        status_choices=PLATFORM_STATUS_CHOICES,
        can_p1g=may_p1g,
    ), status


@bp.route("/incidents/<incident_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def incident(incident_id: str) -> Any:
    found = incidents.get(db.session, incident_id)
    form = _update_form(found)
    if request.method == "POST" and request.form.get("use_template"):
        # Without JavaScript: fill the chosen template into the message and show it again.
        _fill_template(form, _message_templates(found).get(form.template.data or "", {}))
        return _incident_page(found, form), 200
    if form.validate_on_submit():
        clear = bool(form.clear_etr.data)
        try:
            incidents.post_update(
                db.session,
                current_user,
                found,
                status=form.status.data,
                body=form.body.data or "",
                platform_statuses=_platform_statuses(),
                deliver_notifications=form.deliver_notifications.data,
                # Clearing wins over the ETR the form was filled with.
                etr=None if clear else aware(form.etr.data),
                clear_etr=clear,
                body_translations=versions(form, "body"),
                now=clock.now(),
            )
        except ValidationError as exc:
            db.session.rollback()
            found = incidents.get(db.session, incident_id)
            apply_errors(form, exc.errors, ALIASES)
        except PermissionDenied as exc:
            db.session.rollback()
            found = incidents.get(db.session, incident_id)
            deny(form, exc)
        else:
            commit()
            flash(_("Update posted."), "success")
            return redirect(url_for("admin.incident", incident_id=found.id))
    return _incident_page(found, form), form_status(form)


def _incident_page(
    found: Incident,
    form: UpdateForm | None = None,
    *,
    p1g_form: P1GForm | None = None,
    remove_form: RemoveP1GForm | None = None,
) -> str:
    """The staff incident page; a form handed in keeps what was typed and its errors."""
    now = clock.now()
    return render_template(
        "admin/incident.html",
        incident=found,
        # formdata=None: a P1G post must not fill the update form with its fields.
        form=form
        or UpdateForm(formdata=None, data={"status": found.status, "etr": _standing_etr(found)}),
        lapsed_etr=found.etr if found.etr is not None and found.etr <= now else None,
        languages=TRANSLATED_LANGUAGES,
        platforms=platform_queries.platforms(db.session),
        status_choices=PLATFORM_STATUS_CHOICES,
        templates=_message_templates(found),
        next_due=found.next_update_due,
        overdue=found.is_update_overdue(now),
        p1g_form=p1g_form
        or P1GForm(
            prefix="p1g",
            formdata=None,
            data={
                "case_number": found.case_number,
                "customer_case_numbers": ", ".join(found.customer_case_numbers or []),
            },
        ),
        remove_form=remove_form or RemoveP1GForm(prefix="rm", formdata=None),
        can_p1g=incidents.can_manage_p1g(current_user),
        can_change=incidents.may_change(current_user, found),
    )


@bp.route("/incidents/<incident_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def edit_incident(incident_id: str) -> Any:
    found = incidents.get(db.session, incident_id)
    may_p1g = incidents.can_manage_p1g(current_user)
    if not incidents.may_change(current_user, found):
        # A master case is CSS's: say so, rather than offer fields the service refuses.
        return render_template(
            "admin/incident_edit.html", form=None, incident=found, can_p1g=may_p1g
        ), 403
    form = EditIncidentForm(
        data={
            **{
                f"title_{lang}": found.title_translations.get(lang, "")
                for lang in TRANSLATED_LANGUAGES
            },
            "title": found.title,
            "impact": found.impact,
            "priority": found.priority,
            "case_number": found.case_number or "",
            "customer_case_numbers": ", ".join(found.customer_case_numbers or []),
        }
    )
    form.priority.choices = priority_choices(may_p1g, current=found.priority)
    saved = submit(
        form,
        lambda: incidents.edit_incident(
            db.session,
            current_user,
            found,
            title=form.title.data,
            impact=form.impact.data,
            priority=form.priority.data,
            case_number=form.case_number.data or "",
            customer_case_numbers=form.customer_case_numbers.data or "",
            title_translations=versions(form, "title"),
            now=clock.now(),
        ),
        done=url_for("admin.incident", incident_id=found.id),
        message=_("Incident edited."),
        aliases=ALIASES,
    )
    return saved or (
        render_template("admin/incident_edit.html", form=form, incident=found, can_p1g=may_p1g),
        form_status(form),
    )


@bp.route("/incidents/<incident_id>/resolve", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def resolve_incident(incident_id: str) -> Any:
    found = incidents.get(db.session, incident_id)
    closing = _message_templates(found)["resolved"]
    form = ResolveForm(
        data={"body": closing[ORIGINAL_LANGUAGE]}
        | {f"body_{lang}": closing[lang] for lang in TRANSLATED_LANGUAGES}
    )
    saved = submit(
        form,
        lambda: incidents.resolve(
            db.session,
            current_user,
            found,
            body=form.body.data or "",
            deliver_notifications=form.deliver_notifications.data,
            body_translations=versions(form, "body"),
            now=clock.now(),
        ),
        done=url_for("admin.incident", incident_id=found.id),
        message=_("Incident resolved."),
        aliases=ALIASES,
    )
    return saved or (
        render_template("admin/incident_resolve.html", form=form, incident=found),
        form_status(form),
    )


@bp.route("/incidents/<incident_id>/updates/<update_id>/correct", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def correct_update(incident_id: str, update_id: str) -> Any:
    """Correct a posted update's text (and its versions). Sending it to subscribers again is
    a choice, unticked by default; with it, the next page shows what goes out to how many
    and only its confirmation makes the correction."""
    found = incidents.get(db.session, incident_id)
    update = incidents.get_update(db.session, found, update_id)
    if not incidents.may_change(current_user, found):
        return render_template(
            "admin/update_correct.html", form=None, incident=found, update=update
        ), 403
    form = CorrectionForm(
        data={"body": update.body}
        | {f"body_{lang}": update.body_translations.get(lang, "") for lang in TRANSLATED_LANGUAGES}
    )

    def change() -> object:
        return incidents.correct_update(
            db.session,
            current_user,
            update,
            body=form.body.data or "",
            body_translations=versions(form, "body"),
            notify=bool(form.notify.data),
            now=clock.now(),
        )

    def page(status: int) -> tuple[str, int]:
        return render_template(
            "admin/update_correct.html", form=form, incident=found, update=update
        ), status

    if not form.validate_on_submit() or going_back(form):
        return page(200 if going_back(form) else form_status(form))
    if form.notify.data and not form.confirmed:
        try:
            planned = rehearse(change)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
            return page(422)
        except PermissionDenied as exc:
            deny(form, exc)
            return page(403)
        return confirmation_page(
            form,
            title=_("Correct and notify"),
            question=_("Correct this update of “%(title)s” and send it again?", title=found.title),
            consequences=[
                _(
                    "The corrected text replaces the old one on every page, feed and API "
                    "answer, marked as edited."
                ),
                _("The notice below goes out within a minute and cannot be called back."),
            ],
            button=_("Correct and notify"),
            cancel=url_for("admin.correct_update", incident_id=found.id, update_id=update.id),
            refused=_("Nothing was changed: confirm with the red button."),
            planned=planned,
            carry=True,
            asked=first_step(form),
        )
    saved = submit(
        form,
        change,
        done=url_for("admin.incident", incident_id=found.id) + f"#update-{update.id}",
        message=_("Update corrected."),
    )
    return saved or page(form_status(form))


@bp.post("/incidents/<incident_id>/p1g")
@role_required(*CSS_ROLES)
def designate_p1g(incident_id: str) -> Any:
    found = incidents.get(db.session, incident_id)
    form = P1GForm(prefix="p1g")
    saved = submit(
        form,
        lambda: incidents.designate_p1g(
            db.session,
            current_user,
            found,
            case_number=form.case_number.data or "",
            customer_case_numbers=form.customer_case_numbers.data,
            now=clock.now(),
        ),
        done=url_for("admin.incident", incident_id=found.id),
        message=_("Designated a master case (P1G)."),
    )
    return saved or (_incident_page(found, p1g_form=form), form_status(form))


@bp.post("/incidents/<incident_id>/p1g/remove")
@role_required(*CSS_ROLES)
def remove_p1g(incident_id: str) -> Any:
    """Removing P1G asks first: the first submit shows what changes, its confirmation does it."""
    found = incidents.get(db.session, incident_id)
    form = RemoveP1GForm(prefix="rm")
    priority = form.priority.data or ""

    def change() -> Incident:
        return incidents.remove_p1g(
            db.session, current_user, found, priority=priority, now=clock.now()
        )

    if going_back(form):
        return _incident_page(found, remove_form=form), 200
    if form.validate_on_submit() and not form.confirmed:
        try:
            planned = rehearse(change)
        except ValidationError as exc:
            apply_errors(form, exc.errors)
        except PermissionDenied as exc:
            deny(form, exc)
        else:
            promise = PRIORITIES[priority]
            return confirmation_page(
                form,
                title=_("Remove P1G"),
                question=_(
                    "Make “%(title)s” an ordinary incident of %(priority)s?",
                    title=found.title,
                    priority=_(PRIORITY_LABELS[priority]),
                ),
                consequences=[
                    _("The master-case banner leaves every public page and the embed."),
                    _(
                        "Its updates are then due as %(priority)s promises: %(frequency)s.",
                        priority=_(PRIORITY_LABELS[priority]),
                        frequency=_(promise.update_frequency),
                    ),
                    _("Subscribers are not told; post an update to tell them."),
                ],
                button=_("Remove P1G"),
                cancel=url_for("admin.incident", incident_id=found.id),
                refused=_("Nothing was changed: confirm with the red button."),
                planned=planned,
                carry=True,
                asked=first_step(form),
            )
        return _incident_page(found, remove_form=form), form_status(form)
    saved = submit(
        form,
        change,
        done=url_for("admin.incident", incident_id=found.id),
        message=_("No longer a master case."),
    )
    return saved or (_incident_page(found, remove_form=form), form_status(form))


@bp.route("/incidents/<incident_id>/delete", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def delete_incident(incident_id: str) -> Any:
    """Deleting is two steps: this page asks, and only its Confirm button deletes."""
    found = incidents.get(db.session, incident_id)
    form = ConfirmForm(prefix="del")
    if form.validate_on_submit():
        incidents.delete_incident(db.session, current_user, found, clock.now())
        commit()
        flash(_("Incident “%(title)s” deleted.", title=found.title), "success")
        return redirect(url_for("admin.dashboard"))
    return confirmation_page(
        form,
        title=_("Delete incident"),
        question=_("Delete the incident “%(title)s”?", title=found.title),
        consequences=[
            _("Its timeline (%(count)s updates) is deleted with it.", count=len(found.updates)),
            _("Its platforms return to operational unless something else holds them."),
            _("Its public page stops existing. This cannot be undone."),
        ],
        button=_("Delete incident"),
        cancel=url_for("admin.incident", incident_id=found.id),
        refused=_("Nothing was deleted: confirm with the red button."),
    )


# --- platforms, users, tokens, audit (admins) ------------------------------------------


@bp.get("/platforms")
@role_required("admin")
def platforms() -> Any:
    return render_template("admin/platforms.html", platforms=platform_queries.platforms(db.session))


@bp.route("/platforms/<platform_id>", methods=["GET", "POST"])
@role_required("admin")
def platform(platform_id: str) -> Any:
    found = platform_queries.get(db.session, platform_id)
    form = PlatformForm(obj=found)
    saved = submit(
        form,
        lambda: platform_service.update_platform(
            db.session,
            current_user,
            found,
            name=form.name.data,
            description=form.description.data,
            position=form.position.data,
            now=clock.now(),
        ),
        done=url_for("admin.platforms"),
        message=_("Platform saved."),
    )
    return saved or (
        render_template("admin/platform.html", form=form, platform=found),
        form_status(form),
    )


@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users() -> Any:
    form = UserForm()
    saved = submit(
        form,
        lambda: staff.create_user(
            db.session,
            current_user,
            email=form.email.data or "",
            role=form.role.data or "",
            password=form.password.data,
            name=form.name.data or "",
            now=clock.now(),
            hash_method=password_hash_method(),
        ),
        done=url_for("admin.users"),
        message=_("User created."),
    )
    listed = staff_queries.users(db.session)
    return saved or (
        render_template("admin/users.html", form=form, users=listed),
        form_status(form),
    )


@bp.route("/users/<user_id>", methods=["GET", "POST"])
@role_required("admin")
def user(user_id: str) -> Any:
    found = staff.get_user(db.session, user_id)
    form = EditUserForm(obj=found)
    saved = submit(
        form,
        lambda: staff.update_user(
            db.session,
            current_user,
            found,
            role=form.role.data,
            active=form.active.data,
            password=form.password.data or None,
            now=clock.now(),
            hash_method=password_hash_method(),
        ),
        done=url_for("admin.users"),
        message=_("User saved."),
    )
    return saved or (
        render_template(
            "admin/user.html",
            form=form,
            user=found,
            sign_out_form=DeleteForm(prefix="so"),
            end_form=DeleteForm(prefix="end"),
            sessions=staff_queries.open_sessions(db.session, found),
            authenticator=staff_queries.authenticator(db.session, found),
            needs_factor=factors.required(found),
            at=clock.now(),
        ),
        form_status(form),
    )


@bp.post("/users/<user_id>/sessions/<session_id>/end")
@role_required("admin")
def end_session(user_id: str, session_id: str) -> Any:
    """Sign one device of a staff member out (audited)."""
    found = staff.get_user(db.session, user_id)
    row = staff_queries.get_session(db.session, session_id)
    if row.user_id != found.id:
        abort(404)
    if not DeleteForm(prefix="end").validate_on_submit():
        abort(400)
    sessions.end(db.session, current_user, row, reason="revoked by an admin", now=clock.now())
    commit()
    flash(_("That session is signed out."), "success")
    return redirect(url_for("admin.user", user_id=found.id))


@bp.route("/users/<user_id>/authenticator/remove", methods=["GET", "POST"])
@role_required("admin")
def remove_authenticator(user_id: str) -> Any:
    """A lost phone: remove a staff member's authenticator and recovery codes; they set up
    a new one at their next password sign-in. Their sessions end too."""
    found = staff.get_user(db.session, user_id)
    form = ConfirmForm(prefix="rm")
    if form.validate_on_submit():
        now = clock.now()
        if factors.remove(db.session, current_user, found, now):
            sessions.end_all(db.session, found, reason="authenticator removed", now=now)
        commit()
        flash(_("The authenticator of %(email)s is removed.", email=found.email), "success")
        return redirect(url_for("admin.user", user_id=found.id))
    return confirmation_page(
        form,
        title=_("Remove authenticator"),
        question=_("Remove the authenticator app of %(email)s?", email=found.email),
        consequences=[
            _("Their codes and recovery codes stop working, and they are signed out."),
            _(
                "Whoever signs in next with their password sets up a new one: make sure that "
                "is them."
            ),
        ],
        button=_("Remove authenticator"),
        cancel=url_for("admin.user", user_id=found.id),
        refused=_("Nothing was removed: confirm with the red button."),
    )


@bp.post("/users/<user_id>/sign-out")
@role_required("admin")
def sign_out_everywhere(user_id: str) -> Any:
    """End every session the user has open (a lost laptop, a leaked cookie)."""
    found = staff.get_user(db.session, user_id)
    if not DeleteForm(prefix="so").validate_on_submit():
        abort(400)
    staff.sign_out_everywhere(db.session, current_user, found, clock.now())
    commit()
    flash(_("%(email)s is signed out everywhere.", email=found.email), "success")
    return redirect(url_for("admin.user", user_id=found.id))


@bp.route("/tokens", methods=["GET", "POST"])
@role_required("admin")
def tokens() -> Any:
    form = TokenForm()
    everyone = staff_queries.active_users(db.session)
    form.user_id.choices = [SelectChoice(str(u.id), f"{u.email} ({u.role})") for u in everyone]
    plaintext = None
    if form.validate_on_submit():
        now = clock.now()
        try:
            owner = staff.get_user(db.session, form.user_id.data or "")
        except NotFound:
            form.user_id.errors = [_("Choose a staff member.")]
        else:
            try:
                plaintext, _token = staff.create_token(
                    db.session,
                    current_user,
                    owner,
                    name=form.name.data or "",
                    scopes=list(form.scopes.data or []),
                    expires_at=staff.token_expiry(now, form.days.data),
                    now=now,
                )
            except ValidationError as exc:
                db.session.rollback()
                apply_errors(form, exc.errors, {"expires": "days", "user": "user_id"})
            else:
                commit()
                form = TokenForm(formdata=None)
                form.user_id.choices = [
                    SelectChoice(str(u.id), f"{u.email} ({u.role})") for u in everyone
                ]
    listed = staff_queries.tokens(db.session)
    status = 422 if request.method == "POST" and plaintext is None else 200
    return render_template(
        "admin/tokens.html",
        form=form,
        tokens=listed,
        plaintext=plaintext,
        at=clock.now(),
    ), status


@bp.route("/tokens/<token_id>/revoke", methods=["GET", "POST"])
@role_required("admin")
def revoke_token(token_id: str) -> Any:
    """Revoking is two steps: this page asks, and only its Confirm button revokes."""
    token = staff_queries.get_token(db.session, token_id)
    form = ConfirmForm(prefix="rv")
    if form.validate_on_submit():
        staff.revoke_token(db.session, current_user, token, clock.now())
        commit()
        flash(_("Token revoked."), "success")
        return redirect(url_for("admin.tokens"))
    label = f"{token.prefix}… ({token.name})" if token.name else f"{token.prefix}…"
    return confirmation_page(
        form,
        title=_("Revoke API token"),
        question=_("Revoke the token %(label)s of %(email)s?", label=label, email=token.user.email),
        consequences=[
            _("Every tool using it is refused from the next request on."),
            _("A revoked token cannot be restored; create a new one instead."),
        ],
        button=_("Revoke token"),
        cancel=url_for("admin.tokens"),
        refused=_("Nothing was revoked: confirm with the red button."),
    )


@bp.get("/audit")
@role_required("admin")
def audit() -> Any:
    page = page_number()
    entries, total = staff_queries.audit_page(db.session, page, AUDIT_PAGE)
    return render_template(
        "admin/audit.html",
        entries=entries,
        page=page,
        pages=max((total + AUDIT_PAGE - 1) // AUDIT_PAGE, 1),
    )
