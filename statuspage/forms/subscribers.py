"""The staff's MPOC import: the list uploaded (with the organisation a row may leave
blank), then the previewed upload confirmed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional


class ImportForm(FlaskForm):
    file = FileField(_l("MPOC contact list (CSV)"), validators=[FileRequired()])
    organisation = StringField(
        _l("Organisation (used where a row leaves it blank)"),
        validators=[Optional(), Length(max=200)],
    )


class ImportConfirmForm(FlaskForm):
    upload = HiddenField(validators=[DataRequired()])
