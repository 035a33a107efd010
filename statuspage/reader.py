"""Whom a response is for: everyone who asks for the same URL (a shared read), or one reader.

A published page served to an anonymous reader (`views.caching`) is a shared read: the same
bytes go to every reader and may be kept by any cache, so nothing of the reader's cookies
may shape it or ride on it. Its language comes from `?lang=` and Accept-Language only (not
the `lang` cookie, `i18n`), it sets no cookie (`remember_language` in `views.public`), and
the session is neither saved nor marked as read: Flask would otherwise add `Vary: Cookie`
(any reader carrying any cookie makes the session "accessed"), and a shared cache would then
keep one copy per cookie, which is no sharing at all.
"""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

SHARED_READ = "statuspage.shared_read"


def mark_shared_read() -> None:
    request.environ[SHARED_READ] = True


def shared_read() -> bool:
    return has_request_context() and bool(request.environ.get(SHARED_READ))


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a shared read leaves the session cookie
    alone and adds no `Vary: Cookie`."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if shared_read():
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
