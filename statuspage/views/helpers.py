"""Small things the form views share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request
from flask_babel import gettext
from flask_wtf import FlaskForm
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response

from statuspage import outage
from statuspage.extensions import db
from statuspage.services import PermissionDenied, ValidationError
from statuspage.services.errors import Message, whole_number

T = TypeVar("T")


def commit() -> None:
    """Commit the request's work: the only `session.commit()` in the views.

    Services flush and never commit, so a request's change, its audit entry and its outbox
    notices are one transaction, and this is where a view ends it. Views call it explicitly,
    after the service returned and before anything tells the user it worked (flash, redirect,
    the JSON echo, the "check your mail" page): side effects follow the commit, and mail goes
    through the outbox, never from a view. A teardown or after-request commit was rejected:
    by then the response already says "saved", so a failed commit would be a lie or a 500.

    Never half a write: the database commits all or nothing, and a failed commit is rolled
    back here. Never a 500 for a race: a constraint another request won (two people saving
    the same thing) answers 409, a database that cannot take the write answers 503; the
    error handlers turn both into a page or JSON.
    """
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        abort(
            409,
            description=gettext("Someone else changed this at the same time; reload and retry."),
        )
    except (DBAPIError, PoolTimeout) as exc:
        if not outage.unreachable(exc):
            raise
        with suppress(Exception):  # the connection may be gone with the database
            db.session.rollback()
        raise ServiceUnavailable(
            description=gettext("The database could not save this; try again shortly."),
            retry_after=outage.RETRY_AFTER,
        ) from None


def worded(message: str) -> str:
    """A service's message in the reader's language (its catalog template and parameters,
    a parameter that is itself a message worded too); text that is not in the catalogs stays
    as it is."""
    if isinstance(message, Message):
        params = {k: worded(v) if isinstance(v, Message) else v for k, v in message.params.items()}
        words: str = gettext(message.template, **params)
        return words
    said: str = gettext(message)
    return said


def refusal_words(exc: PermissionDenied) -> str:
    """Why the service refused, in the reader's language."""
    message = exc.args[0] if exc.args else ""
    return worded(message) if message else gettext("You may not do this.")


def deny(form: FlaskForm, exc: PermissionDenied) -> None:
    """Say on the form, above its fields, why the service refused it."""
    form.form_errors.append(refusal_words(exc))
    form.denied = True


def form_status(form: FlaskForm) -> int:
    """The status of a page showing `form`: 403 after a refusal, 422 after a POST that wrote
    nothing, else 200."""
    if getattr(form, "denied", False):
        return 403
    return 422 if request.method == "POST" else 200


def worded_fields(errors: Mapping[str, str]) -> str:
    """Field errors as one line (`field: message; ...`), each in the reader's language."""
    return "; ".join(
        f"{name.replace('_', ' ')}: {worded(message)}" for name, message in errors.items()
    )


def apply_errors(
    form: FlaskForm, errors: dict[str, str], aliases: dict[str, str] | None = None
) -> None:
    """Show a service's field errors on the form's fields, in the reader's language; the rest
    above the form."""
    for name, raw in errors.items():
        message = worded(raw)
        field = getattr(form, (aliases or {}).get(name, name), None)
        if field is not None and hasattr(field, "errors") and name != "meta":
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(f"{name.replace('_', ' ')}: {message}")


def page_number(limit: int = 100_000) -> int:
    """The `page` query parameter of a staff list (1 when absent); 400 for anything that is
    not a page number typed in ASCII digits ("²" and "１" included)."""
    page = whole_number(request.args.get("page", "1"), max_digits=6)
    if page is None or not 1 <= page <= limit:
        abort(400)
    return page


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
    ValidationError) or a refusal (PermissionDenied): roll back, put the messages on the
    form, and return None so the view shows the form again, with what was typed
    (`form_status` gives the answer's status).
    """
    if not form.validate_on_submit():
        return None
    try:
        result = change()
    except ValidationError as exc:
        db.session.rollback()
        apply_errors(form, exc.errors, aliases)
        return None
    except PermissionDenied as exc:
        db.session.rollback()
        deny(form, exc)
        return None
    commit()
    flash(message, "success")
    return redirect(done(result) if callable(done) else done)
