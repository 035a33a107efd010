"""The staff's maintenance forms: unscheduled work, a window (moved, extended, narrowed,
annotated, its status, its release notes) and a series."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from statuspage.forms.fields import LOCAL_FORMAT, MultiCheckboxField
from statuspage.forms.staff import ConfirmableForm
from statuspage.models.vocab import MAINTENANCE_NOTICES

IMPACT_CHOICES = [
    SelectChoice("maintenance", _l("Customer impact (maintenance)")),
    SelectChoice("none", _l("No customer impact")),
]
NOTICE_LABELS = {
    "week_before": _l("One week before"),
    "day_before": _l("24 hours before"),
    "start": _l("At the start"),
    "completion": _l("At completion"),
}


class UnscheduledForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    starts_at = DateTimeLocalField(
        _l("Starts (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField(_l("Ends (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()])
    platforms = MultiCheckboxField(_l("Platforms affected"), validate_choice=False)
    impact = SelectField(_l("Impact"), choices=IMPACT_CHOICES)
    description = TextAreaField(
        _l("Description of the work (Markdown)"), validators=[DataRequired(), Length(max=20_000)]
    )
    justification = TextAreaField(_l("Justification"), validators=[Length(max=20_000)])
    urgency = TextAreaField(
        _l("Why it cannot wait until after 23:00 MT"), validators=[Length(max=20_000)]
    )


class WindowForm(ConfirmableForm):
    """Move, extend, narrow or annotate a window that has not finished; a change that may
    notify subscribers is confirmed first."""

    starts_at = DateTimeLocalField(
        _l("Starts (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField(_l("Ends (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()])
    platforms = MultiCheckboxField(_l("Platforms affected"), validate_choice=False)
    note = TextAreaField(_l("Note for this occurrence (Markdown)"), validators=[Length(max=20_000)])


class NoteForm(FlaskForm):
    """A finished (completed or cancelled) window takes a note, nothing else."""

    note = TextAreaField(_l("Note for this occurrence (Markdown)"), validators=[Length(max=20_000)])


class StatusForm(ConfirmableForm):
    """Moving a window along; cancelling has its own confirmation page (cancel_window).
    The choices are those the window's status allows, after an empty one: nothing is
    chosen until staff choose."""

    status = SelectField(
        _l("New status"),
        choices=[],
        validators=[DataRequired(message=_l("Choose the window's new status."))],
    )


# A status as the status form offers it, from the window's current status.
STATUS_CHOICE_LABELS = {
    ("scheduled", "in_progress"): _l("In progress: start it now"),
    ("in_progress", "verifying"): _l("Verifying"),
    ("in_progress", "completed"): _l("Completed: end it now"),
    ("verifying", "completed"): _l("Completed: end it now"),
    ("verifying", "in_progress"): _l("Back to in progress"),
}


class ReleaseNotesForm(FlaskForm):
    release_notes = TextAreaField(
        _l("Release notes (Markdown)"), validators=[DataRequired(), Length(max=20_000)]
    )


class SeriesForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    rule = StringField(
        _l("Recurrence rule (RFC 5545 RRULE)"), validators=[DataRequired(), Length(max=500)]
    )
    first_start = DateTimeLocalField(
        _l("First occurrence starts (MT)"), format=LOCAL_FORMAT, validators=[InputRequired()]
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), validators=[InputRequired(), NumberRange(1, 48 * 60)]
    )
    impact = SelectField(_l("Impact"), choices=IMPACT_CHOICES)
    platforms = MultiCheckboxField(_l("Platforms affected"), validate_choice=False)
    notices = MultiCheckboxField(
        _l("Notices"),
        choices=[SelectChoice(n, NOTICE_LABELS.get(n, n)) for n in MAINTENANCE_NOTICES],
    )
    description = TextAreaField(_l("Description (Markdown)"), validators=[Length(max=20_000)])
    justification = TextAreaField(_l("Justification"), validators=[Length(max=20_000)])
    active = BooleanField(_l("Active"), default=True)
