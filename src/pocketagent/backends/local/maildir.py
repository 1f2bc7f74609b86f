"""The Maildir under the mail app: its folders opened, the inbox listed and read safely, messages stored.

Layout under the mail root (``$POCKETAGENT_HOME/mail``), both understood:

- Maildir++ (Dovecot, Courier, mutt, Python's `mailbox`): the root is the inbox
  (``cur/ new/ tmp/``) and folders are ``.Drafts`` and ``.Sent``;
- one Maildir per folder (mbsync/isync "verbatim"): ``INBOX/``, ``Drafts/``, ``Sent/``.

Maildir delivery is atomic (written in ``tmp/``, then moved), so a crash never leaves half
a message.

One mail app is shared by the tool threads of a run (a plan may reply and forward at
once), so the inbox is read from the directory on every call instead of through
`mailbox.Maildir`'s table of contents, which is rebuilt in place and not thread-safe.
The inbox is other people's input: a message that cannot be read (not a regular file, a
header block or size over the caps, broken headers) is skipped from listings with a
warning, and acting on it is a clear `ToolError`; one bad message never disables the inbox.

The size caps are the caller's (`pocketagent.backends.local.mail` keeps them with its
attachment cap) and are passed in on each read; here are the bounded reads themselves, the
header helpers that survive malformed input, and `MaildirFolders`, which `MaildirMail` builds on.
"""

from __future__ import annotations

import contextlib
import logging
import mailbox
import os
import stat
import threading
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

from pocketagent.backends.local.html_text import html_to_text
from pocketagent.errors import ConfigError, ToolError

log = logging.getLogger(__name__)

MAX_MIME_DEPTH = 64  # forwards of forwards reach ~30; the email package recurses per level
FOLDER_NAMES = {"Drafts": ("Drafts", "Draft"), "Sent": ("Sent", "Sent Messages", "Sent Items", "Sent Mail")}
# What the email package raises on malformed input besides defects (seen: IndexError,
# AttributeError, HeaderParseError from header parsing; RecursionError from deep nesting).
_PARSE_ERRORS = (ValueError, LookupError, TypeError, AttributeError, RecursionError, MessageError)
# `mailbox.Maildir.add` names files from a class-wide counter it reads and increments
# without a lock: two threads in the same microsecond clash (ExternalClashError).
_MAILDIR_ADD_LOCK = threading.Lock()


class UnreadableMessageError(ToolError):
    """An inbox message that cannot be read: not a regular file, over a size cap, or too deeply nested."""


@dataclass(frozen=True)
class MailSummary:
    """One inbox message, for listings (`pocketagent mail list`)."""

    key: str
    date: datetime | None
    sender: str
    subject: str
    message_id: str
    selected: bool = False
    recipients: str = ""  # the To header (what a listing of Drafts shows)


def _open_regular(path: Path, what: str) -> BinaryIO:
    """`path` opened for reading if it is a regular file; `UnreadableMessageError` otherwise.

    O_NONBLOCK: opening a FIFO (or reading a device) would otherwise wait forever. It has
    no effect on regular files. The type is checked on the open file, so a file swapped
    for a FIFO after a stat() cannot slip through.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableMessageError(f"{what} cannot be read: it is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_capped(handle: BinaryIO, limit: int, what: str) -> bytes:
    """All of `handle`, or `UnreadableMessageError` when it is larger than `limit` bytes."""
    if os.fstat(handle.fileno()).st_size > limit:
        raise UnreadableMessageError(f"{what} is larger than {limit // 2**20} MB")
    data = handle.read(limit + 1)  # the file may have grown since the fstat
    if len(data) > limit:
        raise UnreadableMessageError(f"{what} is larger than {limit // 2**20} MB")
    return data


def _read_headers(handle: BinaryIO, limit: int, what: str = "the message") -> EmailMessage:
    """Only the header block of a message file (fast on large inboxes), at most `limit` bytes."""
    lines = []
    size = 0
    while True:
        line = handle.readline(limit - size + 1)  # bounded: a file with no newline is one "line"
        if line in (b"", b"\n", b"\r\n"):
            break
        size += len(line)
        if size > limit:
            raise UnreadableMessageError(f"the header block of {what} is larger than {limit // 1024} KB")
        lines.append(line)
    return BytesParser(policy=policy.default).parsebytes(b"".join(lines) + b"\n")


def _header_text(message: EmailMessage, name: str) -> str:
    """A header's text ("" when absent); the raw text when the email package cannot parse it."""
    try:
        value = message.get(name)
        return "" if value is None else str(value)
    except _PARSE_ERRORS:  # e.g. Message-ID "<a@" raises IndexError inside the stdlib's parser
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                return " ".join(str(raw).split())
        return ""


