"""Uploaded MPOC lists kept between the staff import's preview and its confirmation.

The preview parses the upload and writes nothing to the database; the file waits in the
instance folder under a random key (32 random bytes, URL-safe) that only the confirmation
form carries, next to the staff member it belongs to and the moment it was uploaded. The
confirmation reads it back only for the same staff member within PREVIEW_TTL, and deletes
it. A key that is malformed, unknown, someone else's or expired reads as None, so the page
asks for the file again and nothing is imported.

Kept on disk rather than re-sent by the browser: a list near the upload limit would exceed
the form-field size Werkzeug accepts (MAX_FORM_MEMORY_SIZE), and the confirmation stays a
small request. Several machines behind one name need a shared instance folder (or sticky
sessions) for the second step to find the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

PREVIEW_TTL = timedelta(hours=1)
# Files left behind by previews never confirmed are removed on a later upload.
STALE_SECONDS = 24 * 3600
KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Upload:
    text: str
    organisation: str
    filename: str


def _folder() -> str:
    folder = os.path.join(current_app.instance_path, "imports")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def _path(key: str) -> str | None:
    return os.path.join(_folder(), f"{key}.json") if KEY.match(key or "") else None


def save(user_id: int, upload: Upload, now: datetime) -> str:
    """Keep `upload` for `user_id`; returns the key the confirmation form carries."""
    folder = _folder()
    cutoff = time.time() - STALE_SECONDS
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if os.path.getmtime(path) < cutoff:
                os.remove(path)
        except OSError:
            pass  # another worker removed it first
    key = secrets.token_urlsafe(32)
    record = {
        "user": user_id,
        "saved_at": now.isoformat(),
        "organisation": upload.organisation,
        "filename": upload.filename,
        "text": upload.text,
    }
    path = os.path.join(folder, f"{key}.json")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        json.dump(record, out)
    return key


def load(key: str, user_id: int, now: datetime) -> Upload | None:
    """The upload kept under `key` for `user_id`, or None (unknown, theirs, or expired)."""
    path = _path(key)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as found:
            record = json.load(found)
        saved_at = datetime.fromisoformat(record["saved_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.get("user") != user_id or not saved_at <= now <= saved_at + PREVIEW_TTL:
        return None
    return Upload(
        text=str(record.get("text", "")),
        organisation=str(record.get("organisation", "")),
        filename=str(record.get("filename", "")),
    )


def drop(key: str) -> None:
    """Forget an upload once imported (a second confirmation finds nothing)."""
    path = _path(key)
    if path is not None:
        with contextlib.suppress(OSError):
            os.remove(path)
