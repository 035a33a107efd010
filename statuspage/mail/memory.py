"""Keeps what was sent, for tests."""

from __future__ import annotations

from statuspage.mail import MailBatch


class MemoryMailer:
    def __init__(self) -> None:
        self.batches: list[MailBatch] = []

    def send(self, batch: MailBatch) -> None:
        batch.check()
        self.batches.append(batch)
