"""What the delivery tests feed a send that must not stop for it: addresses a provider
refuses, names that once stopped a batch; and the .eml files the embedded default wrote.
The import's property tests use them too."""

from __future__ import annotations

import email
import email.policy
import os
from pathlib import Path

# Addresses SendGrid refuses ("Does not contain a valid address."), each of a kind the import
# now refuses too: rows written before that rule still hold them.
BAD_ADDRESSES = [
    "line\nbreak@example.com",
    "crlf@example.com\r\nBcc: everyone@example.com",
    "two words@example.com",
    "no-at-sign.example.com",
    "nodot@localhost",
    "<angle>@example.com",
    "comma,list@example.com",
    "semi;colon@example.com",
    "tab\there@example.com",
    "double@@example.com",
]
# Names that once stopped a batch: they are sent, made fit for a header.
HOSTILE_NAMES = [
    "Evil\nBcc: everyone@example.com",
    "Carriage\r\nReturn",
    "Tab\tand\x0bvertical",
    'Zoë, "Quoted" <fake@example.com>',
    "x" * 120,  # the longest a name column holds
]


def eml_files(outbox: Path) -> list[email.message.EmailMessage]:
    if not outbox.exists():
        return []
    out = []
    for name in sorted(os.listdir(outbox)):
        assert name.endswith(".eml"), name
        with open(outbox / name, "rb") as fh:
            out.append(email.message_from_binary_file(fh, policy=email.policy.default))
    return out
