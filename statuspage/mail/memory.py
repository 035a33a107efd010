"""Keeps what was sent, for tests."""

from __future__ import annotations

import threading

from statuspage.mail import MailBatch


class MemoryMailer:
    def __init__(self) -> None:
        self.batches: list[MailBatch] = []
        self._lock = threading.Lock()  # delivery sends from several threads

    def send(self, batch: MailBatch) -> None:
        batch.check()
        with self._lock:
            self.batches.append(batch)
