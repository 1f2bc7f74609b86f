"""The SMS app: an outbox of drafted texts, and real sending through a provider on opt-in.

Default policy (TinyAgent's): a text is not sent, it is queued in the outbox, one JSON
file per message under ``$POCKETAGENT_HOME/sms/outbox/`` (written atomically, so a crash
never leaves half a message). With ``send=True`` and a sender (e.g. `KdeConnectSms`) the
text goes out and a copy is kept under ``sms/sent/``.

Message file::

    {"id": "...", "created": "2026-11-23T10:00:00", "to": ["+1 415 555 0100"],
     "message": "...", "status": "queued" | "sent", "provider": null | "KDE Connect"}
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pocketagent.atomic import atomic_write_text, remove_stale_temp_files
from pocketagent.backends.addresses import normalize_phone_numbers
from pocketagent.phones import DEFAULT_PHONE_REGION
from pocketagent.errors import ToolError
from pocketagent.tools.protocols import SmsApp

MAX_MESSAGE_CHARS = 5000


class SmsSender(Protocol):
    """Something that delivers a text to phone numbers (raises ToolError on failure)."""

    name: str

    def send(self, numbers: Sequence[str], message: str) -> None: ...


@dataclass(frozen=True)
class SmsRecord:
    id: str
    created: str
    to: list[str]
    message: str
    status: str
    provider: str | None = None


class SmsOutbox(SmsApp):
    """`send_sms` on a local outbox, with an optional real sender."""

    def __init__(
        self,
        root: Path,
        sender: SmsSender | None = None,
        send: bool = False,
        clock: Callable[[], datetime] | None = None,
        phone_region: str = DEFAULT_PHONE_REGION,
    ) -> None:
        """`phone_region`: the region of numbers written without a country code (two numbers that
        are the same once read that way are one recipient)."""
        self.root = Path(root)
        self.phone_region = phone_region
        self.sender = sender
        self.send = send
        self._clock = clock or datetime.now
        for directory in (self.outbox_dir, self.sent_dir):  # temp files of a writer killed mid-write
            remove_stale_temp_files(directory)

    @property
    def outbox_dir(self) -> Path:
        return self.root / "outbox"

    @property
    def sent_dir(self) -> Path:
        return self.root / "sent"

    def _write(self, directory: Path, record: SmsRecord) -> Path:
        path = directory / f"{record.created.replace(':', '')}-{record.id}.json"
        atomic_write_text(path, json.dumps(asdict(record), ensure_ascii=False, indent=2) + "\n")
        return path

    def send_sms(self, recipients: list[str], message: str) -> str:
        """Queue (default) or send one text to all recipients; returns what happened."""
        numbers = normalize_phone_numbers(recipients, self.phone_region)
        if not isinstance(message, str) or not message.strip():
            raise ToolError("the text message is empty; say what to write")
        text = message.strip()
        if len(text) > MAX_MESSAGE_CHARS:
            raise ToolError(f"the text message is too long ({len(text)} characters; at most {MAX_MESSAGE_CHARS})")
        created = self._clock().replace(microsecond=0).isoformat()
        record_id = secrets.token_hex(4)
        shown = ", ".join(numbers)
        if self.send and self.sender is not None:
            try:
                self.sender.send(numbers, text)
            except ToolError as exc:
                self._write(self.outbox_dir, SmsRecord(record_id, created, numbers, text, "queued"))
                raise ToolError(f"{exc}; the text was kept in the SMS outbox") from None
            self._write(self.sent_dir, SmsRecord(record_id, created, numbers, text, "sent", self.sender.name))
            return f"Text sent via {self.sender.name} to {shown}: {_preview(text)}"
        self._write(self.outbox_dir, SmsRecord(record_id, created, numbers, text, "queued"))
        note = " (sending is on, but no SMS provider is configured)" if self.send else ""
        return f"Text saved to the SMS outbox for {shown}, not sent{note}: {_preview(text)}"

    def records(self, folder: str = "outbox") -> list[SmsRecord]:
        """Messages in `outbox` or `sent`, oldest first (unreadable files are skipped)."""
        directory = self.outbox_dir if folder == "outbox" else self.sent_dir
        found: list[SmsRecord] = []
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
            try:
                found.append(SmsRecord(**json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue
        return found


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")
