"""Mail on a real Maildir: drafts by default, SMTP on opt-in, threading, forwarding, selection, crashes."""

from __future__ import annotations

import mailbox
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from pocketagent.backends.local.mail import MaildirMail, NotAnEmailError, plain_text
from pocketagent.backends.smtp import SmtpSender, SmtpSettings
from pocketagent.errors import ConfigError, ToolError

NOW = datetime(2026, 11, 23, 10, 0, 0)
ME = "Alex Kim <alex.kim@example.com>"


def clock() -> datetime:
    return NOW


def deliver(root: Path, sender: str, subject: str, body: str, date: str, message_id: str, **headers: str) -> str:
    """Put a message in the inbox (as a mail client would) and return its key."""
    msg = EmailMessage(policy=policy.default)
    msg["From"], msg["To"], msg["Subject"], msg["Date"], msg["Message-ID"] = sender, ME, subject, date, message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return mailbox.Maildir(root, factory=None).add(mailbox.MaildirMessage(msg.as_bytes()))


def messages(folder: mailbox.Maildir) -> list[tuple[mailbox.MaildirMessage, EmailMessage]]:
    found = []
    for key in folder.iterkeys():
        with folder.get_file(key) as handle:
            parsed = BytesParser(policy=policy.default).parse(handle)
        found.append((folder.get_message(key), parsed))
    return found


@pytest.fixture
def mail(tmp_path: Path) -> MaildirMail:
    return MaildirMail(tmp_path / "mail", identity=ME, clock=clock)


@pytest.fixture
def inbox(mail: MaildirMail) -> dict[str, str]:
    keys = {
        "old": deliver(mail.root, "Sid Shah <sid.shah@example.com>", "Q4 budget review", "Could you send the budget?",
                       "Fri, 20 Nov 2026 09:00:00 -0800", "<budget-1@example.com>"),
        "new": deliver(mail.root, "Maëlle Dubois <maelle.dubois@example.com>", "Design review Wednesday",
                       "Can you present the onboarding flow?\nAnd does Thursday work?",
                       "Mon, 23 Nov 2026 09:15:00 -0800", "<review-1@example.com>",
                       References="<thread-0@example.com>"),
    }  # fmt: skip
    return keys


