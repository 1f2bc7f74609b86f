"""The demo fixtures (package data under backends/demo/) parse as their formats and agree with each other."""

from __future__ import annotations

import csv
import email
import io
from datetime import datetime
from email import policy
from pathlib import Path

import icalendar
import pytest

from pocketagent.backends.demo_contacts import DEMO_PACKAGE, demo_calendars, write_demo_personal_data
from pocketagent.backends.demo_mail_files import DEMO_DOMAIN, demo_documents, demo_inbox, write_demo_mail_and_files
from pocketagent.backends.local.contacts import Contact
from pocketagent.backends.local.vcard import parse_vcards
from pocketagent.data.package_files import package_tree, read_package_bytes

NOW = datetime(2026, 11, 25, 9, 30)  # a Wednesday


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo-home")
    write_demo_personal_data(home, NOW)
    write_demo_mail_and_files(home, NOW)
    return home


def test_vcards_parse_and_are_written_byte_for_byte(home: Path):
    fixtures = dict(package_tree(DEMO_PACKAGE, "demo", "contacts"))
    assert set(fixtures) == {"demo.vcf", "exported-2019.vcf"}
    versions = {}
    for name, data in fixtures.items():
        assert (home / "contacts" / name).read_bytes() == data
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # vCard lines end in CRLF
        cards = parse_vcards(data.decode("utf-8"))
        contacts = [Contact.from_vcard(card) for card in cards]
        assert contacts and all(c.full_name and c.emails for c in contacts)
        versions[name] = {prop.value for card in cards for prop in card.all("VERSION")}
    assert versions == {"demo.vcf": {"4.0"}, "exported-2019.vcf": {"3.0"}}


def test_every_calendar_fixture_becomes_a_parseable_ics_with_its_items(home: Path):
    fixtures = demo_calendars()
    for name, events in fixtures.events.items():
        calendar = icalendar.Calendar.from_ical((home / "calendars" / f"{name}.ics").read_bytes())
        assert sorted(str(e["summary"]) for e in calendar.walk("VEVENT")) == sorted(e.title for e in events)
    for name, reminders in fixtures.reminders.items():
        calendar = icalendar.Calendar.from_ical((home / "calendars" / f"{name}.ics").read_bytes())
        assert sorted(str(t["summary"]) for t in calendar.walk("VTODO")) == sorted(r.name for r in reminders)
    work = icalendar.Calendar.from_ical((home / "calendars" / "Work.ics").read_bytes())
    standup = next(e for e in work.walk("VEVENT") if str(e["summary"]) == "Team standup")
    # `day` counts from this week's Monday (2026-11-23), `at` is the local start time.
    assert standup.decoded("dtstart").replace(tzinfo=None) == datetime(2026, 11, 24, 9, 30)


def test_notes_are_markdown_titled_like_their_file(home: Path):
    notes = package_tree(DEMO_PACKAGE, "demo", "notes")
    assert len(notes) == 10
    for relative, data in notes:
        assert relative.endswith(".md") and "/" in relative  # every note sits in a folder
        assert data.decode("utf-8").startswith(f"# {Path(relative).stem}\n")
        assert (home / "notes" / relative).read_bytes() == data


def test_inbox_messages_parse_as_email_and_point_at_real_fixtures(home: Path):
    inbox = demo_inbox()
    keys = [m.key for m in inbox]
    assert len(set(keys)) == len(keys)
    assert all(m.reply_to in keys for m in inbox if m.reply_to)
    assert all(m.attachment in demo_documents() for m in inbox if m.attachment)
    written = {}
    for path in (home / "mail").glob("[cn][ue][rw]/*"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        written[str(message["Message-ID"])] = message
    assert set(written) == {f"<{key}@{DEMO_DOMAIN}>" for key in keys}
    for entry in inbox:
        message = written[f"<{entry.key}@{DEMO_DOMAIN}>"]
        assert message["Subject"] == entry.subject and message["From"] == entry.sender
        body = message.get_body(("plain",))
        assert body is not None and body.get_content().rstrip("\n") == entry.body


def test_documents_and_plain_files_are_what_their_names_say():
    documents = demo_documents()
    assert all(path.endswith(".pdf") and doc.title and doc.paragraphs for path, doc in documents.items())
    policy_text = documents["Documents/Insurance/insurance policy.pdf"].paragraphs
    assert policy_text[-2:] == ("## Condition 12", policy_text[-1]) and "{n}" not in "".join(policy_text)
    plain = dict(package_tree(DEMO_PACKAGE, "demo", "files"))
    assert not set(plain) & set(documents)
    for relative, data in plain.items():
        if relative.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            assert len(rows) > 1 and len({len(row) for row in rows}) == 1
    assert read_package_bytes(DEMO_PACKAGE, "demo", "files", "Work", "headcount.csv").startswith(b"team,role")
