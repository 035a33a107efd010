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

import contextlib
import hashlib
import re
import unicodedata

from email_validator import EmailNotValidError, ValidatedEmail, validate_email

from statuspage.i18n import N_
from statuspage.services.errors import Message

NOT_DELIVERABLE = N_(
    "use an address whose part before the @ is ASCII only: mail to an internationalised "
    "address cannot be delivered"
)


# The address checker's (email-validator's) messages are English only: each is a catalog
# message here, in the checker's own words, so a page says it in the reader's language and
# the API and logs read the same English as before. A message not listed (a newer release's
# wording) is NOT_VALID, never English on a Spanish or German page.
NOT_VALID = N_("This is not a valid email address.")
_CHECKER_WORDS = frozenset(
    (
        N_("An email address must have an @-sign."),
        N_("There must be something before the @-sign."),
        N_("There must be something after the @-sign."),
        N_("An email address cannot have two periods in a row."),
        N_("An email address cannot start with a period."),
        N_("An email address cannot end with a period."),
        N_("An email address cannot end with a hyphen."),
        N_("An email address cannot have a period immediately before the @-sign."),
        N_("An email address cannot have a period immediately after the @-sign."),
        N_("An email address cannot have a hyphen immediately after the @-sign."),
        N_("An email address cannot have a period and a hyphen next to each other."),
        N_(
            "An email address cannot have two letters followed by two dashes immediately "
            "after the @-sign or after a period, except Punycode."
        ),
        N_("The email address contains an invalid character."),
        N_("The email address contains invalid characters before the @-sign."),
        N_("The part after the @-sign is not valid. It should have a period."),
        N_("The part after the @-sign is not valid. It is not within a valid top-level domain."),
        N_(
            "The part after the @-sign is a special-use or reserved name that cannot be used "
            "with email."
        ),
        N_(
            'The email address has the "full-width" at-sign (@) character instead of a '
            "regular at-sign."
        ),
        N_(
            'The email address has the "small commercial at" character instead of a regular '
            "at-sign."
        ),
        N_("There can't be anything after the email address."),
        N_("A display name and angle brackets around the email address are not permitted here."),
        N_("A bracketed IP address after the @-sign is not allowed here."),
        N_("Quoting the part before the @-sign is not allowed here."),
        N_("The email address is not valid ASCII."),
    )
)
# Messages that name what was wrong: the names are kept (characters, as the checker shows
# them), the words around them translated.
_CHECKER_PATTERNS = (
    (
        re.compile(
            r"The email address contains invalid characters before the @-sign: (?P<characters>.+)\."
        ),
        N_("The email address contains invalid characters before the @-sign: %(characters)s."),
    ),
    (
        re.compile(
            r"The part after the @-sign contains invalid characters"
            r"(?: after Unicode normalization| in brackets)?: (?P<characters>.+)\."
        ),
        N_("The part after the @-sign contains invalid characters: %(characters)s."),
    ),
    (
        re.compile(r"The email address contains unsafe characters: (?P<characters>.+)\."),
        N_("The email address contains unsafe characters: %(characters)s."),
    ),
    (
        re.compile(
            r"The email address contains invalid characters in quotes before the @-sign: "
            r"(?P<characters>.+)\."
        ),
        N_("The email address contains invalid characters before the @-sign: %(characters)s."),
    ),
    (re.compile(r"The email address is too long.*"), N_("The email address is too long.")),
    (
        re.compile(r"After the @-sign, periods cannot be separated by so many characters.*"),
        N_("After the @-sign, periods cannot be separated by so many characters."),
    ),
    (
        re.compile(
            r"The part after the @-sign "
            r"(?:contains invalid characters|is not valid IDNA|became invalid).*"
        ),
        N_("The part after the @-sign is not a valid domain name."),
    ),
)


class AddressError(ValueError):
    """Not an address this service takes: `message` says why, a catalog `Message` (worded
    in the reader's language by the page that shows it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def checker_message(text: str) -> Message:
    """The address checker's English `text` as a catalog message (NOT_VALID if unknown)."""
    if text in _CHECKER_WORDS:
        return Message(text)
    for pattern, template in _CHECKER_PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            params = {k: _characters(v) for k, v in found.groupdict().items()}
            return Message(template, **params)
    return Message(NOT_VALID)


def _characters(listed: str) -> str:
    """The checker's list of characters ("'x', SPACE"), each unquoted one named by its code
    point rather than its English Unicode name ("'x', U+0020")."""
    shown = []
    for item in listed.split(", "):
        if item[:1] not in ("'", '"') and not item.startswith("U+"):
            with contextlib.suppress(KeyError):
                item = f"U+{ord(unicodedata.lookup(item)):04X}"
        shown.append(item)
    return ", ".join(shown)


def _validated(value: str) -> ValidatedEmail:
    folded = unicodedata.normalize("NFKC", value or "").strip()
    try:
        return validate_email(folded, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressError(checker_message(str(exc))) from None


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