def run_in_threads(work, count: int) -> None:  # type: ignore[no-untyped-def]
    """work(0) ... work(count - 1), each in its own thread, all started before any is joined."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_compose_saves_a_real_draft(mail, tmp_path):
    (tmp_path / "files").mkdir()  # attachments come from the workspace's files folder
    pdf = tmp_path / "files" / "offsite budget.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% demo\n")
    notes = tmp_path / "files" / "agenda.md"
    notes.write_text("# Agenda\n")
    result = mail.compose_new_email(
        ["Cosmin Popescu <cosmin@example.org>", "leonie@example.org"], ["aditya@example.org"],
        "Offsite budget", "tell them the budget is attached", [str(pdf), str(notes)],
    )  # fmt: skip
    assert (
        result
        == "Draft saved to Drafts: 'Offsite budget' to cosmin@example.org, leonie@example.org, aditya@example.org"
    )
    assert mail.sent.keys() == [] and len(mail.inbox.keys()) == 0
    ((stored, msg),) = messages(mail.drafts)
    assert "D" in stored.get_flags() and stored.get_subdir() == "cur"
    assert (mail.root / ".Drafts" / "cur").is_dir()  # Maildir++ layout
    assert msg["From"] == ME and msg["Cc"] == "aditya@example.org"
    assert msg["To"] == "Cosmin Popescu <cosmin@example.org>, leonie@example.org"
    assert msg["Subject"] == "Offsite budget"
    assert msg["Date"].datetime.replace(tzinfo=None) == NOW
    assert msg["Message-ID"].endswith("@example.com>")
    assert "The budget is attached." in plain_text(msg)
    attachments = {part.get_filename(): part for part in msg.iter_attachments()}
    assert attachments["offsite budget.pdf"].get_content_type() == "application/pdf"
    assert attachments["offsite budget.pdf"].get_content() == pdf.read_bytes()
    assert attachments["agenda.md"].get_content_type() == "text/markdown"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((["Sid"], [], "Hi", "", []), "'Sid' is not an email address; look the person up with get_email_address"),
        (([], [], "Hi", "", []), "at least one recipient"),
        ((["a@example.com"], ["not an address"], "Hi", "", []), "not an email address"),
        ((["a@example.com"], [], "Hi", "", ["no such file.pdf"]), "attachment not found: no such file.pdf"),
        ((["a@example.com"], [], "Hi", "", ["/no/such/file.pdf"]), "attachment /no/such/file.pdf is outside the"),
        ((["a@example.com"], [], "Hi", 42, []), "context must be text"),
    ],
)
def test_bad_input_writes_nothing(mail, args, error):
    with pytest.raises(ToolError, match=error):
        mail.compose_new_email(*args)
    assert mail.drafts.keys() == []


def test_subject_cannot_inject_headers(mail):
    mail.compose_new_email(["a@example.com"], [], "Hi\r\nBcc: victim@example.com", "x", [])
    ((_, msg),) = messages(mail.drafts)
    assert msg["Bcc"] is None and msg["Subject"] == "Hi Bcc: victim@example.com"


def test_reply_goes_to_the_newest_message_threaded_and_quoted(mail, inbox):
    result = mail.reply_to_email(["kaveh@example.org"], "say Thursday's fine", [])
    assert (
        result == "Draft saved to Drafts: 'Re: Design review Wednesday' to maelle.dubois@example.com, kaveh@example.org"
    )
    ((_, msg),) = messages(mail.drafts)
    assert msg["To"] == "Maëlle Dubois <maelle.dubois@example.com>"
    assert msg["In-Reply-To"] == "<review-1@example.com>"
    assert msg["References"] == "<thread-0@example.com> <review-1@example.com>"
    text = plain_text(msg)
    assert text.startswith("Hi Maëlle,\n\nThursday's fine.")
    assert "wrote:\n> Can you present the onboarding flow?\n> And does Thursday work?" in text


def test_selection_is_persisted_and_used(mail, inbox, tmp_path):
    chosen = mail.select_message(inbox["old"])
    assert chosen.subject == "Q4 budget review" and chosen.selected
    again = MaildirMail(tmp_path / "mail", identity=ME, clock=clock)  # another process, same state file
    assert [s.subject for s in again.inbox_summaries() if s.selected] == ["Q4 budget review"]
    again.reply_to_email([], "the budget is attached", [])
    ((_, msg),) = messages(again.drafts)
    assert msg["Subject"] == "Re: Q4 budget review" and msg["To"] == "Sid Shah <sid.shah@example.com>"
    assert mail.select_message("review-1@example.com").key == inbox["new"]  # by Message-ID too
    with pytest.raises(ToolError, match="no inbox message with key or Message-ID 'nope'"):
        mail.select_message("nope")


def test_selected_message_that_vanished_is_a_clear_error(mail, inbox):
    mail.select_message(inbox["old"])
    mail.inbox.remove(inbox["old"])
    with pytest.raises(ToolError, match="the selected email is no longer in the inbox"):
        mail.reply_to_email([], "ok", [])
    mail.clear_selection()
    assert "Re: Design review Wednesday" in mail.reply_to_email([], "ok", [])


def test_empty_inbox_is_a_clear_error(mail):
    with pytest.raises(ToolError, match="inbox .* is empty: there is no email to reply to or forward"):
        mail.forward_email(["a@example.com"], [], "", [])


def test_reply_to_header_and_existing_re_prefix(mail):
    deliver(mail.root, "List <list@example.com>", "RE: minutes", "Minutes attached.", "Mon, 23 Nov 2026 08:00:00 +0000",
            "<m-1@example.com>", Reply_To="Board <board@example.com>")  # fmt: skip
    mail.reply_to_email([], "", [])
    ((_, msg),) = messages(mail.drafts)
    assert msg["To"] == "Board <board@example.com>" and msg["Subject"] == "RE: minutes"
    assert plain_text(msg).startswith("Hi Board,\n\nThanks for your email.")


def test_forward_inlines_the_message_and_keeps_its_attachments(mail, tmp_path):
    original = EmailMessage(policy=policy.default)
    original["From"], original["To"] = "Tartine <receipts@tartine.example.com>", ME
    original["Subject"], original["Date"] = "Your receipt", "Mon, 23 Nov 2026 12:41:00 -0800"
    original["Message-ID"] = "<receipt-1@example.com>"
    original.set_content("Total $54.84")
    original.add_attachment(b"%PDF receipt", maintype="application", subtype="pdf", filename="receipt.pdf")
    mail.inbox.add(mailbox.MaildirMessage(original.as_bytes()))
    extra = tmp_path / "files" / "notes.txt"
    extra.parent.mkdir()
    extra.write_text("lunch with client")
    result = mail.forward_email(["receipts@expensify.com"], ["bram@example.org"], "it's a lunch receipt", [str(extra)])
    assert result == "Draft saved to Drafts: 'Fwd: Your receipt' to receipts@expensify.com, bram@example.org"
    ((_, msg),) = messages(mail.drafts)
    text = plain_text(msg)
    assert text.startswith("Hi,\n\nIt's a lunch receipt.")
    assert "---------- Forwarded message ----------\nFrom: Tartine <receipts@tartine.example.com>" in text
    assert "Subject: Your receipt" in text and text.rstrip().endswith("Total $54.84")
    assert msg["References"] == "<receipt-1@example.com>" and msg["In-Reply-To"] is None
    assert {p.get_filename(): p.get_content() for p in msg.iter_attachments()} == {
        "receipt.pdf": b"%PDF receipt",
        "notes.txt": "lunch with client",
    }


def test_one_maildir_per_folder_layout(tmp_path):
    root = tmp_path / "mail"
    root.mkdir()
    for name in ("INBOX", "Drafts", "Sent Messages"):
        mailbox.Maildir(root / name, factory=None, create=True)
    deliver(
        root / "INBOX", "Sid <sid@example.com>", "Hi", "Hello", "Mon, 23 Nov 2026 08:00:00 +0000", "<x@example.com>"
    )
    app = MaildirMail(root, identity=ME, clock=clock)
    app.reply_to_email([], "thanks", [])
    assert len(mailbox.Maildir(root / "Drafts", factory=None).keys()) == 1
    assert app.sent is not None and (root / "Sent Messages" / "cur").is_dir()
    assert not (root / ".Drafts").exists()


def test_request_reaches_the_writer(tmp_path):
    seen = []

    class Writer:
        def write(self, kind, subject, context, recipient_names=(), original=None, request=""):
            seen.append((kind, subject, context, list(recipient_names), request))
            return "Body\n"

    app = MaildirMail(
        tmp_path / "mail", identity=ME, writer=Writer(), request=lambda: "email Björn about the prototype"
    )
    app.compose_new_email(["Björn Lindqvist <bjorn@example.com>"], [], "Prototype", "ask if it shipped", [])
    assert seen == [("new", "Prototype", "ask if it shipped", ["Björn Lindqvist"], "email Björn about the prototype")]


def test_bad_identity_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="invalid mail identity"):
        MaildirMail(tmp_path / "mail", identity="me")


@pytest.mark.server
def test_send_via_smtp_and_keep_a_copy_in_sent(tmp_path, smtp_server):
    (tmp_path / "files").mkdir()
    pdf = tmp_path / "files" / "budget.pdf"
    pdf.write_bytes(b"%PDF-1.4 budget")
    with smtp_server("plain") as server:
        sender = SmtpSender(SmtpSettings("127.0.0.1", server.port, "plain"))
        app = MaildirMail(tmp_path / "mail", identity=ME, sender=sender, send=True, clock=clock)
        result = app.compose_new_email(["Sid Shah <sid.shah@example.com>"], [], "Q4 budget", "here it is", [str(pdf)])
    assert result == "Email sent to sid.shah@example.com: 'Q4 budget'"
    (delivery,) = server.handler.deliveries
    assert delivery.mail_from == "alex.kim@example.com" and delivery.rcpt_tos == ["sid.shah@example.com"]
    assert delivery.message["Subject"] == "Q4 budget" and delivery.message["Message-ID"]
    assert "Here it is." in plain_text(delivery.message)
    (attachment,) = delivery.message.iter_attachments()
    assert attachment.get_filename() == "budget.pdf" and attachment.get_content() == b"%PDF-1.4 budget"
    ((stored, copy),) = messages(app.sent)
    assert "S" in stored.get_flags() and copy["Message-ID"] == delivery.message["Message-ID"]
    assert app.drafts.keys() == []


def test_failed_send_keeps_a_draft(tmp_path, unused_port):
    sender = SmtpSender(SmtpSettings("127.0.0.1", unused_port, "plain", timeout_s=5))
    app = MaildirMail(tmp_path / "mail", identity=ME, sender=sender, send=True, clock=clock)
    with pytest.raises(ToolError, match="cannot reach SMTP server .*; the email was saved to Drafts instead"):
        app.compose_new_email(["sid@example.com"], [], "Q4 budget", "x", [])
    assert len(app.drafts.keys()) == 1 and app.sent.keys() == []


def test_send_on_without_smtp_saves_a_draft_and_says_so(tmp_path):
    app = MaildirMail(tmp_path / "mail", identity=ME, send=True, clock=clock)
    assert app.compose_new_email(["a@example.com"], [], "S", "x", []).endswith(
        "(sending is on, but no SMTP server is configured)"
    )


def test_concurrent_drafts_are_all_kept(mail):
    errors = []

    def compose(n: int) -> None:
        try:
            mail.compose_new_email([f"p{n}@example.com"], [], f"Note {n}", "hello", [])
        except ToolError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    run_in_threads(compose, 16)
    assert errors == []
    assert sorted(msg["Subject"] for _, msg in messages(mail.drafts)) == sorted(f"Note {n}" for n in range(16))


CHILD = """
import sys
from pathlib import Path
from pocketagent.backends.local.mail import MaildirMail
app = MaildirMail(Path(sys.argv[1]), identity="Alex <alex@example.com>")
for n in range(10_000):
    app.compose_new_email(["a@example.com"], [], f"Draft {n}", "x", [sys.argv[2]])
