"""What several forms share: a list of checkboxes, and the datetime-local input, which
holds wall-clock time in the provider's zone (MT) and no offset."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from calendars.recurrence import to_local

# A datetime-local input: wall-clock time in the provider's zone (MT).
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _provider_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["STATUSPAGE_TIMEZONE"])


def aware(value: datetime | None) -> datetime | None:
    """A datetime-local input is wall-clock time in the provider's zone."""
    return to_local(value, _provider_zone()) if value is not None else None


def local_input(value: datetime) -> datetime:
    """A stored moment as a datetime-local input shows it: the provider's wall clock."""
    return value.astimezone(_provider_zone()).replace(tzinfo=None)
