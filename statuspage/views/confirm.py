"""The confirmation step of a dangerous staff action.

No script needed: the action's first request (a link, or the form's first submit) shows a
page saying what will happen, with a red button and a way back; only that button's request,
which carries `confirm=yes` and the CSRF token, does it. A request that sent a confirmation
other than "yes" (or, for delete, revoke and cancel, none at all) writes nothing and shows the
page again with a message (422).

For a change that notifies subscribers (open and notify, start, complete, cancel or move a
window, remove P1G) the page also says what would be sent: each notice's kind, its subject
and text as the mail carries them (in the staff member's language), and how many recipients
it would reach per channel, counted by `queries.notices.recipients_by_channel` over the
audience the change really produces (`services.notices.rehearse`). What was typed rides on
the page as hidden fields, so the confirmation makes exactly the change asked for, and
"Back to the form" shows the form again with all of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from statuspage import channels
from statuspage.extensions import db
from statuspage.queries import notices as notice_queries
from statuspage.renderers.mail import KINDS as MAIL_KINDS
from statuspage.renderers.mail import render_notice
from statuspage.renderers.templating import humanize_status
from statuspage.services import notices
from statuspage.services.platforms import COMPONENT_UPDATE_KIND

# Fields of a form that are never carried to its confirmation page.
NOT_CARRIED = ("csrf_token", "confirm", "back")


def rehearse(change: Callable[[], object]) -> list[notices.Planned]:
    """What `change` would send, counted per channel; nothing is written."""
    return notices.rehearse(db.session, change, notice_queries.recipients_by_channel)


def going_back(form: FlaskForm) -> bool:
    """Whether the confirmation page's "Back to the form" was pressed."""
    return request.method == "POST" and bool(request.form.get(_name(form, "back")))


def first_step(form: FlaskForm) -> bool:
    """Whether this POST is the form's own submit (no confirmation sent yet)."""
    return not request.form.get(_name(form, "confirm"))


def _name(form: FlaskForm, field: str) -> str:
    prefix = getattr(form, "_prefix", "")
    return f"{prefix}{field}"


def carried(form: FlaskForm) -> list[tuple[str, str]]:
    """Every value the form's submit sent (but its token and the confirmation), to send
    again from the confirmation page: what was typed is what is confirmed."""
    skip = {_name(form, name) for name in NOT_CARRIED}
    return [
        (name, value)
        for name, values in request.form.lists()
        if name not in skip
        for value in values
    ]


def _described(planned: Sequence[notices.Planned]) -> list[dict[str, Any]]:
    """Each notice as the page shows it: kind, subject and text of its mail in the reader's
    language, recipients per channel."""
    tz = current_app.config["STATUSPAGE_TIMEZONE"]
    language = str(get_locale() or "en")
    shown = []
    for notice in planned:
        if notice.kind == COMPONENT_UPDATE_KIND:
            # Statuspage's webhook event: JSON, no mail; say which status changes.
            stored: Mapping[str, Any] = notice.payload  # Statuspage's event, not a notice's
            event = stored["component_update"]
            subject = _(
                "%(platform)s: %(old)s → %(new)s",
                platform=notice.payload.get("platform_name", ""),
                old=humanize_status(event["old_status"]),
                new=humanize_status(event["new_status"]),
            )
            body = ""
        elif notice.kind in MAIL_KINDS:
            mail = render_notice(notice.payload, language, tz, tz)
            subject = mail.subject
            # The text without its footer (each recipient's manage and unsubscribe links).
            body = mail.text.split("\n--\n", 1)[0].strip()
        else:  # a kind no mail template words (yet): its name is all there is to show
            subject, body = "", ""
        # Every channel, in the order the registry lists them (one no longer there by name).
        known = channels.all_channels()
        reach = [(str(c.staff_label), notice.recipients.get(c.name, 0)) for c in known]
        reach += [
            (mode, n)
            for mode, n in sorted(notice.recipients.items())
            if channels.find(mode) is None
        ]
        shown.append(
            {
                "kind": notice.kind,
                "subject": subject,
                "text": body,
                "channels": reach,
                "total": notice.total,
            }
        )
    return shown


def confirmation_page(
    form: FlaskForm,
    *,
    title: str,
    question: str,
    consequences: list[str],
    button: str,
    cancel: str,
    refused: str,
    planned: Sequence[notices.Planned] | None = None,
    carry: bool = False,
    asked: bool = False,
) -> tuple[str, int]:
    """The page asking to confirm.

    `planned`: the notices the change would send (None: the action sends nothing worth
    listing; an empty list says that no subscriber is notified). `carry`: send what the
    form's submit sent again, and offer "Back to the form". `asked`: this request is the
    form's first submit (200); otherwise a POST is a confirmation that failed, answered 422
    with `refused`.
    """
    refusing = request.method == "POST" and not asked
    return render_template(
        "admin/confirm.html",
        form=form,
        title=title,
        question=question,
        consequences=consequences,
        button=button,
        cancel=cancel,
        refused=refused if refusing else None,
        planned=None if planned is None else _described(planned),
        carried=carried(form) if carry else [],
        back_name=_name(form, "back") if carry else None,
        confirm_name=_name(form, "confirm"),
    ), 422 if refusing else 200