"""


@pytest.mark.slow
def test_a_killed_writer_leaves_only_complete_messages(tmp_path):
    big = tmp_path / "files" / "big.bin"
    big.parent.mkdir()
    big.write_bytes(os.urandom(2 * 1024 * 1024))  # slow enough to be killed mid-message
    root = tmp_path / "mail"
    MaildirMail(root, identity=ME)  # create the folders
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(big)])
    drafts = root / ".Drafts" / "cur"
    try:
        while len(list(drafts.iterdir())) < 3 and child.poll() is None:
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    app = MaildirMail(root, identity=ME)
    stored = messages(app.drafts)
    assert len(stored) >= 3
    for _, msg in stored:
        (attachment,) = msg.iter_attachments()
        assert attachment.get_content() == big.read_bytes()


# -- issue #11: threads, bad messages, attachments ------------------------------------------


@pytest.mark.slow
def test_parallel_replies_forwards_and_listings_all_act_on_the_same_message(mail):
    """One MaildirMail shared by the tool threads of a run (a plan's parallel reply + forward).

    The stdlib's `Maildir._refresh()` rebuilds its table of contents in place, so threads
    sharing one `Maildir` saw "dictionary changed size during iteration", an empty inbox,
    or a different "newest" message.
    """
    for n in range(40):
        deliver(mail.root, f"P{n} <p{n}@example.com>", f"Older {n}", "x", f"Fri, 20 Nov 2026 09:{n:02d}:00 +0000",
                f"<older-{n}@example.com>")  # fmt: skip
    newest = deliver(mail.root, "Sid Shah <sid.shah@example.com>", "Newest", "x", "Mon, 23 Nov 2026 09:00:00 +0000",
                     "<newest@example.com>")  # fmt: skip
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up at once
    try:
        for round_no, (selected, subject, message_id) in enumerate(
            [(None, "Newest", "<newest@example.com>"), ("older-7@example.com", "Older 7", "<older-7@example.com>")] * 2
        ):
            if selected:
                mail.select_message(selected)
            else:
                mail.clear_selection()
            errors: list[BaseException] = []
            listed: list[str] = []

            def work(n: int) -> None:
                try:
                    if n % 3 == 0:
                        mail.reply_to_email([], f"round {round_no} reply {n}", [])
                    elif n % 3 == 1:
                        mail.forward_email(["bram@example.org"], [], f"round {round_no} fwd {n}", [])
                    else:
                        listed.append(mail.inbox_summaries(limit=1)[0].key)
                except BaseException as exc:  # noqa: BLE001 - every failure is the bug
                    errors.append(exc)

            run_in_threads(work, 24)
            assert errors == []
            assert listed == [newest] * 8  # the listing is by date, whatever is selected
            drafts = [msg for _, msg in messages(mail.drafts)]
            assert len(drafts) == 16
            assert sorted(str(msg["Subject"]) for msg in drafts) == sorted([f"Re: {subject}", f"Fwd: {subject}"] * 8)
            assert {str(msg["References"]).split()[-1] for msg in drafts} == {message_id}
            for key in mail.drafts.keys():
                mail.drafts.remove(key)
    finally:
        sys.setswitchinterval(old_interval)


def _write_inbox_file(mail: MaildirMail, name: str, data: bytes) -> Path:
    path = mail.root / "cur" / name
    path.write_bytes(data)
    return path


def test_a_malformed_message_id_or_from_does_not_disable_the_inbox(mail, inbox):
    for n, value in enumerate(["<", "<@>", "<a@", "<a@[b"]):  # each broke the stdlib's header parser
        _write_inbox_file(mail, f"bad-id-{n}:2,S", b"From: x@example.com\nDate: Sun, 1 Nov 2026 09:00:00 +0000\n"
                          b"Message-ID: " + value.encode() + b"\nSubject: bad id\n\nbody\n")  # fmt: skip
    _write_inbox_file(mail, "bad-from:2,S", b"From: a@\nDate: Sun, 1 Nov 2026 09:00:00 +0000\nSubject: bad from\n\nx\n")
    subjects = [s.subject for s in mail.inbox_summaries()]
    assert subjects[:2] == ["Design review Wednesday", "Q4 budget review"]
    assert sorted(subjects[2:]) == ["bad from"] + ["bad id"] * 4  # listed, with what could be read
    assert "Re: Design review Wednesday" in mail.reply_to_email([], "ok", [])
    assert "Fwd: Design review Wednesday" in mail.forward_email(["a@example.com"], [], "fyi", [])
    mail.select_message("bad-id-2")
    assert "Re: bad id" in mail.reply_to_email([], "ok", [])  # the sender is fine; the broken id is left out
    assert "Fwd: bad id" in mail.forward_email(["a@example.com"], [], "fyi", [])
    replies = [msg for _, msg in messages(mail.drafts) if msg["Subject"] == "Re: bad id"]
    assert len(replies) == 1 and replies[0]["In-Reply-To"] is None and replies[0]["References"] is None


@pytest.mark.parametrize("sender", ["a@", "<>", "@", "Foo", "undisclosed-recipients:;", ""])
def test_a_reply_to_an_unparsable_sender_is_refused(mail, sender):
    _write_inbox_file(mail, "odd:2,S", f"From: {sender}\nSubject: odd\nMessage-ID: <odd@example.com>\n\nx\n".encode())
    with pytest.raises(ToolError, match="no sender address to reply to|cannot be replied to"):
        mail.reply_to_email([], "ok", [])
    assert mail.drafts.keys() == []  # never a draft "to <>"
    assert "Fwd: odd" in mail.forward_email(["a@example.com"], [], "fyi", [])  # forwarding needs no sender


@pytest.mark.parametrize(
    "data",
    [b"", b"\n\n", bytes(range(256)) * 32, b"X-Junk: 1\n\nbody without From, Date or Subject\n"],
    ids=["zero-bytes", "blank-lines", "binary", "no-from-date-subject"],
)
def test_forwarding_a_selected_file_that_is_not_an_email_is_refused(mail, inbox, data):
    """Issue 11: an empty or random-bytes inbox file was forwarded as a 'Fwd:' of nothing or of binary."""
    _write_inbox_file(mail, "junk:2,S", data)
    mail.select_message("junk")
    refused = r"^the selected email \(inbox message 'junk'\) (is empty|has no From, Date or Subject header)"
    with pytest.raises(NotAnEmailError, match=refused):
        mail.forward_email(["a@example.com"], [], "fyi", [])
    assert mail.drafts.keys() == [] and mail.sent.keys() == []  # nothing written
    with pytest.raises(ToolError, match="no sender address"):
        mail.reply_to_email([], "ok", [])  # as before


def test_a_message_with_only_a_subject_or_a_date_is_still_forwarded(mail):
    _write_inbox_file(mail, "subject-only:2,S", b"Subject: just this\n\nthe text\n")
    assert "Fwd: just this" in mail.forward_email(["a@example.com"], [], "fyi", [])
    _write_inbox_file(mail, "date-only:2,S", b"Date: Tue, 24 Nov 2026 09:00:00 +0000\n\nthe text\n")
    mail.select_message("date-only")
    assert "'Fwd:'" in mail.forward_email(["a@example.com"], [], "fyi", [])


def _nested(depth: int) -> bytes:
    head = b"From: Deep <deep@example.com>\nSubject: deep\nDate: Tue, 24 Nov 2026 09:00:00 +0000\nMIME-Version: 1.0\n"
    body = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth))
    body += b"Content-Type: text/plain\n\nhello\n" + b"".join(b"--b%d--\n" % i for i in reversed(range(depth)))
    return head + body


@pytest.mark.parametrize("depth", [100, 3000])  # 100 parses, but get_body() recurses per level later
def test_deep_mime_nesting_is_a_clear_error_not_a_recursion_error(mail, inbox, depth):
    _write_inbox_file(mail, "deep:2,S", _nested(depth))
    assert mail.inbox_summaries()[0].subject == "deep"  # it is the newest: listed, headers are fine
    with pytest.raises(ToolError, match="cannot be read"):
        mail.reply_to_email([], "ok", [])
    with pytest.raises(ToolError, match="cannot be read"):
        mail.forward_email(["a@example.com"], [], "fyi", [])
    mail.select_message(inbox["new"])
    assert "Re: Design review Wednesday" in mail.reply_to_email([], "ok", [])


def _unblock(worker: threading.Thread, fifos: list[Path]) -> None:
    """Let a reader stuck opening a FIFO go on (a writer opens and closes it), so the run can end."""
    for _ in range(20):
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # ENXIO: nobody is reading it now
                pass
        worker.join(timeout=0.5)
        if not worker.is_alive():
            return


def test_a_fifo_or_a_huge_header_in_the_maildir_is_skipped_not_waited_on(mail, inbox, caplog, monkeypatch):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(mail.root / "new" / "fifo")
    os.mkfifo(mail.root / "cur" / "fifo2:2,S")
    monkeypatch.setattr("pocketagent.backends.local.mail.MAX_HEADER_BYTES", 4096, raising=False)
    _write_inbox_file(mail, "huge:2,S", b"From: a@example.com\nX-Junk: " + b"j" * 10_000 + b"\nSubject: huge\n\nx\n")
    found: list[list[str]] = []
    worker = threading.Thread(target=lambda: found.append([s.subject for s in mail.inbox_summaries()]), daemon=True)
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():
        _unblock(worker, [mail.root / "new" / "fifo", mail.root / "cur" / "fifo2:2,S"])
        pytest.fail("listing the inbox hangs on a FIFO")
    assert found == [["Design review Wednesday", "Q4 budget review"]]
    assert "fifo" in caplog.text and "huge" in caplog.text  # skipped with a warning naming the file
    assert "Re: Design review Wednesday" in mail.reply_to_email([], "ok", [])


def test_an_oversized_message_is_a_clear_error(mail, inbox, monkeypatch):
    monkeypatch.setattr("pocketagent.backends.local.mail.MAX_MESSAGE_BYTES", 1000)
    head = b"From: Big <big@example.com>\nSubject: big\nDate: Tue, 24 Nov 2026 09:00:00 +0000\n\n"
    _write_inbox_file(mail, "big:2,S", head + b"x" * 2000 + b"\n")
    with pytest.raises(ToolError, match="larger than"):
        mail.reply_to_email([], "ok", [])
