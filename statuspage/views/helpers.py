"""Small things the form views share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import flash, redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from statuspage.extensions import db
from statuspage.services import ValidationError

T = TypeVar("T")


def apply_errors(
    form: FlaskForm, errors: dict[str, str], aliases: dict[str, str] | None = None
) -> None:
    """Show a service's field errors on the form's fields; the rest above the form."""
    for name, message in errors.items():
        field = getattr(form, (aliases or {}).get(name, name), None)
        if field is not None and hasattr(field, "errors") and name != "meta":
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(f"{name.replace('_', ' ')}: {message}")


def local_path(target: str | None, default: str) -> str:
    """Only follow a `next` that stays on this site (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def submit(
    form: FlaskForm,
    change: Callable[[], T],
    *,
    done: Callable[[T], str] | str,
    message: str,
    aliases: dict[str, str] | None = None,
) -> Response | None:
    """The one way a staff form writes: validate, call the service, commit once.

    On success: flash `message` and redirect to `done`. On a user's mistake (the service's
    ValidationError): roll back, put the messages on the form, and return None so the view
    shows the form again.
    """
    if not form.validate_on_submit():
        return None
    try:
        result = change()
    except ValidationError as exc:
        db.session.rollback()
        apply_errors(form, exc.errors, aliases)
        return None
    db.session.commit()
    flash(message, "success")
    return redirect(done(result) if callable(done) else done)
