"""Locale and time zone of the reader: `?lang=`, then the `lang` cookie, then Accept-Language."""

from __future__ import annotations

from flask import current_app, request


def select_locale() -> str | None:
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if wanted in languages:
        return wanted
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    return current_app.config["STATUSPAGE_TIMEZONE"]
