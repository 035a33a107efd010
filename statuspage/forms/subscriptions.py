"""The public subscription pages' forms: subscribe (by any channel), the code typed, the
confirmation's button, and the manage page's preferences."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    URLField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3

from statuspage import channels
from statuspage.forms.fields import MultiCheckboxField

LANGUAGE_CHOICES = [
    SelectChoice("en", "English"),
    SelectChoice("es", "Español"),
    SelectChoice("de", "Deutsch"),
]
# MT is the default zone.
DEFAULT_ZONE = "America/Denver"

# The subscribe page's input for each kind of address a channel declares.
INPUTS = {"email": EmailField, "url": URLField, "tel": TelField}


# No field validators: the services check every field at once (one round of errors); the
# form only carries the CSRF token and the values. One address field per channel, named as
# the channel says (`Channel.form_field`).
class _SubscribeForm(FlaskForm):
    channel = RadioField(
        _l("How do you want notices?"),
        choices=[],
        default="email",
        validate_choice=False,
    )


class _SubscribeChoices(FlaskForm):
    platforms = MultiCheckboxField(_l("Platforms"), choices=[], validate_choice=False)
    incidents = BooleanField(_l("Incidents and master cases"), default=True)
    maintenance = BooleanField(_l("Maintenance notices"), default=True)
    incident = HiddenField()
    language = SelectField(
        _l("Language"), choices=LANGUAGE_CHOICES, default="en", validate_choice=False
    )
    timezone = SelectField(_l("Time zone"), default=DEFAULT_ZONE, validate_choice=False)


@lru_cache(maxsize=1)
def subscribe_form_class() -> type[FlaskForm]:
    """The subscribe form: the channel chosen, each channel's address field, then the
    choices every channel shares."""
    fields: dict[str, Any] = {}
    for channel in channels.all_channels():
        kind = INPUTS.get(channel.input_type, StringField)
        fields[channel.form_field] = kind(channel.field_label)
    with_addresses = type("_SubscribeAddresses", (_SubscribeForm,), fields)
    return type("SubscribeForm", (with_addresses, _SubscribeChoices), {})


class PreferencesForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validate_choice=False)
    timezone = SelectField(_l("Time zone"), validate_choice=False)


class CodeForm(FlaskForm):
    code = StringField(_l("Code"))


class ConfirmForm(FlaskForm):
    """The confirmation page's button: only its CSRF token."""
