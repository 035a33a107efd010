"""Small things the form views share."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm


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
