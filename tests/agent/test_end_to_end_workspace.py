"""Each of the 16 tools end to end: `pocketagent run --plan PLAN --json` on the demo workspace.

Plans are written like the hand-written eval set (data/handwritten-dev.jsonl)
and use the demo's people, notes and files. Every test checks the real effect on disk
(vCard lookups, .ics files, Maildir messages, the SMS outbox, Markdown notes) and the
bad-input cases check that the failure is one clear sentence. No model is used: without
an LLM the sub-agents use their templates and extractive summaries.
"""

from __future__ import annotations

import json
import shutil
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import icalendar
import pytest
from typer.testing import CliRunner

from pocketagent.cli.main import app

runner = CliRunner()
NOW = "2026-11-23 10:00:00"  # a Monday, as in the eval set
DEMO_DOMAIN = "demo.pocketagent.invalid"


@pytest.fixture
def home(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(demo_template, home)
    monkeypatch.setenv("POCKETAGENT_HOME", str(home))
    monkeypatch.setenv("POCKETAGENT_NOW", NOW)
    monkeypatch.setenv("POCKETAGENT_OPEN_IN_DESKTOP", "false")
    monkeypatch.setenv("POCKETAGENT_MAIL_NAME", "Alex Kim")
    monkeypatch.setenv("POCKETAGENT_MAIL_ADDRESS", "alex.kim@example.com")
    return home


def run(tmp_path: Path, *steps: str, flags: tuple[str, ...] = ()) -> tuple[int, dict]:
    """Run a plan made of `steps` (tool calls, numbered here) and return (exit code, --json output)."""
    lines = [f"{number}. {step}" for number, step in enumerate(steps, 1)]
    plan = "\n".join(lines) + f"\n{len(steps) + 1}. join()<END_OF_PLAN>\n"
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text(plan, encoding="utf-8")
    result = runner.invoke(app, ["run", "--plan", str(plan_file), "--json", *flags])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def results(data: dict) -> list[str]:
    return [action.get("result") or f"FAILED: {action.get('error')}" for action in data["actions"]]


def drafts(home: Path) -> list[EmailMessage]:
    folder = home / "mail" / ".Drafts" / "cur"
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in sorted(folder.iterdir())]


def calendar_items(path: Path, kind: str) -> list[icalendar.cal.Component]:
    return list(icalendar.Calendar.from_ical(path.read_bytes()).walk(kind))


# -- contacts -------------------------------------------------------------------------------


def test_get_phone_number_from_the_vcards(home, tmp_path):
    code, data = run(tmp_path, 'get_phone_number("Tío Manuel")', 'get_phone_number("ilona")')
    assert code == 0 and results(data) == ["+1-415-555-0104", "+1-415-555-0134"]  # a nickname; a vCard 3.0 export


def test_get_email_address_accent_insensitive(home, tmp_path):
    code, data = run(tmp_path, 'get_email_address("Eren Erdogan")', 'get_email_address("Maëlle")')
    assert code == 0 and results(data) == ["eren.erdogan@example.com", "maelle.durand@example.net"]


# -- calendar and reminders ------------------------------------------------------------------


def test_create_calendar_event_writes_a_vevent(home, tmp_path):
    code, data = run(
        tmp_path,
        'get_email_address("Teodora")',
        'create_calendar_event("Design review", "2026-11-25 10:00:00", "2026-11-25 11:00:00", "Room Atlas", ["$1"], '
        '"bring the onboarding flow", "Work")',
    )
    assert code == 0, results(data)
    assert results(data)[1].startswith("Created event 'Design review' on Wed 25 Nov 10:00–11:00 in calendar Work")
    (event,) = [e for e in calendar_items(home / "calendars" / "Work.ics", "VEVENT") if e["SUMMARY"] == "Design review"
                and e.decoded("DTSTART").day == 25]  # fmt: skip
    assert event.decoded("DTSTART").strftime("%Y-%m-%d %H:%M") == "2026-11-25 10:00"
    assert event.decoded("DTEND").strftime("%H:%M") == "11:00"
    assert str(event["LOCATION"]) == "Room Atlas" and str(event["DESCRIPTION"]) == "bring the onboarding flow"
    assert str(event["ATTENDEE"]).lower() == "mailto:teodora@example.com"


