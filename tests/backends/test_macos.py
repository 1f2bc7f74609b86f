"""The macOS app classes' own logic (validation, parsing script output, matching), with a recording runner.

The scripts themselves are checked in test_applescript.py; running them needs macOS.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

from pocketagent.backends.dates import DateRules
from pocketagent.backends.local.sms import SmsOutbox
from pocketagent.backends.macos import (
    MacCalendar,
    MacContacts,
    MacMail,
    MacMessagesSender,
    MacNotes,
    MacReminders,
    SpotlightFiles,
)
from pocketagent.backends.opener import DesktopOpener
from pocketagent.errors import ToolError

NOW = datetime(2026, 11, 23, 10, 0, 0)


class Runner:
    """Records scripts and answers with a fixed output."""

    def __init__(self, output: str = "ok") -> None:
        self.output = output
        self.scripts: list[str] = []

    def __call__(self, script: str) -> str:
        self.scripts.append(script)
        return self.output


CONTACTS = "Eren Erdoğan\t+90 555 010 0001\nEren Kaya\t+90 555 010 0002\nSid Shah\t+1 415 555 0100\n"


def test_contacts_accent_insensitive_and_ambiguous():
    runner = Runner(CONTACTS)
    contacts = MacContacts(runner)
    assert contacts.get_phone_number("Eren Erdogan") == "+90 555 010 0001"
    assert 'every person whose name contains "Eren"' in runner.scripts[0]
    assert "phones of p" in runner.scripts[0]
    with pytest.raises(ToolError, match="several contacts match 'Eren': Eren Erdoğan, Eren Kaya; say which one"):
        contacts.get_phone_number("Eren")
    with pytest.raises(ToolError, match="no contact named 'Zed' with a phone number"):
        MacContacts(Runner("")).get_phone_number("Zed")
    assert "emails of p" in _script(lambda r: MacContacts(r).get_email_address("Sid"), CONTACTS)


def _script(call, output="ok") -> str:
    runner = Runner(output)
    call(runner)
    return runner.scripts[-1]


def test_calendar_validation_and_default_end():
    runner = Runner()
    calendar = MacCalendar(runner, DateRules(clock=lambda: NOW))
    result = calendar.create_calendar_event(
        "Budget review", "2026-11-27 15:00:00", "", "", ["sid@example.com"], "", None
    )
    assert result == "Event 'Budget review' created for Fri 27 Nov 15:00–16:00 with sid@example.com"
    assert "set time of endDate to 57600" in runner.scripts[0]
    for args, error in [
        (("x", "2026-11-27 15:00:00", "2026-11-27 14:00:00", "", [], "", None), "end_date .* is before start_date"),
        (("x", "2026-11-01 15:00:00", "", "", [], "", None), "is in the past"),
        (("x", "next friday", "", "", [], "", None), "is not a valid date"),
        (("x", "2026-11-27 15:00:00", "", "", ["Sid"], "", None), "get_email_address"),
        (("", "2026-11-27 15:00:00", "", "", [], "", None), "needs a title"),
    ]:
        with pytest.raises(ToolError, match=error):
            calendar.create_calendar_event(*args)


def test_mail_drafts_by_default_and_checks_attachments(tmp_path):
    runner = Runner()
    pdf = tmp_path / "NDA.pdf"
    pdf.write_bytes(b"%PDF")
    mail = MacMail(runner=runner)
    result = mail.compose_new_email(["zeynep@example.com"], [], "NDA", "here is the NDA", [str(pdf)])
    assert result == "Email 'NDA' saved to Mail's Drafts for zeynep@example.com"
    assert "save msg" in runner.scripts[0] and str(pdf) in runner.scripts[0]
    with pytest.raises(ToolError, match="attachment not found"):
        mail.compose_new_email(["zeynep@example.com"], [], "NDA", "", ["/nope.pdf"])
    sent = MacMail(send=True, runner=Runner("Design review"))
    assert sent.reply_to_email([], "Thursday's fine", []) == "Reply to 'Design review' sent via Mail to the sender"


def test_messages_is_a_sender_for_the_sms_app(tmp_path):
    runner = Runner()
    app = SmsOutbox(tmp_path / "sms", sender=MacMessagesSender(runner), send=True)
    assert app.send_sms(["+1 415 555 0100"], "On my way").startswith("Text sent via Messages to +1 415 555 0100")
    assert 'send "On my way" to participant (contents of num) of svc' in runner.scripts[0]


def test_notes_and_reminders():
    runner = Runner("Kitchen remodel\nquotes due Friday")
    notes = MacNotes(runner)
    assert notes.open_note("Kitchen remodel", "") == "Kitchen remodel\nquotes due Friday"
    assert notes.create_note("Parking", "level P3", "") == "Note 'Parking' created in Notes"
    with pytest.raises(ToolError, match="needs a note name and some text"):
        notes.append_note_content("Home", "", "")
    reminders = MacReminders(Runner(), DateRules(clock=lambda: NOW))
    assert reminders.create_reminder("Pay the water bill", "2026-12-01 00:00:00", "", "Bills", 0, True) == (
        "Reminder 'Pay the water bill' created for Tue 1 Dec"
    )
    for priority in (3, True, "high"):
        with pytest.raises(ToolError, match="priority must be 0 .none., 1 .high., 5 .medium. or 9 .low."):
            reminders.create_reminder("x", "", "", "", priority, False)


def test_spotlight_ranks_mdfind_results(tmp_path, monkeypatch):
    docs = tmp_path / "Documents"
    docs.mkdir()
    for name in ("Insurance_Policy_2026.pdf", "insurance claim.pdf", "policy notes.txt"):
        (docs / name).write_bytes(b"x")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "mdfind.log"
    fake = bin_dir / "mdfind"
    fake.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\n"
        f"open({str(log)!r}, 'a').write(repr(sys.argv[1:]) + '\\n')\n"
        f"word = sys.argv[-1].lower()\n"
        f"for p in sorted(pathlib.Path({str(docs)!r}).iterdir()):\n"
        f"    if word in p.name.lower(): print(p)\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    files = SpotlightFiles([docs], opener=DesktopOpener(enabled=False))
    assert Path(files.open_and_get_file_path("insurance policy")).name == "Insurance_Policy_2026.pdf"
    assert log.read_text().splitlines()[0] == repr(["-onlyin", str(docs), "-name", "insurance"])
    with pytest.raises(ToolError, match="Spotlight found no file matching 'tax return'"):
        files.open_and_get_file_path("tax return")
