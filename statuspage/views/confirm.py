"""The confirmation step of a dangerous staff action (delete, revoke, cancel).

No script needed: the action's first request (a link, or a form without `confirm`) shows a
page saying what will happen, with a red Confirm button and a way back; only that button's
request, which carries `confirm=yes` and the CSRF token, does it. A request without the
confirmation writes nothing and shows the page again with a message (422).
"""

from __future__ import annotations

from flask import render_template, request

from statuspage.forms import ConfirmForm


def confirmation_page(
    form: ConfirmForm,
    *,
    title: str,
    question: str,
    consequences: list[str],
    button: str,
    cancel: str,
    refused: str,
) -> tuple[str, int]:
    """The page asking to confirm; `refused` is shown when a POST came without it."""
    posted = request.method == "POST"
    return render_template(
        "admin/confirm.html",
        form=form,
        title=title,
        question=question,
        consequences=consequences,
        button=button,
        cancel=cancel,
        refused=refused if posted else None,
    ), 422 if posted else 200