def test_create_reminder_writes_a_vtodo(home, tmp_path):
    code, data = run(
        tmp_path,
        'create_reminder("Pay the water bill", "2026-12-01 00:00:00", "", "Bills", 0, True)',
        'create_reminder("Draft our response", "2026-11-27 14:00:00", "RFP", "", 1, False)',
    )
    assert code == 0, results(data)
    (bill,) = [
        t for t in calendar_items(home / "calendars" / "Bills.ics", "VTODO") if t["SUMMARY"] == "Pay the water bill"
    ]
    assert bill.decoded("DUE").isoformat() == "2026-12-01"  # all day: a DATE
    (draft,) = [t for t in calendar_items(home / "calendars" / "Reminders.ics", "VTODO")
                if t["SUMMARY"] == "Draft our response"]  # fmt: skip
    assert draft.decoded("DUE").strftime("%Y-%m-%d %H:%M") == "2026-11-27 14:00"
    assert int(draft["PRIORITY"]) == 1 and str(draft["DESCRIPTION"]) == "RFP"


# -- files and PDFs --------------------------------------------------------------------------


def test_open_and_get_file_path_finds_the_demo_file(home, tmp_path):
    code, data = run(tmp_path, 'open_and_get_file_path("headcount spreadsheet")', 'open_and_get_file_path("NDA")')
    assert code == 0
    assert results(data) == [
        str(home / "files" / "Work" / "headcount.csv"),
        str(home / "files" / "Work" / "Legal" / "NDA.pdf"),
    ]


def test_summarize_pdf_reads_the_real_pdf(home, tmp_path):
    code, data = run(tmp_path, 'open_and_get_file_path("insurance policy")', 'summarize_pdf("$1")')
    assert code == 0, results(data)
    summary = results(data)[1]
    assert summary.startswith("Homeowners Insurance Policy:")
    assert "2209 Fulton Street" in summary and "HO-4471-2026" in summary
    assert list((home / "cache" / "pdf").glob("*.json"))  # cached for next time


# -- mail --------------------------------------------------------------------------------------


def test_compose_new_email_drafts_a_message_with_the_attachment(home, tmp_path):
    code, data = run(
        tmp_path,
        'get_email_address("Ravi")',
        'open_and_get_file_path("signed offer letter")',
        'compose_new_email(["$1"], ["hr@lattice.dev"], "Signed offer letter", "", ["$2"])',
    )
    assert code == 0, results(data)
    assert results(data)[2] == "Draft saved to Drafts: 'Signed offer letter' to ravi.kumar@example.org, hr@lattice.dev"
    (message,) = drafts(home)
    assert message["From"] == "Alex Kim <alex.kim@example.com>"
    assert message["To"] == "ravi.kumar@example.org" and message["Cc"] == "hr@lattice.dev"
    assert message["Subject"] == "Signed offer letter" and message["Message-ID"] and message["Date"]
    assert "Signed offer letter" in message.get_body(("plain",)).get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "signed offer letter.pdf" and attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == (home / "files" / "Documents" / "signed offer letter.pdf").read_bytes()


def test_reply_to_email_threads_on_the_newest_message(home, tmp_path):
    code, data = run(tmp_path, 'get_email_address("Kaveh")', 'reply_to_email(["$1"], "Thursday\'s fine", [])')
    assert code == 0, results(data)
    (reply,) = drafts(home)
    assert reply["Subject"] == "Re: Design review Wednesday"
    assert reply["To"] == "Maëlle Durand <maelle.durand@example.net>" and reply["Cc"] == "kaveh.tehrani@example.com"
    assert reply["In-Reply-To"] == f"<review-1@{DEMO_DOMAIN}>" and reply["References"] == f"<review-1@{DEMO_DOMAIN}>"
    body = reply.get_body(("plain",)).get_content()
    assert body.startswith("Hi Maëlle,\n\nThursday's fine.\n\nBest,\nAlex Kim\n")
    assert "\n> Hi Alex,\n" in body and "\n> Merci,\n> Maëlle\n" in body  # the original, quoted


