"""Domain errors, turned into a form message or a JSON 4xx at the edge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")


class Message(str):
    """An error message that can be worded in the reader's language.

    It is the English text (so the JSON API, logs and tests read it as a plain string) and
    keeps its catalog `template` (marked with `N_` where it is written) and `params`, so a
    page shows `gettext(template) % params` in the reader's language.
    """

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Message:
        self = super().__new__(cls, template % params if params else template)
        self.template = template
        self.params = params
        return self


class ValidationError(Exception):
    """A mistake the user can fix: a mapping of field name to message."""

    def __init__(self, errors: dict[str, str] | str, field: str = "__all__") -> None:
        self.errors = {field: errors} if isinstance(errors, str) else dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Conflict(ValidationError):
    """A well-formed request that the current state refuses: an address that has already
    unsubscribed, a window that has completed, a URL already subscribed. A form shows it like
    any mistake; the JSON APIs answer 409 rather than 422, since the request itself was
    right and only what is there now stands in its way."""


class PermissionDenied(Exception):
    """The actor's role does not allow this change."""


class NotFound(Exception):
    """A referenced object does not exist."""


class Errors:
    """Collects field errors so one request reports every mistake at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str, **params: Any) -> None:
        """Record `message` for `field` (the first one wins); `params` fill its `%(name)s`
        placeholders, so the template stays translatable."""
        if field not in self.errors:
            self.errors[field] = (
                message if isinstance(message, Message) else Message(message, **params)
            )

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def whole_number(raw: str | None, max_digits: int = 18) -> int | None:
    """A whole number typed in ASCII digits ("42"), or None. `str.isdigit` also says yes
    to "²" (which `int` refuses) and to "１" or "٣" (which `int` reads): neither is a number
    in a URL or a form here."""
    if not raw or len(raw) > max_digits or not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


ID_MAX = 2**31 - 1  # the largest id a 32-bit INTEGER column holds


def row_id(raw: object) -> int | None:
    """A database id from user input ("42", 42), or None for anything that cannot be one.

    Refusing out-of-range numbers here keeps PostgreSQL from raising on an overflow: every id
    column is a 32-bit INTEGER there.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value: int | None = raw
    elif isinstance(raw, str):
        value = whole_number(raw, max_digits=10)
    else:
        return None
    return value if value is not None and 0 < value <= ID_MAX else None


def get_or_404(session: Session, model: type[T], raw: object) -> T:
    """The row of `model` with the id in `raw`, or NotFound."""
    key = row_id(raw)
    found = session.get(model, key) if key is not None else None
    if found is None:
        raise NotFound(str(raw)[:64])
    return found
