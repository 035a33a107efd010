"""The one rule for text anyone types, at every boundary (forms, Manage API, CSV import, CLI).

Refused, with a field error and nothing written:
- C0 control characters (U+0000-U+001F) other than tab, DEL (U+007F), lone surrogates
  (U+D800-U+DFFF) and the noncharacters U+FFFE / U+FFFF: no feed, calendar, header or
  database (PostgreSQL refuses NUL) can carry them;
- in a single-line field (names, titles, anything that becomes a header or a calendar
  property), any line break: LF, CR, NEL (U+0085), U+2028 and U+2029.

A multi-line field (Markdown bodies, descriptions, notes) keeps its line breaks: CRLF (what
browsers send from a textarea) and a lone CR become LF, so nothing downstream ever sees a
bare CR.

Lists are bounded before they are parsed, and deduplicated in linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar, overload

from statuspage.i18n import N_
from statuspage.services.errors import Errors, Message, ValidationError

T = TypeVar("T")

# Tab is the one C0 control allowed anywhere; LF only in multi-line fields.
_ALWAYS_REFUSED = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff"
_BREAKS = "\n\r\x85\u2028\u2029"
_MULTI_LINE_BAD = re.compile(f"[{_ALWAYS_REFUSED}]")
_SINGLE_LINE_BAD = re.compile(f"[{_ALWAYS_REFUSED}{_BREAKS}]")

LIST_MAX = 100


def _describe(char: str) -> str:
    if char in _BREAKS:
        return "a line break"
    if "\ud800" <= char <= "\udfff":
        return "an unpaired surrogate"
    return f"the control character U+{ord(char):04X}"


@overload
def check(errors: Errors, field: str, value: str, *, multiline: bool = False) -> str: ...
@overload
def check(
    errors: Errors, field: str, value: str | None, *, multiline: bool = False
) -> str | None: ...
def check(
    errors: Errors,
    field: str,
    value: str | None,
    *,
    multiline: bool = False,
) -> str | None:
    """`value` if it obeys the rule (line endings normalised to LF in a multi-line field),
    else an error on `field` and `value` unchanged. None passes through."""
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(field, N_("must be text"))
        return value
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        bad = _MULTI_LINE_BAD.search(value)
    else:
        bad = _SINGLE_LINE_BAD.search(value)
    if bad is not None:
        errors.add(field, N_("must not contain %(what)s"), what=_describe(bad.group()))
    return value


def checked(field: str, value: str, *, multiline: bool = False) -> str:
    """`check` for a caller with no Errors of its own: raises ValidationError."""
    errors = Errors()
    result = check(errors, field, value, multiline=multiline)
    errors.raise_if_any()
    return result


def is_clean(value: str, *, multiline: bool = False) -> bool:
    """Whether `value` obeys the rule as it stands (no normalisation)."""
    pattern = _MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD
    return pattern.search(value) is None


def one_line(value: str) -> str:
    """`value` without the characters the single-line rule refuses: for text recorded as
    it came rather than checked (a browser's User-Agent in the sessions list)."""
    return _SINGLE_LINE_BAD.sub("", value)


def bounded(
    field: str, items: Iterable[T], limit: int = LIST_MAX, *, what: str = "items"
) -> list[T]:
    """The first items of `items`, raising ValidationError when there are more than `limit`.

    Stops reading at limit + 1, so a huge input costs no more than a small one.
    """
    taken: list[T] = []
    for item in items:
        if len(taken) == limit:
            raise ValidationError(
                {field: Message(N_("at most %(count)d %(what)s"), count=limit, what=what)}
            )
        taken.append(item)
    return taken


def unique(items: Iterable[T]) -> list[T]:
    """Items in first-seen order without repeats, in linear time."""
    return list(dict.fromkeys(items))
