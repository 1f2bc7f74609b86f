"""The mail app on a Maildir: compose, reply and forward as real RFC 5322 messages.

Layout under the mail root (``$POCKETAGENT_HOME/mail``), both understood:

- Maildir++ (Dovecot, Courier, mutt, Python's `mailbox`): the root is the inbox
  (``cur/ new/ tmp/``) and folders are ``.Drafts`` and ``.Sent``;
- one Maildir per folder (mbsync/isync "verbatim"): ``INBOX/``, ``Drafts/``, ``Sent/``.

Policy: messages go to Drafts (flagged Draft) unless sending is on and an SMTP sender
is configured; a sent message is copied to Sent. If sending fails, the message is kept in
Drafts and the error says so. Maildir delivery is atomic (written in ``tmp/``, then
moved), so a crash never leaves half a message.

"The selected email" is the inbox message marked with `select_message` (kept in a small
state file, by Maildir key and Message-ID) or else the newest inbox message by Date.

One `MaildirMail` is shared by the tool threads of a run (a plan may reply and forward at
once), so the inbox is read from the directory on every call instead of through
`mailbox.Maildir`'s table of contents, which is rebuilt in place and not thread-safe.
The inbox is other people's input: a message that cannot be read (not a regular file, a
header block or size over the caps, broken headers) is skipped from listings with a
warning, and acting on it is a clear `ToolError`; one bad message never disables the inbox.

Attachments are only taken from the workspace's files folders (`attachment_roots`, the
same folders `open_and_get_file_path` searches), after resolving symlinks: a plan cannot
mail out ``/etc/passwd`` or ``~/.ssh/id_rsa``.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import mailbox
import mimetypes
import os
import re
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from pocketagent.backends.addresses import parse_email_address, parse_email_addresses
from pocketagent.backends.local.atomic import atomic_write_text, locked, remove_stale_temp_files
from pocketagent.errors import ConfigError, ToolError
from pocketagent.subagents.email_writer import EmailWriter, OriginalEmail

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024  # what common mail providers accept
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a 25 MB attachment is ~34 MB once base64-encoded
MAX_HEADER_BYTES = 256 * 1024  # real header blocks are a few KB, long Received chains included
MAX_MIME_DEPTH = 64  # forwards of forwards reach ~30; the email package recurses per level
MAX_QUOTED_LINES = 200
FOLDER_NAMES = {"Drafts": ("Drafts", "Draft"), "Sent": ("Sent", "Sent Messages", "Sent Items", "Sent Mail")}
# What the email package raises on malformed input besides defects (seen: IndexError,
# AttributeError, HeaderParseError from header parsing; RecursionError from deep nesting).
_PARSE_ERRORS = (ValueError, LookupError, TypeError, AttributeError, RecursionError, MessageError)
_MESSAGE_ID = re.compile(r"^<[^<>\s]+>$")  # RFC 5322 wants an @, but old clients omit it
# `mailbox.Maildir.add` names files from a class-wide counter it reads and increments
# without a lock: two threads in the same microsecond clash (ExternalClashError).
_MAILDIR_ADD_LOCK = threading.Lock()


class UnreadableMessageError(ToolError):
    """An inbox message that cannot be read: not a regular file, over a size cap, or too deeply nested."""


class AttachmentNotAllowedError(ToolError):
    """An attachment path outside the folders files may be attached from (after resolving symlinks)."""


class MessageSender(Protocol):
    """What sends a message for real (`pocketagent.backends.smtp.SmtpSender`)."""

    def send(self, message: EmailMessage) -> list[str]: ...


@dataclass(frozen=True)
class MailSummary:
    """One inbox message, for listings (`pocketagent mail list`)."""

    key: str
    date: datetime | None
    sender: str
    subject: str
    message_id: str
    selected: bool = False


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


def _read_headers(handle: BinaryIO, what: str = "the message") -> EmailMessage:
    """Only the header block of a message file (fast on large inboxes), at most `MAX_HEADER_BYTES`."""
    lines = []
    size = 0
    while True:
        line = handle.readline(MAX_HEADER_BYTES - size + 1)  # bounded: a file with no newline is one "line"
        if line in (b"", b"\n", b"\r\n"):
            break
        size += len(line)
        if size > MAX_HEADER_BYTES:
            raise UnreadableMessageError(f"the header block of {what} is larger than {MAX_HEADER_BYTES // 1024} KB")
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


def _addresses(message: EmailMessage, name: str) -> list[Address]:
    """The usable addresses of an address header: unparsable ones ("a@", "<>", "Foo") are dropped."""
    try:
        found = list(getattr(message.get(name), "addresses", ()) or ())
    except _PARSE_ERRORS:
        return []
    usable = []
    for address in found:
        try:
            parse_email_address(address.addr_spec, name)
        except ToolError:
            continue
        usable.append(address)
    return usable


def _message_ids(text: str) -> list[str]:
    """The `<id@host>` tokens of a Message-ID/References value (malformed ones cannot thread anything)."""
    return [token for token in text.split() if _MESSAGE_ID.match(token)]


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
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset or broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    if part.get_content_subtype() == "html":
        content = re.sub(r"(?is)<(script|style).*?</\1>", " ", content)
        content = re.sub(r"(?i)<br\s*/?>|</p>", "\n", content)
        content = html.unescape(re.sub(r"<[^>]+>", "", content))
    return content.strip()


def _clean_subject(subject: object) -> str:
    if subject is None:
        subject = ""
    if not isinstance(subject, str):
        raise ToolError(f"subject must be text, got {type(subject).__name__}")
    return " ".join(subject.split())[:250]  # no line breaks: they would forge headers


def _prefixed(prefix: str, subject: str) -> str:
    if re.match(rf"^\s*{prefix}\s*:", subject, re.IGNORECASE):
        return subject
    return f"{prefix}: {subject}" if subject else f"{prefix}:"


class MaildirMail:
    """compose_new_email / reply_to_email / forward_email on a Maildir."""

    def __init__(
        self,
        root: Path,
        identity: str = "Me <me@localhost.localdomain>",
        writer: EmailWriter | None = None,
        sender: MessageSender | None = None,
        send: bool = False,
        state_file: Path | None = None,
        request: Callable[[], str] | None = None,
        clock: Callable[[], datetime] | None = None,
        attachment_roots: Sequence[Path] | None = None,
    ) -> None:
        """`attachment_roots`: the folders files may be attached from (default: the workspace's
        ``files/`` next to the mail root; the provider passes ``files/`` plus `file_roots`)."""
        self.root = Path(root)
        try:
            self.identity = parse_email_address(identity, "sender")
        except ToolError as exc:
            raise ConfigError(f"invalid mail identity: {exc}") from None
        self.writer = writer if writer is not None else EmailWriter(sender_name=self.identity.display_name)
        self.sender = sender
        self.send = send
        self.state_file = Path(state_file) if state_file is not None else self.root.parent / "state" / "mail.json"
        self._request = request or (lambda: "")
        self._clock = clock or datetime.now
        roots = attachment_roots if attachment_roots is not None else [self.root.parent / "files"]
        self.attachment_roots = [Path(r).expanduser() for r in roots]
        self.inbox, self.drafts, self.sent = self._open_folders()
        self.inbox_path = self.root / "INBOX" if (self.root / "INBOX").is_dir() else self.root
        self._remove_stale_temp_files()

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

    def _remove_stale_temp_files(self) -> None:
        # A process killed mid-write leaves its temp file: ours for the state file, and
        # Maildir's tmp/ entries for Drafts and Sent (which `Maildir.clean` removes after the
        # 36 hours the Maildir spec gives). The inbox's tmp/ belongs to the delivering program.
        remove_stale_temp_files(self.state_file.parent)
        for folder in (self.drafts, self.sent):
            with contextlib.suppress(OSError):
                folder.clean()

    # -- reading and selection ------------------------------------------------------------

    def _inbox_files(self) -> dict[str, Path]:
        """Maildir key → file of every inbox message, read from the directory now.

        Not `mailbox.Maildir.iterkeys()`: every call rebuilds its shared table of contents in
        place, so threads sharing it saw "dictionary changed size during iteration", an empty
        inbox, or a different newest message. A fresh listing per call shares nothing.
        """
        found: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                with os.scandir(self.inbox_path / sub) as entries:
                    for entry in entries:
                        with contextlib.suppress(OSError):  # an entry we cannot stat is skipped, not fatal
                            if entry.name.startswith(".") or entry.is_dir():
                                continue  # what mailbox.Maildir skips too (and dot files are never messages)
                            found[entry.name.split(self.inbox.colon)[0]] = Path(entry.path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ToolError(f"cannot read the inbox ({self.inbox_path}): {exc.strerror or exc}") from None
        return found

    def _summary(self, key: str, path: Path, selected: str | None) -> MailSummary | None:
        """The listing entry of one message; None (with a warning) when it cannot be read."""
        what = f"inbox message {key!r}"
        try:
            with _open_regular(path, what) as handle:
                headers = _read_headers(handle, what)
            return MailSummary(
                key=key,
                date=_message_date(headers),
                sender=_header_text(headers, "From"),
                subject=_header_text(headers, "Subject"),
                message_id=_header_text(headers, "Message-ID").strip(),
                selected=key == selected,
            )
        except FileNotFoundError:
            return None  # moved or deleted by another mail client since the listing
        except (OSError, UnreadableMessageError, *_PARSE_ERRORS) as exc:
            log.warning("skipping %s (%s): %s", what, path, getattr(exc, "strerror", None) or exc)
            return None

    def message(self, key: str) -> EmailMessage:
        """The inbox message with Maildir key `key`, parsed; ToolError if it is gone or cannot be read."""
        path = self._inbox_files().get(key)
        what = f"inbox message {key!r}"
        try:
            if path is None:
                raise FileNotFoundError
            with _open_regular(path, what) as handle:
                data = _read_capped(handle, MAX_MESSAGE_BYTES, what)
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

    def inbox_summaries(self, limit: int | None = None) -> list[MailSummary]:
        """Inbox messages, newest first (unreadable ones are skipped with a warning)."""
        selected = self._selection().get("key")
        found: list[MailSummary] = []
        for key, path in self._inbox_files().items():
            summary = self._summary(key, path, selected)
            if summary is not None:
                found.append(summary)
        oldest = datetime.min.replace(tzinfo=datetime.now().astimezone().tzinfo)
        found.sort(key=lambda m: (m.date or oldest, m.key), reverse=True)
        return found[:limit] if limit is not None else found

    def _selection(self) -> dict[str, str]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def select_message(self, key_or_message_id: str) -> MailSummary:
        """Mark an inbox message (by Maildir key or Message-ID) as "the selected email"."""
        wanted = (key_or_message_id or "").strip()
        for summary in self.inbox_summaries():
            if wanted in (summary.key, summary.message_id, summary.message_id.strip("<>")):
                with locked(self.state_file):
                    atomic_write_text(
                        self.state_file, json.dumps({"key": summary.key, "message_id": summary.message_id}) + "\n"
                    )
                return MailSummary(**{**summary.__dict__, "selected": True})
        raise ToolError(f"no inbox message with key or Message-ID {wanted!r}")

    def clear_selection(self) -> None:
        """Forget the selection: "the selected email" becomes the newest inbox message again."""
        with locked(self.state_file):
            self.state_file.unlink(missing_ok=True)

    def selected_message(self) -> tuple[str, EmailMessage]:
        """(key, message) of the selected email; ToolError when the inbox is empty."""
        selection = self._selection()
        if selection.get("key") or selection.get("message_id"):
            key = selection.get("key", "")
            if key and key in self._inbox_files():
                return key, self.message(key)
            for summary in self.inbox_summaries():  # the key changed (another client renamed it)
                if selection.get("message_id") and summary.message_id == selection.get("message_id"):
                    return summary.key, self.message(summary.key)
            raise ToolError(
                "the selected email is no longer in the inbox; select another one (pocketagent mail select)"
            )
        newest = self.inbox_summaries(limit=1)
        if not newest:
            raise ToolError(f"the inbox ({self.inbox_path}) is empty: there is no email to reply to or forward")
        return newest[0].key, self.message(newest[0].key)

    # -- building messages --------------------------------------------------------------

    def _new_message(self, to: list[Address], cc: list[Address], subject: str) -> EmailMessage:
        message = EmailMessage(policy=policy.default)
        message["From"] = self.identity
        message["To"] = to
        if cc:
            message["Cc"] = cc
        message["Subject"] = subject
        message["Date"] = format_datetime(self._clock().astimezone())
        message["Message-ID"] = make_msgid(domain=self.identity.domain)
        message["User-Agent"] = "pocketagent"
        return message

    def _attachment_paths(self, attachments: object) -> list[Path]:
        if attachments is None or attachments == "":
            return []
        if isinstance(attachments, str):
            attachments = [attachments]
        if not isinstance(attachments, list):
            raise ToolError(f"attachments must be a list of file paths, got {type(attachments).__name__}")
        paths = []
        for item in attachments:
            if not isinstance(item, str) or not item.strip():
                raise ToolError("an attachment path is empty; find the file with open_and_get_file_path first")
            paths.append(self._attachment_path(item.strip().strip("'\"")))
        return paths

    def _attachment_path(self, text: str) -> Path:
        """The real path of an attachment, if it lies inside `attachment_roots` once symlinks are resolved.

        Checked before anything else, so a plan can neither attach nor probe for files outside
        (a model told "attach my SSH key" or a prompt injection in an email would do both).
        A relative path is looked up in each root.
        """
        given = Path(text).expanduser()
        if given.is_absolute():
            path = given
        else:
            path = next((r / given for r in self.attachment_roots if (r / given).exists()), None)
            path = path or (self.attachment_roots[0] / given if self.attachment_roots else given.absolute())
        try:
            real = path.resolve()
            roots = [root.resolve() for root in self.attachment_roots]
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
            raise ToolError(f"attachment {text} cannot be resolved: {exc}") from None
        if not any(real.is_relative_to(root) for root in roots):
            shown = ", ".join(str(r) for r in self.attachment_roots) or "none configured"
            via = f" (it resolves to {real})" if real != Path(os.path.abspath(path)) else ""
            raise AttachmentNotAllowedError(
                f"attachment {text} is outside the folders files can be attached from ({shown}){via}; "
                "attach a file found with open_and_get_file_path"
            )
        if not real.is_file():
            raise ToolError(f"attachment not found: {text}; find the file with open_and_get_file_path first")
        if real.stat().st_size > MAX_ATTACHMENT_BYTES:
            raise ToolError(f"attachment {real.name} is larger than {MAX_ATTACHMENT_BYTES // 2**20} MB")
        return real

    @staticmethod
    def _attach(message: EmailMessage, data: bytes, content_type: str, filename: str) -> None:
        maintype, _, subtype = content_type.partition("/")
        if maintype in ("message", "multipart") or not subtype:
            maintype, subtype = "application", "octet-stream"  # bytes cannot be set as these types
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)

    def _attach_files(self, message: EmailMessage, paths: list[Path]) -> None:
        for path in paths:
            content_type, encoding = mimetypes.guess_type(path.name)
            if content_type is None or encoding is not None:  # .tar.gz is gzip data, not a tarball
                content_type = "application/octet-stream"
            try:
                with _open_regular(path, f"attachment {path}") as handle:
                    data = _read_capped(handle, MAX_ATTACHMENT_BYTES, f"attachment {path.name}")
            except OSError as exc:
                raise ToolError(f"cannot read attachment {path}: {exc.strerror or exc}") from None
            self._attach(message, data, content_type, path.name)

    def _original(self, message: EmailMessage) -> OriginalEmail:
        senders = _addresses(message, "From")
        try:
            text = plain_text(message)
        except _PARSE_ERRORS as exc:
            raise UnreadableMessageError(f"the text of the selected email cannot be read: {exc}") from None
        return OriginalEmail(
            sender=_header_text(message, "From"),
            sender_name=senders[0].display_name if senders else "",
            date=_header_text(message, "Date"),
            subject=_header_text(message, "Subject"),
            text=text,
        )

    def _reply_recipients(self, original: EmailMessage) -> list[Address]:
        for header in ("Reply-To", "From"):
            addresses = _addresses(original, header)
            if header == "From" and addresses and addresses[0].addr_spec.lower() == self.identity.addr_spec.lower():
                addresses = _addresses(original, "To")  # replying to our own mail
            if addresses:
                return addresses
        # Never a reply "to <>": an unparsable sender is an error the user can act on.
        sender = _header_text(original, "Reply-To") or _header_text(original, "From")
        shown = f" ({sender!r} cannot be replied to)" if sender else ""
        raise ToolError(f"the selected email has no sender address to reply to{shown}")

    # -- delivery -----------------------------------------------------------------------

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

    def _deliver(self, message: EmailMessage, kind: str) -> str:
        subject = str(message["Subject"])
        recipients = ", ".join(a.addr_spec for h in ("To", "Cc") for a in getattr(message[h], "addresses", ()) or ())
        if self.send and self.sender is not None:
            try:
                accepted = self.sender.send(message)
            except ToolError as exc:
                self._store(self.drafts, message, "DS")
                raise ToolError(f"{exc}; the {kind} was saved to Drafts instead") from None
            self._store(self.sent, message, "S")
            return f"{kind.capitalize()} sent to {', '.join(accepted) or recipients}: {subject!r}"
        self._store(self.drafts, message, "DS")
        note = " (sending is on, but no SMTP server is configured)" if self.send else ""
        return f"Draft saved to Drafts: {subject!r} to {recipients}{note}"

    # -- the tools ----------------------------------------------------------------------

    def compose_new_email(
        self, recipients: list[str], cc: list[str], subject: str, context: str, attachments: list[str]
    ) -> str:
        """Draft (or send) a new email whose body the writer builds from `context`."""
        to = parse_email_addresses(recipients, "recipient")
        copy = parse_email_addresses(cc, "cc", required=False)
        title = _clean_subject(subject) or "(no subject)"
        files = self._attachment_paths(attachments)
        names = [a.display_name for a in to if a.display_name]
        body = self.writer.write("new", title, _text(context), names, request=self._request())
        message = self._new_message(to, copy, title)
        message.set_content(body)
        self._attach_files(message, files)
        return self._deliver(message, "email")

    def reply_to_email(self, cc: list[str], context: str, attachments: list[str]) -> str:
        """Draft (or send) a reply to the selected email, threaded and quoting it."""
        copy = parse_email_addresses(cc, "cc", required=False)
        files = self._attachment_paths(attachments)
        _, original = self.selected_message()
        info = self._original(original)
        to = self._reply_recipients(original)
        title = _prefixed("Re", _clean_subject(info.subject))
        names = [a.display_name for a in to if a.display_name]
        body = self.writer.write("reply", title, _text(context), names, original=info, request=self._request())
        quoted = "\n".join(f"> {line}" if line else ">" for line in info.text.splitlines()[:MAX_QUOTED_LINES])
        message = self._new_message(to, copy, title)
        original_id = next(iter(_message_ids(_header_text(original, "Message-ID"))), "")
        if original_id:  # a malformed id cannot thread anything: left out
            references = " ".join(_message_ids(_header_text(original, "References")) + [original_id])
            message["In-Reply-To"] = original_id
            message["References"] = references
        message.set_content(f"{body}\nOn {info.date}, {info.sender} wrote:\n{quoted}\n")
        self._attach_files(message, files)
        return self._deliver(message, "reply")

    def forward_email(self, recipients: list[str], cc: list[str], context: str, attachments: list[str]) -> str:
        """Draft (or send) the selected email forwarded inline, with its attachments."""
        to = parse_email_addresses(recipients, "recipient")
        copy = parse_email_addresses(cc, "cc", required=False)
        files = self._attachment_paths(attachments)
        _, original = self.selected_message()
        info = self._original(original)
        title = _prefixed("Fwd", _clean_subject(info.subject))
        names = [a.display_name for a in to if a.display_name]
        note = self.writer.write("forward", title, _text(context), names, original=info, request=self._request())
        headers = {name: _header_text(original, name) for name in ("From", "Date", "Subject", "To", "Cc")}
        header_block = "\n".join(f"{name}: {value}" for name, value in headers.items() if value)
        message = self._new_message(to, copy, title)
        original_id = next(iter(_message_ids(_header_text(original, "Message-ID"))), "")
        if original_id:
            message["References"] = original_id
        message.set_content(f"{note}\n---------- Forwarded message ----------\n{header_block}\n\n{info.text}\n")
        try:
            for part in original.iter_attachments():
                data = part.get_payload(decode=True)
                if isinstance(data, bytes):
                    self._attach(message, data, part.get_content_type(), part.get_filename() or "attachment")
        except _PARSE_ERRORS as exc:  # a forward without some of its attachments would mislead
            raise UnreadableMessageError(f"the attachments of the selected email cannot be read: {exc}") from None
        self._attach_files(message, files)
        return self._deliver(message, "forward")


def _text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ToolError(f"context must be text, got {type(value).__name__}")
    return value