def test_forward_email_sends_the_selected_message_with_its_attachment(home, tmp_path):
    selected = runner.invoke(app, ["mail", "select", f"<sublease-1@{DEMO_DOMAIN}>"])
    assert selected.exit_code == 0, selected.output
    code, data = run(tmp_path, 'get_email_address("Nadia")', 'forward_email(["$1"], [], "see thread below", [])')
    assert code == 0, results(data)
    (forward,) = drafts(home)
    assert forward["Subject"] == "Fwd: Sublease agreement for Unit 3" and forward["To"] == "nadia.haddad@example.com"
    assert forward["References"] == f"<sublease-1@{DEMO_DOMAIN}>"
    body = forward.get_body(("plain",)).get_content()
    assert "See thread below." in body and "From: Priya Raman <priya.raman@example.com>" in body
    (attachment,) = forward.iter_attachments()
    assert attachment.get_filename() == "sublease.pdf"


# -- maps and meetings ------------------------------------------------------------------------


def test_maps_open_location_returns_the_map_url(home, tmp_path):
    code, data = run(tmp_path, 'maps_open_location("Presidio Tunnel Tops")')
    assert code == 0 and results(data) == ["https://www.openstreetmap.org/search?query=Presidio+Tunnel+Tops"]


def test_maps_show_directions_modes(home, tmp_path):
    code, data = run(
        tmp_path,
        'maps_show_directions("", "Dolores Park", "w")',
        'maps_show_directions("Ferry Building", "de Young Museum", "r")',
    )
    assert code == 0
    walk, transit = results(data)
    assert walk == "https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&to=Dolores+Park"
    assert transit.startswith("https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&from=Ferry+Building")
    assert transit.endswith("(OpenStreetMap has no public-transit routing; this is the walking route)")


def test_get_zoom_meeting_link_makes_a_jitsi_room(home, tmp_path):
    code, data = run(
        tmp_path,
        'get_email_address("Ilse")',
        'get_zoom_meeting_link("Q1 roadmap", "2026-11-27 13:00:00", 60, ["$1"])',
        'create_calendar_event("Q1 roadmap", "2026-11-27 13:00:00", "2026-11-27 14:00:00", "$2", [], "", None)',
    )
    assert code == 0, results(data)
    link = results(data)[1]
    assert link.startswith("https://meet.jit.si/q1-roadmap-") and len(link) > len("https://meet.jit.si/q1-roadmap-")
    (event,) = [
        e for e in calendar_items(home / "calendars" / "Calendar.ics", "VEVENT") if e["SUMMARY"] == "Q1 roadmap"
    ]
    assert str(event["LOCATION"]) == link


# -- notes -------------------------------------------------------------------------------------


def test_create_note_writes_markdown_in_the_folder(home, tmp_path):
    code, data = run(tmp_path, 'create_note("Osaka", "Dotonbori, Kuromon market, Umeda Sky", "Travel")')
    assert code == 0 and results(data) == ["Created note 'Osaka' in folder Travel."]
    assert (home / "notes" / "Travel" / "Osaka.md").read_text() == "Dotonbori, Kuromon market, Umeda Sky\n"


def test_open_note_in_any_folder(home, tmp_path):
    code, data = run(tmp_path, 'open_note("kitchen remodel", "")')
    assert code == 0
    assert results(data)[0] == (home / "notes" / "Household" / "Kitchen remodel.md").read_text()
    assert "Budget: $18,000" in results(data)[0]


def test_append_note_content_adds_a_line(home, tmp_path):
    code, data = run(tmp_path, 'append_note_content("Home", "call plumber re: water heater", "Household")')
    assert code == 0 and results(data) == ["Appended to note 'Home' in folder Household."]
    assert (
        (home / "notes" / "Household" / "Home.md")
        .read_text()
        .endswith("- Water heater is making noises\ncall plumber re: water heater\n")
    )


