"""What the staff tests share: the browser the page tests drive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import browser_checks


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium as the page tests launch it, closed after the module's last test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = browser_checks.launch(pw)
        try:
            yield launched
        finally:
            launched.close()
