"""What the translation tests share: a language's catalog as the translators edit it."""

from __future__ import annotations

import os

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from statuspage.i18n import TRANSLATIONS_DIR


def catalog(language: str) -> Catalog:
    """The `.po` catalog of `language` (the source the `.mo` files are compiled from)."""
    path = os.path.join(TRANSLATIONS_DIR, language, "LC_MESSAGES", "messages.po")
    with open(path, "rb") as fh:
        return read_po(fh, locale=language)
