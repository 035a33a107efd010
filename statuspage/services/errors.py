"""Domain errors, turned into a form message or a JSON 4xx at the edge."""

from __future__ import annotations


class ValidationError(Exception):
    """A mistake the user can fix: a mapping of field name to message."""

    def __init__(self, errors: dict[str, str] | str, field: str = "__all__") -> None:
        self.errors = {field: errors} if isinstance(errors, str) else dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class PermissionDenied(Exception):
    """The actor's role does not allow this change."""


class NotFound(Exception):
    """A referenced object does not exist."""


class Errors:
    """Collects field errors so one request reports every mistake at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)
