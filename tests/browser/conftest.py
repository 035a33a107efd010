"""Fixtures of the journeys in a browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import browser_checks as bc


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, one per test module."""
    with bc.chromium() as chromium:
        yield chromium
