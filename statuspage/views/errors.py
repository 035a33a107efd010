"""Error pages and JSON errors: every failure a client can cause answers 4xx, never 500."""

from __future__ import annotations

from contextlib import suppress

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_babel import gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import (
    HTTPException,
    MethodNotAllowed,
    SecurityError,
    ServiceUnavailable,
)

from statuspage import outage
from statuspage.extensions import db, login_manager
from statuspage.i18n import N_
from statuspage.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from statuspage.views.helpers import refusal_words, worded

# The HTTP errors a reader can meet, in the catalogs' words (werkzeug's are English only).
HTTP_WORDS = {
    400: (N_("Bad request"), N_("The request could not be understood.")),
    403: (N_("Forbidden"), N_("You may not do this.")),
    404: (N_("Not found"), N_("There is nothing here.")),
    405: (N_("Method not allowed"), N_("This address does not accept that method.")),
    409: (N_("Conflict"), N_("Someone else changed this at the same time; reload and retry.")),
    413: (N_("Request too large"), N_("The request is larger than this service accepts.")),
    429: (N_("Too many requests"), N_("Too many requests in a short time; wait and try again.")),
    503: (N_("Service unavailable"), N_("The service is briefly unavailable; try again shortly.")),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str, errors: dict[str, str] | None = None) -> Response:
    body: dict[str, object] = {"error": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError) -> Response | tuple[str, int]:
        db.session.rollback()
        # A request the rules refuse as it stands is 422; one the present state refuses
        # (already unsubscribed, a completed window) is 409, so a client can tell them apart.
        status = 409 if isinstance(exc, Conflict) else 422
        if wants_json():
            return json_error(
                status, "conflict" if status == 409 else "validation failed", exc.errors
            )
        return _page(
            status,
            gettext("Invalid input"),
            "; ".join(f"{k}: {worded(v)}" for k, v in exc.errors.items()),
        )

    @app.errorhandler(PermissionDenied)
    def permission_denied(exc: PermissionDenied) -> Response | tuple[str, int]:
        db.session.rollback()
        if wants_json():
            return json_error(403, str(exc) or "forbidden")
        return _page(403, gettext("Forbidden"), refusal_words(exc))

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Response | tuple[str, int]:
        db.session.rollback()
        if wants_json():
            return json_error(404, "not found")
        return _page(404, gettext("Not found"), gettext("There is nothing here."))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Response | tuple[str, int]:
        db.session.rollback()
        if wants_json():
            return json_error(400, exc.description)
        return _page(
            400,
            gettext("Form expired"),
            gettext("The form was stale or forged; reload and try again."),
        )

    app.register_error_handler(HTTPException, http_error_response)
    http_error = http_error_response

    def database_unreachable(exc: Exception):  # type: ignore[no-untyped-def]
        """A request that needed the database while it could not be reached (a restart, a
        failover): 503 with Retry-After, never a 500. Published pages never get here while
        they have a render to serve (`views.caching`); writes, forms, staff pages and a page
        never rendered do. Any other database error is a bug and stays a 500."""
        if not outage.unreachable(exc):
            raise exc
        with suppress(Exception):  # the connection may be gone with the database
            db.session.rollback()
        if "_login_user" not in g:  # the error page must not look the user up
            g._login_user = login_manager.anonymous_user()
        return http_error(ServiceUnavailable(retry_after=outage.RETRY_AFTER))

    app.register_error_handler(DBAPIError, database_unreachable)
    app.register_error_handler(PoolTimeout, database_unreachable)


def http_error_response(exc: HTTPException) -> Response:
    """Any HTTP error as a page in the reader's language, or JSON under /api/."""
    db.session.rollback()
    if isinstance(exc, SecurityError):
        return unknown_host()
    response = _http_error(exc)
    retry_after = _retry_after(exc)
    if retry_after:
        response.headers["Retry-After"] = retry_after
    response.headers.update(_allow(exc))
    return response


def unknown_host() -> Response:
    """A Host (or X-Forwarded-Host) that is not the site's (TRUSTED_HOSTS): a short plain
    answer that names nothing of the request, built without URLs (the request has none)."""
    response = Response(
        gettext("Unknown host") + "\n", status=400, content_type="text/plain; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _retry_after(exc: HTTPException) -> str | None:
    if exc.response is not None and "Retry-After" in exc.response.headers:
        return str(exc.response.headers["Retry-After"])
    seconds = getattr(exc, "retry_after", None)
    return str(seconds) if seconds else None


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if wants_json():
        return json_error(status, (exc.name or "error").lower())
    title, message = HTTP_WORDS.get(status, (None, None))
    # A description the view gave (already in the reader's language) says more than
    # werkzeug's stock one, which is English only; the rate limiter's ("10 per 1 minute") is
    # English too.
    if (
        exc.description
        and exc.description != type(exc).description
        and not isinstance(exc, RateLimitExceeded)
    ):
        page = _page(status, gettext(title) if title else exc.name, exc.description)
    elif title and message:
        page = _page(status, gettext(title), gettext(message))
    else:
        page = _page(status, exc.name or gettext("Error"), exc.description or "")
    return make_response(page)


def _allow(exc: HTTPException) -> dict[str, str]:
    """A 405 says which methods the address does take (RFC 9110 requires `Allow`)."""
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        return {"Allow": ", ".join(sorted(exc.valid_methods))}
    return {}
