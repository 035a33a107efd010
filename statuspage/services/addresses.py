"""Email addresses: the one canonical form of an address, the mailbox it reaches, and which
addresses this service can deliver to.

- `canonical(value)` is how every address is read, stored and compared (staff sign-in, the
  sign-in limiter, user creation, subscribers): compatibility characters folded (NFKC: a
  full-width `ｃ` is `c`, `．` and `。` are `.`), the domain mapped as IDNA (UTS #46) in its
  Unicode form, everything lower case. Two spellings that reach one account are one string.
- `deliverable(value)` is `canonical` for an address mail will be sent to: the part before
  the @ must be ASCII. SendGrid has no SMTPUTF8, so mail to `jörg@example.com` cannot go
  out; such an address is refused where it comes in (the subscribe form, the Manage API, the
  MPOC import) rather than accepted and never delivered. An internationalised domain is
  fine: mail goes to its ASCII (punycode) form (`mail.ascii_address`).
- `mailbox_key(address)` names the mailbox an address reaches, for limits per person: the
  domain as ASCII, and the part before the @ without a `+tag` (`ann+x@` and `ann@` reach one
  mailbox at nearly every provider). Dots are kept: only some providers ignore them.
"""

from __future__ import annotations

import hashlib
import unicodedata

from email_validator import EmailNotValidError, ValidatedEmail, validate_email

from statuspage.i18n import N_
from statuspage.services.errors import Message

NOT_DELIVERABLE = N_(
    "use an address whose part before the @ is ASCII only: mail to an internationalised "
    "address cannot be delivered"
)


class AddressError(ValueError):
    """Not an address this service takes: `message` says why (a `Message` where the catalog
    has it, otherwise the validator's English text)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _validated(value: str) -> ValidatedEmail:
    folded = unicodedata.normalize("NFKC", value or "").strip()
    try:
        return validate_email(folded, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None


def canonical(value: str) -> str:
    """The canonical form of an address, or `AddressError` with the reason."""
    return str(_validated(value).normalized).lower()


def deliverable(value: str) -> str:
    """The canonical form of an address mail can be sent to; `AddressError` otherwise
    (among others, for a part before the @ that is not ASCII)."""
    found = _validated(value)
    if found.smtputf8:
        raise AddressError(Message(NOT_DELIVERABLE))
    return str(found.normalized).lower()


def mailbox_key(address: str) -> str:
    """A digest naming the mailbox `address` reaches (see the module's docstring); an address
    that does not validate is its own mailbox."""
    try:
        found = _validated(address)
        local, domain = str(found.local_part).lower(), str(found.ascii_domain).lower()
    except AddressError:
        local, _, domain = address.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    return hashlib.sha256(f"{local}@{domain}".encode()).hexdigest()
