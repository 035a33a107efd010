"""Staff forms: sign-in, incidents, platforms, users and API tokens, and the confirmable
forms every staff page uses."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from statuspage.forms.fields import LOCAL_FORMAT, MultiCheckboxField
from statuspage.i18n import N_, VOCABULARY_LABELS
from statuspage.models.vocab import (
    IMPACTS,
    INCIDENT_STATUSES,
    PLATFORM_STATUSES,
    PRIORITIES,
    ROLES,
    TRANSLATED_LANGUAGES,
)


def choices(values: list[str], labels: dict[str, str] | None = None) -> list[SelectChoice]:
    """Options whose labels are shown in the reader's language (lazily, at render time)."""
    return [
        SelectChoice(
            v,
            _l(
                (labels or {}).get(v)
                or VOCABULARY_LABELS.get(v)
                or v.replace("_", " ").capitalize()
            ),
        )
        for v in values
    ]


PRIORITY_LABELS = {code: p.label for code, p in PRIORITIES.items()}
ROLE_LABELS = {"admin": N_("Admin"), "css": N_("CSS"), "engineer": N_("Engineer")}
# A new incident starts at the plan's ordinary level: P3 ("impairment of non-critical
# services for multiple users"). P1G needs a support case number and CSS staff, so it is
# never what an engineer in a hurry gets by default.
DEFAULT_PRIORITY = "P3"
# The canned messages of the update form ("templates for common messages"), translated
# where they are filled in (`gettext(text, platforms=...)`).
MESSAGE_TEMPLATES = {
    "investigating": N_(
        "We are investigating reports of issues with %(platforms)s. Next update within the hour."
    ),
    "identified": N_("The cause has been identified and a fix is being implemented."),
    "monitoring": N_("A fix has been implemented and we are monitoring the results."),
    "resolved": N_("This incident has been resolved. Thank you for your patience."),
    "carrier": N_(
        "The issue has been traced to an upstream carrier; we are working with them "
        "and will update hourly."
    ),
}
MESSAGE_TEMPLATE_LABELS = {
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
    "carrier": N_("Upstream carrier"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    pass


class SignInCodeForm(FlaskForm):
    """The second step of a password sign-in: a code of the authenticator app, or a
    recovery code (letters too, so the keyboard is not a number pad)."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class EnrolForm(FlaskForm):
    """Setting up an authenticator: the first code it shows proves it holds the secret."""

    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmableForm(FlaskForm):
    """A form whose change may notify subscribers: its first submit shows what would be
    sent (a confirmation page carrying what was typed), and only the confirmation page's
    button, which adds `confirm=yes`, makes the change."""

    confirm = HiddenField()

    @property
    def confirmed(self) -> bool:
        return self.confirm.data == "yes"

    def hidden_tag(self, *fields: Any) -> Markup:
        """The form's hidden fields but `confirm`: only the confirmation page sends it, so a
        form shown again (after "Back to the form") never carries a confirmation along."""
        tag: Markup = super().hidden_tag(*(fields or [f for f in self if f is not self.confirm]))
        return tag


def _title_in(language: str) -> StringField:
    return StringField(
        _l(TITLE_LABELS[language]), validators=[Optional(), Length(max=200)], filters=[_strip]
    )


def _body_in(language: str) -> TextAreaField:
    return TextAreaField(_l(BODY_LABELS[language]), validators=[Length(max=20_000)])


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# The versions of staff-written text in the site's other languages, beside the English
# original; a reader of Spanish or German gets theirs where staff gave it.
TITLE_LABELS = {"es": N_("Title in Spanish"), "de": N_("Title in German")}
BODY_LABELS = {"es": N_("Message in Spanish (Markdown)"), "de": N_("Message in German (Markdown)")}


def versions(form: FlaskForm, field: str) -> dict[str, str]:
    """The form's `<field>_<language>` versions, {language: text} (blank ones too: blank
    removes a version)."""
    return {
        language: getattr(form, f"{field}_{language}").data or ""
        for language in TRANSLATED_LANGUAGES
        if hasattr(form, f"{field}_{language}")
    }


class IncidentForm(ConfirmableForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    title_es = _title_in("es")
    title_de = _title_in("de")
    impact = SelectField(_l("Impact"), choices=choices(IMPACTS))
    priority = SelectField(
        _l("Priority"),
        choices=choices(list(PRIORITIES), PRIORITY_LABELS),
        default=DEFAULT_PRIORITY,
    )
    status = SelectField(_l("Status"), choices=choices(INCIDENT_STATUSES[:4]))
    body = TextAreaField(_l("Message (Markdown)"), validators=[Length(max=20_000)])
    body_es = _body_in("es")
    body_de = _body_in("de")
    case_number = StringField(_l("Support case number"), validators=[Optional(), Length(max=64)])
    customer_case_numbers = StringField(
        _l("Related customer case numbers"), validators=[Optional(), Length(max=5000)]
    )
    deliver_notifications = BooleanField(_l("Notify subscribers"), default=True)


class UpdateForm(FlaskForm):
    status = SelectField(_l("Status"), choices=choices(INCIDENT_STATUSES))
    template = SelectField(
        _l("Message template"),
        choices=[SelectChoice("", "—")] + choices(list(MESSAGE_TEMPLATES), MESSAGE_TEMPLATE_LABELS),
        validate_choice=False,
    )
    body = TextAreaField(_l("Message (Markdown)"), validators=[Length(max=20_000)])
    body_es = _body_in("es")
    body_de = _body_in("de")
    etr = DateTimeLocalField(
        _l("Estimated time of resolution (MT)"), format=LOCAL_FORMAT, validators=[Optional()]
    )
    clear_etr = BooleanField(_l("Clear the estimated time of resolution"))
    deliver_notifications = BooleanField(_l("Notify subscribers"), default=True)


class CorrectionForm(ConfirmableForm):
    """A posted update's text, corrected: nothing else of the update changes. Subscribers
    are told again only when staff tick it (and confirm)."""

    body = TextAreaField(_l("Message (Markdown)"), validators=[Length(max=20_000)])
    body_es = _body_in("es")
    body_de = _body_in("de")
    notify = BooleanField(_l("Send the corrected update to subscribers again"), default=False)


class EditIncidentForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    title_es = _title_in("es")
    title_de = _title_in("de")
    impact = SelectField(_l("Impact"), choices=choices(IMPACTS))
    priority = SelectField(_l("Priority"), choices=choices(list(PRIORITIES), PRIORITY_LABELS))
    case_number = StringField(_l("Support case number"), validators=[Optional(), Length(max=64)])
    customer_case_numbers = StringField(
        _l("Related customer case numbers"), validators=[Optional(), Length(max=5000)]
    )


class ResolveForm(FlaskForm):
    body = TextAreaField(
        _l("Closing message (Markdown)"), validators=[DataRequired(), Length(max=20_000)]
    )
    body_es = _body_in("es")
    body_de = _body_in("de")
    deliver_notifications = BooleanField(_l("Notify subscribers"), default=True)


class P1GForm(FlaskForm):
    case_number = StringField(
        _l("Support case number"), validators=[DataRequired(), Length(max=64)]
    )
    customer_case_numbers = StringField(
        _l("Related customer case numbers"), validators=[Optional(), Length(max=5000)]
    )


class RemoveP1GForm(ConfirmableForm):
    # Nothing chosen until staff choose: removing P1G is never one click.
    priority = SelectField(
        _l("Priority after"),
        choices=[SelectChoice("", _l("— choose —"))]
        + choices([p for p in PRIORITIES if p != "P1G"], PRIORITY_LABELS),
        validators=[DataRequired(message=_l("Choose the priority the incident keeps."))],
    )


class DeleteForm(FlaskForm):
    pass


class ConfirmForm(FlaskForm):
    """The second step of a dangerous action (delete, revoke, cancel): the server does it
    only when the confirmation page's `confirm` field came back, so one stray click on the
    first button writes nothing."""

    confirm = HiddenField(validators=[AnyOf(["yes"], message=_l("Confirm with the button."))])


class PlatformForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    position = IntegerField(_l("Position"), validators=[NumberRange(0, 10_000)])


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=choices(ROLES, ROLE_LABELS))
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=200)])


class EditUserForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(ROLES, ROLE_LABELS))
    active = BooleanField(_l("Active"))
    password = PasswordField(
        _l("New password (leave blank to keep)"), validators=[Optional(), Length(min=10, max=200)]
    )


TOKEN_SCOPE_LABELS = {
    "read": N_("read: incidents, maintenance and components"),
    "write": N_("write: open and change incidents, maintenance and component statuses"),
    "subscribers": N_("subscribers: read, add and remove subscribers (personal data)"),
}


class OwnTokenForm(FlaskForm):
    """A Manage API token: a name saying what uses it, its scopes (only reading is ticked
    at first) and the days it lasts."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    scopes = MultiCheckboxField(
        _l("Scopes"),
        choices=choices(["read", "write", "subscribers"], TOKEN_SCOPE_LABELS),
        default=["read"],
    )
    days = IntegerField(
        _l("Days until it expires"), default=90, validators=[DataRequired(), NumberRange(1, 366)]
    )


class TokenForm(OwnTokenForm):
    user_id = SelectField(_l("Staff member"), choices=[], validate_choice=False)


def priority_choices(may_manage_p1g: bool, *, current: str | None = None) -> list[SelectChoice]:
    """The priorities a staff member may choose: P1G only for CSS staff. A master case's
    edit form offers P1G alone (it is removed with its own confirmed form)."""
    if current == "P1G":
        return choices(["P1G"], PRIORITY_LABELS)
    return choices([p for p in PRIORITIES if may_manage_p1g or p != "P1G"], PRIORITY_LABELS)


PLATFORM_STATUS_CHOICES = [SelectChoice("", _l("— unchanged —"))] + choices(PLATFORM_STATUSES)