def _mime_depth(message: EmailMessage) -> int:
    """How deeply the MIME parts nest, counted without recursion."""
    deepest = 0
    stack = [(message, 1)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if part.is_multipart() and depth <= MAX_MIME_DEPTH:
            payload = part.get_payload()
            stack.extend((sub, depth + 1) for sub in payload if isinstance(sub, EmailMessage))
    return deepest


def _message_date(message: EmailMessage) -> datetime | None:
    raw = _header_text(message, "Date")
    if not raw:
        return None
    try:
        date = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return date if date.tzinfo else date.astimezone()


def plain_text(message: EmailMessage) -> str:
    """The readable text of a message (its text/plain part, else its HTML without tags)."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content: str = part.get_content()  # a text part's content is its decoded text
    except (LookupError, ValueError, AssertionError):  # unknown charset or broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return content.strip()


class MaildirFolders:
    """The inbox, Drafts and Sent of a mail root: opened (created if missing), read and stored to."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.inbox, self.drafts, self.sent = self._open_folders()
        self.inbox_path = self.root / "INBOX" if (self.root / "INBOX").is_dir() else self.root
        self.drafts_path = Path(self.drafts._path)  # mailbox.Maildir keeps its folder only there

    # -- folders ------------------------------------------------------------------------

    def _open_folders(self) -> tuple[mailbox.Maildir, mailbox.Maildir, mailbox.Maildir]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if (self.root / "INBOX").is_dir():  # one Maildir per folder

                def sibling(kind: str) -> mailbox.Maildir:
                    name = next((n for n in FOLDER_NAMES[kind] if (self.root / n).is_dir()), kind)
                    return mailbox.Maildir(self.root / name, factory=None, create=True)

                return (
                    mailbox.Maildir(self.root / "INBOX", factory=None, create=True),
                    sibling("Drafts"),
                    sibling("Sent"),
                )
            for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips these when the root exists
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            inbox = mailbox.Maildir(self.root, factory=None, create=True)
            existing = {name.lower(): name for name in inbox.list_folders()}

            def folder(kind: str) -> mailbox.Maildir:
                name = next((existing[n.lower()] for n in FOLDER_NAMES[kind] if n.lower() in existing), kind)
                return inbox.add_folder(name)  # opens it when it exists

            return inbox, folder("Drafts"), folder("Sent")
        except OSError as exc:
            raise ConfigError(f"cannot open the mail folder {self.root}: {exc}") from None

    # -- reading ------------------------------------------------------------------------

    def _inbox_files(self) -> dict[str, Path]:
        """Maildir key → file of every inbox message, read from the directory now.

        Not `mailbox.Maildir.iterkeys()`: every call rebuilds its shared table of contents in
        place, so threads sharing it saw "dictionary changed size during iteration", an empty
        inbox, or a different newest message. A fresh listing per call shares nothing.
        """
        return self._folder_files(self.inbox_path)

    def _folder_files(self, folder_path: Path) -> dict[str, Path]:
        """Maildir key → file of every message in the Maildir at `folder_path` (the inbox, Drafts)."""
        found: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                with os.scandir(folder_path / sub) as entries:
                    for entry in entries:
                        with contextlib.suppress(OSError):  # an entry we cannot stat is skipped, not fatal
                            if entry.name.startswith(".") or entry.is_dir():
                                continue  # what mailbox.Maildir skips too (and dot files are never messages)
                            found[entry.name.split(self.inbox.colon)[0]] = Path(entry.path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ToolError(f"cannot read the mail folder {folder_path}: {exc.strerror or exc}") from None
        return found

    def _summary(
        self, key: str, path: Path, selected: str | None, max_header_bytes: int, folder: str = "inbox"
    ) -> MailSummary | None:
        """The listing entry of one message; None (with a warning) when it cannot be read."""
        what = f"{folder} message {key!r}"
        try:
            with _open_regular(path, what) as handle:
                headers = _read_headers(handle, max_header_bytes, what)
            return MailSummary(
                key=key,
                date=_message_date(headers),
                sender=_header_text(headers, "From"),
                subject=_header_text(headers, "Subject"),
                message_id=_header_text(headers, "Message-ID").strip(),
                selected=key == selected,
                recipients=_header_text(headers, "To"),
            )
        except FileNotFoundError:
            return None  # moved or deleted by another mail client since the listing
        except (OSError, UnreadableMessageError, *_PARSE_ERRORS) as exc:
            log.warning("skipping %s (%s): %s", what, path, getattr(exc, "strerror", None) or exc)
            return None

    def _read_message(self, key: str, max_bytes: int, folder: str = "inbox") -> EmailMessage:
        """The message with Maildir key `key` in `folder` ("inbox" or "draft"), parsed if at most
        `max_bytes`; ToolError if gone or unreadable."""
        files = self._inbox_files() if folder == "inbox" else self._folder_files(self.drafts_path)
        path = files.get(key)
        what = f"{folder} message {key!r}"
        try:
            if path is None:
                raise FileNotFoundError
            with _open_regular(path, what) as handle:
                data = _read_capped(handle, max_bytes, what)
            message = BytesParser(policy=policy.default).parsebytes(data)
            if _mime_depth(message) > MAX_MIME_DEPTH:
                raise RecursionError
        except FileNotFoundError:
            raise ToolError(f"{what} no longer exists") from None
        except OSError as exc:
            raise UnreadableMessageError(f"{what} cannot be read: {exc.strerror or exc}") from None
        except RecursionError:  # the parser recurses per MIME level; later steps (get_body) too
            raise UnreadableMessageError(
                f"{what} cannot be read: its MIME parts are nested more than {MAX_MIME_DEPTH} levels deep"
            ) from None
        except _PARSE_ERRORS as exc:
            raise UnreadableMessageError(f"{what} cannot be read: {exc}") from None
        return message

    # -- storing ------------------------------------------------------------------------

    @staticmethod
    def _store(folder: mailbox.Maildir, message: EmailMessage, flags: str) -> str:
        stored = mailbox.MaildirMessage(message.as_bytes())
        stored.set_subdir("cur")
        stored.set_flags(flags)
        try:
            with _MAILDIR_ADD_LOCK:
                return folder.add(stored)
        except (OSError, mailbox.Error) as exc:
            raise ToolError(f"cannot save the message to the mail folder: {exc}") from None
