"""The mail app on a Maildir: compose, reply and forward as real RFC 5322 messages.

The Maildir itself (both layouts, the thread-safe inbox listing, bounded reads that skip
unreadable messages, atomic storing) is `pocketagent.backends.local.maildir`; this module
holds what the tools do with it, and the size caps it reads with.

Policy: messages go to Drafts (flagged Draft) unless sending is on and an SMTP sender
is configured; a sent message is copied to Sent. If sending fails, the message is kept in
Drafts and the error says so.

"The selected email" is the inbox message marked with `select_message` (kept in a small
state file, by Maildir key and Message-ID) or else the newest inbox message by Date.

Attachments are only taken from the workspace's files folders (`attachment_roots`, the
same folders `open_and_get_file_path` searches), after resolving symlinks: a plan cannot
mail out ``/etc/passwd`` or ``~/.ssh/id_rsa``.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from pocketagent.atomic import atomic_write_text, locked, remove_stale_temp_files
from pocketagent.backends.addresses import parse_email_address, parse_email_addresses
from pocketagent.backends.local.maildir import (
    _PARSE_ERRORS,
    FOLDER_NAMES,
    MAX_MIME_DEPTH,
    MaildirFolders,
    MailSummary,
    UnreadableMessageError,
    _header_text,
    _open_regular,
    _read_capped,
    plain_text,
)
from pocketagent.errors import ConfigError, ToolError
from pocketagent.subagents.email_writer import EmailWriter, OriginalEmail
from pocketagent.tools.protocols import MailApp

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024  # what common mail providers accept
# The caps on reading inbox messages: passed to the `maildir` reads on every call, so this module owns them.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a 25 MB attachment is ~34 MB once base64-encoded
MAX_HEADER_BYTES = 256 * 1024  # real header blocks are a few KB, long Received chains included
MAX_QUOTED_LINES = 200
_MESSAGE_ID = re.compile(r"^<[^<>\s]+>$")  # RFC 5322 wants an @, but old clients omit it


class AttachmentNotAllowedError(ToolError):
    """An attachment path outside the folders files may be attached from (after resolving symlinks)."""


class NotAnEmailError(UnreadableMessageError):
    """The selected inbox file holds no email: it is empty, or has no From, Date or Subject header."""


class MessageSender(Protocol):
    """What sends a message for real (`pocketagent.backends.smtp.SmtpSender`)."""

    def send(self, message: EmailMessage) -> list[str]: ...


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


def _require_an_email(key: str, message: EmailMessage) -> None:
    """`NotAnEmailError` naming the message when the file is empty or has no From, Date or Subject.

    Such a file (random bytes, a cut-off download) still parses, as a message with no
    headers and the whole file as its body, so forwarding it would send a "Fwd:" of nothing,
    or of binary shown as text, with no word of who wrote it or when.
    """
    what = f"the selected email (inbox message {key!r})"
    if not message.keys() and not str(message.get_payload() or "").strip():
        raise NotAnEmailError(f"{what} is empty: there is nothing to forward")
    if not any(_header_text(message, name).strip() for name in ("From", "Date", "Subject")):
        raise NotAnEmailError(
            f"{what} has no From, Date or Subject header: it is not an email that can be forwarded "
            "(the file may be damaged)"
        )


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


class MaildirMail(MaildirFolders, MailApp):
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
        super().__init__(self.root)  # opens (or creates) the inbox, Drafts and Sent
        self._remove_stale_temp_files()

    # -- folders ------------------------------------------------------------------------

    def _remove_stale_temp_files(self) -> None:
        # A process killed mid-write leaves its temp file: ours for the state file, and
        # Maildir's tmp/ entries for Drafts and Sent (which `Maildir.clean` removes after the
        # 36 hours the Maildir spec gives). The inbox's tmp/ belongs to the delivering program.
        remove_stale_temp_files(self.state_file.parent)
        for folder in (self.drafts, self.sent):
            with contextlib.suppress(OSError):
                folder.clean()

    # -- reading and selection ------------------------------------------------------------

    def message(self, key: str) -> EmailMessage:
        """The inbox message with Maildir key `key`, parsed; ToolError if it is gone or cannot be read."""
        return self._read_message(key, MAX_MESSAGE_BYTES)

    def inbox_summaries(self, limit: int | None = None) -> list[MailSummary]:
        """Inbox messages, newest first (unreadable ones are skipped with a warning)."""
        selected = self._selection().get("key")
        found: list[MailSummary] = []
        for key, path in self._inbox_files().items():
            summary = self._summary(key, path, selected, MAX_HEADER_BYTES)
            if summary is not None:
                found.append(summary)
        oldest = datetime.min.replace(tzinfo=datetime.now().astimezone().tzinfo)
        found.sort(key=lambda m: (m.date or oldest, m.key), reverse=True)
        return found[:limit] if limit is not None else found

    def draft_summaries(self, limit: int | None = None) -> list[MailSummary]:
        """Messages in Drafts, newest first (`recipients` is their To line; unreadable ones are skipped)."""
        found = [
            summary
            for key, path in self._folder_files(self.drafts_path).items()
            if (summary := self._summary(key, path, None, MAX_HEADER_BYTES, folder="draft")) is not None
        ]
        oldest = datetime.min.replace(tzinfo=datetime.now().astimezone().tzinfo)
        found.sort(key=lambda m: (m.date or oldest, m.key), reverse=True)
        return found[:limit] if limit is not None else found

    def draft(self, key: str) -> EmailMessage:
        """The Drafts message with Maildir key `key`, parsed; ToolError if it is gone or cannot be read."""
        return self._read_message(key, MAX_MESSAGE_BYTES, folder="draft")

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
            found = next((r / given for r in self.attachment_roots if (r / given).exists()), None)
            path = found or (self.attachment_roots[0] / given if self.attachment_roots else given.absolute())
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
        """Draft (or send) the selected email forwarded inline, with its attachments.

        A selected file that is empty or has no From, Date or Subject is refused
        (`NotAnEmailError`): nothing is written.
        """
        to = parse_email_addresses(recipients, "recipient")
        copy = parse_email_addresses(cc, "cc", required=False)
        files = self._attachment_paths(attachments)
        key, original = self.selected_message()
        _require_an_email(key, original)
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


__all__ = [
    "FOLDER_NAMES",
    "MAX_ATTACHMENT_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_MESSAGE_BYTES",
    "MAX_MIME_DEPTH",
    "MAX_QUOTED_LINES",
    "AttachmentNotAllowedError",
    "MailSummary",
    "MaildirMail",
    "MessageSender",
    "NotAnEmailError",
    "UnreadableMessageError",
    "plain_text",
]
