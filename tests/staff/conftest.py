"""What the staff tests share: the browser the page tests drive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for the module's page tests, closed after its last test."""
    with chromium() as launched:
        yield launched