# -- SMS ---------------------------------------------------------------------------------------


def test_send_sms_queues_in_the_outbox(home, tmp_path):
    code, data = run(
        tmp_path, 'open_note("Gate codes", "")', 'get_phone_number("Thuy")', 'get_phone_number("Esteban")',
        'send_sms(["$2", "$3"], "$1")',
    )  # fmt: skip
    assert code == 0, results(data)
    assert results(data)[3].startswith("Text saved to the SMS outbox for +1-415-555-0110, +1-415-555-0126, not sent")
    (record_file,) = (home / "sms" / "outbox").glob("*.json")
    record = json.loads(record_file.read_text())
    assert record["to"] == ["+1-415-555-0110", "+1-415-555-0126"] and record["status"] == "queued"
    assert "Front gate: 4821#" in record["message"] and record["created"] == "2026-11-23T10:00:00"


# -- bad inputs end in clear messages ------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ('get_phone_number("Zorblax Quux")', "no contact matches 'Zorblax Quux'"),
        ('get_email_address("Sam")', "2 contacts match 'Sam': Sam Lee, Sam Ortiz — say which"),
        ('get_phone_number("Adaeze Okonkwo")', "Adaeze Okonkwo has no phone number in your contacts"),
        ('create_calendar_event("Lunch", "next friday at noon", "", "", [], "", None)',
         "start_date 'next friday at noon' is not a valid date; expected 'YYYY-MM-DD HH:MM:SS'"),
        ('create_calendar_event("Lunch", "2026-11-27 13:00:00", "2026-11-27 12:00:00", "", [], "", None)',
         "end_date 2026-11-27 12:00:00 is before start_date 2026-11-27 13:00:00"),
        ('create_reminder("Call mom", "2026-11-20 09:00:00", "", "", 0, False)',
         "is in the past (now is 2026-11-23 10:00:00); give a future date"),
        ('open_and_get_file_path("quarterly zebra census")', "no file matching 'quarterly zebra census'"),
        ('summarize_pdf("/no/such/report.pdf")', "no such file: /no/such/report.pdf"),
        ('compose_new_email(["Sid"], [], "Hi", "", [])', "'Sid' is not an email address; look the person up"),
        ('open_note("Shopping for the moon", "")', "no note matches 'Shopping for the moon'"),
        ('send_sms(["call me maybe"], "hi")', "call me maybe"),
    ],
)  # fmt: skip
def test_bad_input_fails_the_action_with_a_clear_message(home, tmp_path, step, message):
    code, data = run(tmp_path, step)
    assert code == 1
    (action,) = data["actions"]
    assert action["status"] == "failed" and message in action["error"]
    assert "Traceback" not in action["error"] and "raised" not in action["error"]  # a typed error, not a bug
    assert not list((home / "sms" / "outbox").glob("*.json"))


def test_non_pdf_to_summarize_pdf_and_its_dependents(home, tmp_path):
    code, data = run(
        tmp_path, 'open_and_get_file_path("headcount spreadsheet")', 'summarize_pdf("$1")',
        'create_note("Headcount summary", "$2", "Work")',
    )  # fmt: skip
    assert code == 1
    found, summary, note = data["actions"]
    assert found["status"] == "ok"
    assert summary["status"] == "failed" and "headcount.csv is not a PDF" in summary["error"]
    assert note["status"] == "skipped" and "depends on action 2 (summarize_pdf), which failed" in note["error"]
    assert not (home / "notes" / "Work" / "Headcount summary.md").exists()


def test_a_config_mistake_stops_before_running(home, tmp_path, monkeypatch):
    monkeypatch.setenv("POCKETAGENT_CALENDAR_BACKEND", "outlook")
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text('1. maps_open_location("Ocean Beach")\n2. join()<END_OF_PLAN>')
    result = runner.invoke(app, ["run", "--plan", str(plan_file)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())  # rich may wrap the line at the terminal width
    assert "unknown calendar backend 'outlook' (calendar_backend); available: caldav, local, macos" in message
