"""Demo data for the mail and files apps: an inbox with threads and a files tree with real PDFs.

`write_demo_mail_and_files(home, now)` fills ``home/mail`` (Maildir) and ``home/files``
so that the README's commands do something visible on a fresh machine ("summarize the
insurance policy pdf", "reply to this saying Thursday's fine", "email Sid the budget").
It never overwrites: existing files are kept, messages already in the inbox (same
Message-ID) are not added twice. The fixtures are package data under `backends/demo/`:
`documents.toml` (the PDFs' text), `inbox.toml` (the messages) and `files/` (other files,
copied as they are).

The PDFs are written by `text_pdf`, a small PDF 1.4 writer (Helvetica, WinAnsi text,
several pages), so they have a real text layer without any extra dependency.
"""

from __future__ import annotations

import mailbox
import textwrap
from collections.abc import Sequence
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from pocketagent.atomic import atomic_write_bytes
from pocketagent.backends.local.mail import MaildirMail
from pocketagent.data.package_files import load_package_toml, package_tree

DEMO_USER = "Alex Kim <alex.kim@example.com>"
DEMO_DOMAIN = "demo.pocketagent.invalid"
DEMO_PACKAGE = "pocketagent.backends"  # the fixtures live in its `demo/` folder

# -- a minimal PDF writer ---------------------------------------------------------------

_PAGE_WIDTH, _PAGE_HEIGHT = 612, 792  # US Letter, points
_MARGIN = 72
_LINES_PER_PAGE = 46
_WRAP = 90


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi (cp1252), ASCII-only on disk (octal escapes)."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"\\()":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out + b")")


def _layout(title: str, paragraphs: Sequence[str]) -> list[list[tuple[str, bool]]]:
    """Lines per page as (text, is_heading)."""
    lines: list[tuple[str, bool]] = [(title, True), ("", False)]
    for paragraph in paragraphs:
        heading = paragraph.startswith("## ")
        text = paragraph[3:] if heading else paragraph
        for line in textwrap.wrap(text, _WRAP) or [""]:
            lines.append((line, heading))
        lines.append(("", False))
    return [lines[i : i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)]


def text_pdf(title: str, paragraphs: Sequence[str]) -> bytes:
    """A valid multi-page PDF whose text layer is `title` and `paragraphs` ("## " marks a heading)."""
    pages = _layout(title, paragraphs)
    objects: list[bytes] = []  # object n is objects[n-1]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # pages tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    page_ids = []
    for page_lines in pages:
        stream = bytearray(b"BT\n14 TL\n%d %d Td\n" % (_MARGIN, _PAGE_HEIGHT - _MARGIN))
        for text, heading in page_lines:
            stream += b"/F2 12 Tf\n" if heading else b"/F1 10.5 Tf\n"
            stream += _pdf_string(text) + b" Tj T*\n"
        stream += b"ET\n"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + bytes(stream) + b"endstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>" % (_PAGE_WIDTH, _PAGE_HEIGHT, content_id)
        )
        page_ids.append(len(objects))
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    objects.append(b"<< /Title " + _pdf_string(title) + b" /Producer (pocketagent demo) >>")
    info_id = len(objects)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info_id,
        xref_at,
    )
    return bytes(out)


# -- the fixtures (package data under backends/demo/) ------------------------------------


class DemoDocument(NamedTuple):
    """A demo PDF's text: its title and paragraphs ("## " marks a heading)."""

    title: str
    paragraphs: tuple[str, ...]


class _Repeat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    times: int = Field(ge=1)
    paragraphs: tuple[str, ...]  # "{n}" is replaced by 1, 2, ... `times`


class _DocumentEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str  # relative to the workspace's files/ folder
    title: str
    paragraphs: tuple[str, ...]
    repeat: _Repeat | None = None

    def document(self) -> DemoDocument:
        repeated = (
            [p.replace("{n}", str(n)) for n in range(1, self.repeat.times + 1) for p in self.repeat.paragraphs]
            if self.repeat
            else []
        )
        return DemoDocument(self.title, (*self.paragraphs, *repeated))


class _DocumentsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    documents: tuple[_DocumentEntry, ...]


class DemoMessage(BaseModel):
    """A demo inbox message, dated `hours_ago` before now and addressed to the workspace user."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str  # the Message-ID is <key@DEMO_DOMAIN>
    sender: str
    subject: str
    body: str
    hours_ago: float = Field(ge=0)
    reply_to: str | None = None  # the key of the message this one answers
    attachment: str | None = None  # a demo file, relative to files/


class _InboxFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: tuple[DemoMessage, ...] = Field(min_length=1)


@cache
def demo_documents() -> dict[str, DemoDocument]:
    """The demo PDFs by path relative to files/, in the order they are written (`demo/documents.toml`)."""
    entries = load_package_toml(_DocumentsFile, DEMO_PACKAGE, "demo", "documents.toml").documents
    return {entry.path: entry.document() for entry in entries}


@cache
def demo_inbox() -> tuple[DemoMessage, ...]:
    """The demo inbox messages (`demo/inbox.toml`), in the order they are added."""
    return load_package_toml(_InboxFile, DEMO_PACKAGE, "demo", "inbox.toml").messages


def _message_id(key: str) -> str:
    return f"<{key}@{DEMO_DOMAIN}>"


def _demo_message(entry: DemoMessage, now: datetime, user: str, files_root: Path) -> EmailMessage:
    message = EmailMessage(policy=policy.default)
    message["From"] = entry.sender
    message["To"] = user
    message["Subject"] = entry.subject
    message["Date"] = format_datetime((now - timedelta(hours=entry.hours_ago)).astimezone())
    message["Message-ID"] = _message_id(entry.key)
    if entry.reply_to:
        message["In-Reply-To"] = _message_id(entry.reply_to)
        message["References"] = _message_id(entry.reply_to)
    message.set_content(entry.body)
    if entry.attachment:
        path = files_root / entry.attachment
        message.add_attachment(path.read_bytes(), maintype="application", subtype="pdf", filename=path.name)
    return message


def write_demo_mail_and_files(home: Path, now: datetime, user: str = DEMO_USER) -> list[Path]:
    """Create the demo files tree and inbox under `home`; returns the files and messages created."""
    home = Path(home)
    files_root = home / "files"
    created: list[Path] = []
    for relative, (title, paragraphs) in demo_documents().items():
        path = files_root / relative
        if not path.exists():
            atomic_write_bytes(path, text_pdf(title, paragraphs))
            created.append(path)
    for relative, data in package_tree(DEMO_PACKAGE, "demo", "files"):
        path = files_root / relative
        if not path.exists():
            atomic_write_bytes(path, data)
            created.append(path)

    mail = MaildirMail(home / "mail", identity=user)
    existing = {summary.message_id for summary in mail.inbox_summaries()}
    inbox = demo_inbox()
    newest = min(inbox, key=lambda entry: entry.hours_ago)
    for entry in inbox:
        if _message_id(entry.key) in existing:
            continue
        stored = mailbox.MaildirMessage(_demo_message(entry, now, user, files_root).as_bytes())
        if entry is not newest:  # older mail has been read; the newest is new
            stored.set_subdir("cur")
            stored.set_flags("S")
        key = mail.inbox.add(stored)
        created.extend(mail.inbox_path.glob(f"{stored.get_subdir()}/{key}*"))
    return created
