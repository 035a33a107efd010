"""What the staff tests share: the browser the page tests drive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import browser_checks as bc


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for the module's page tests, closed after its last test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = bc.launch(pw)
        yield chromium
        chromium.close()
