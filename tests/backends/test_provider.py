"""The `workspace` provider: every app from its configured backend, built lazily, with the policy settings.

Also the side-effect policy end to end through `pocketagent run --send`: a real aiosmtpd
server on loopback receives the email; a fake `kdeconnect-cli` on PATH receives the text.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import caldav
import pytest
from typer.testing import CliRunner

from fakes import ScriptedLLM
from pocketagent.agent.executor import Executor
from pocketagent.backends.caldav_apps import CalDAVCalendar, CalDAVReminders, CardDAVContacts
from pocketagent.backends.demo_contacts import write_demo_personal_data
from pocketagent.backends.demo_mail_files import write_demo_mail_and_files
from pocketagent.backends.kdeconnect import KdeConnectSms
from pocketagent.backends.local.calendar import LocalCalendar, LocalReminders
from pocketagent.backends.local.contacts import Contact, LocalContacts
from pocketagent.backends.local.files import LocalFiles
from pocketagent.backends.local.mail import MaildirMail
from pocketagent.backends.local.notes import LocalNotes
from pocketagent.backends.local.sms import SmsOutbox
from pocketagent.backends.macos import MacCalendar, MacContacts, MacMail, MacMessagesSender, MacNotes, SpotlightFiles
from pocketagent.backends.maps import MapLinks
from pocketagent.backends.meetings import JitsiMeetings, ZoomMeetings
from pocketagent.backends.provider import (
    APP_BACKENDS,
    NotesWithWriter,
    WorkspaceLayout,
    build_workspace_apps,
    create_workspace,
    mail_identity,
    register_app_backend,
    selected_backends,
)
from pocketagent.backends.smtp import SmtpSender
from pocketagent.cli.main import app
from pocketagent.errors import ConfigError, ToolError
from pocketagent.plan.language import parse_plan
from pocketagent.settings import load_settings
from pocketagent.subagents.pdf_summarizer import PdfSummarizer
from pocketagent.tools import ToolContext, builtin_registry
from pocketagent.tools.apps import APP_NAMES, current_request, request_scope

runner = CliRunner()
NOW = "2026-11-23 10:00:00"
USER, PASSWORD = "alex", "correct horse"  # what the smtp_server fixture accepts


def settings(tmp_path: Path, **overrides):
    return load_settings(home=tmp_path / "home", now=NOW, open_in_desktop=False, **overrides)


def built(apps, name: str):
    """The app itself: reading an `Apps` attribute builds a lazy app."""
    assert apps.has(name)
    return getattr(apps, name)


def test_workspace_is_the_default_provider_and_builds_every_local_app(tmp_path):
    s = settings(tmp_path)
    assert s.apps == "workspace"
    apps = build_workspace_apps(s)
    expected = {
        "contacts": LocalContacts, "calendar": LocalCalendar, "files": LocalFiles, "pdf": PdfSummarizer,
        "mail": MaildirMail, "maps": MapLinks, "notes": NotesWithWriter, "reminders": LocalReminders,
        "sms": SmsOutbox, "meetings": JitsiMeetings,
    }  # fmt: skip
    assert set(expected) == set(APP_NAMES)
    for name, app_class in expected.items():
        assert isinstance(built(apps, name), app_class), name
    home = tmp_path / "home"
    assert built(apps, "contacts").directory == home / "contacts"
    assert built(apps, "calendar").store.directory == home / "calendars"
    assert isinstance(built(apps, "notes").notes, LocalNotes) and built(apps, "notes").notes.directory == home / "notes"
    assert built(apps, "files").index.roots == [(home / "files").resolve()]
    assert built(apps, "files").index.cache_path == home / "cache" / "files.json"
    assert built(apps, "pdf").cache_dir == home / "cache" / "pdf"
    mail = built(apps, "mail")
    assert mail.root == home / "mail" and mail.state_file == home / "state" / "mail.json"
    assert (mail.send, mail.sender) == (False, None)
    assert built(apps, "sms").root == home / "sms" and built(apps, "sms").sender is None
    assert built(apps, "calendar").rules.now() == datetime(2026, 11, 23, 10, 0, 0)  # the settings' clock


def test_apps_are_built_on_first_use_only(tmp_path):
    s = settings(tmp_path)
    apps = build_workspace_apps(s)
    assert not any(apps.is_built(name) for name in APP_NAMES)
    assert not (tmp_path / "home").exists()  # building the apps touched nothing
    assert apps.maps.maps_open_location("Ocean Beach") == "https://www.openstreetmap.org/search?query=Ocean+Beach"
    assert [name for name in APP_NAMES if apps.is_built(name)] == ["maps"]
    assert not (tmp_path / "home").exists()


def test_per_app_backends_are_picked_from_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("POCKETAGENT_DAV_PASSWORD", "s3cret")
    monkeypatch.setenv("POCKETAGENT_ZOOM_ACCESS_TOKEN", "tok")
    s = settings(
        tmp_path,
        contacts_backend="carddav", calendar_backend="caldav", reminders_backend="caldav",
        caldav_url="http://127.0.0.1:5232/alex/", dav_username="alex", timezone="Europe/Berlin",
        maps_provider="apple", meetings_provider="zoom", zoom_api_url="http://127.0.0.1:9/v2",
        sms_provider="kdeconnect", kdeconnect_device="phone1", send=True, file_roots=[str(tmp_path / "docs")],
    )  # fmt: skip
    apps = build_workspace_apps(s)
    contacts = built(apps, "contacts")
    assert isinstance(contacts, CardDAVContacts) and contacts.url == "http://127.0.0.1:5232/alex/"  # = caldav_url
    assert contacts._http.auth is not None
    calendar, reminders = built(apps, "calendar"), built(apps, "reminders")
    assert isinstance(calendar, CalDAVCalendar) and isinstance(reminders, CalDAVReminders)
    assert str(calendar.rules.timezone) == "Europe/Berlin"
    assert built(apps, "maps").provider == "apple"
    zoom = built(apps, "meetings")
    assert isinstance(zoom, ZoomMeetings) and zoom.api_base_url == "http://127.0.0.1:9/v2"
    assert zoom.timezone_name == "Europe/Berlin"
    sms = built(apps, "sms")
    assert isinstance(sms.sender, KdeConnectSms) and sms.sender.device_id == "phone1" and sms.send
    assert (tmp_path / "docs").resolve() in built(apps, "files").index.roots


def test_macos_backends_are_selectable(tmp_path):
    s = settings(
        tmp_path, contacts_backend="macos", calendar_backend="macos", notes_backend="macos", mail_backend="macos",
        files_backend="spotlight", sms_provider="messages", send=True, mail_name="Alex Kim",
    )  # fmt: skip
    apps = build_workspace_apps(s)
    assert isinstance(built(apps, "contacts"), MacContacts)
    assert isinstance(built(apps, "calendar"), MacCalendar)
    assert isinstance(built(apps, "notes").notes, MacNotes)
    mail = built(apps, "mail")
    assert isinstance(mail, MacMail) and mail.send and mail.writer.sender_name == "Alex Kim"
    assert isinstance(built(apps, "files"), SpotlightFiles) and built(apps, "files").roots == []
    assert isinstance(built(apps, "sms").sender, MacMessagesSender)


def test_smtp_is_used_only_with_send(tmp_path, monkeypatch):
    monkeypatch.setenv("POCKETAGENT_SMTP_PASSWORD", "pw")
    common = {"smtp_host": "smtp.example.com", "smtp_username": "alex", "mail_address": "alex.kim@example.com"}
    drafts = built(build_workspace_apps(settings(tmp_path, **common)), "mail")
    assert drafts.sender is None and not drafts.send
    sending = built(build_workspace_apps(settings(tmp_path, send=True, **common)), "mail")
    assert isinstance(sending.sender, SmtpSender) and sending.send
    assert sending.sender.settings.password == "pw" and sending.sender.settings.effective_port == 587
    assert str(sending.identity) == "alex.kim@example.com"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"contacts_backend": "outlook"},
            "unknown contacts backend 'outlook' (contacts_backend); available: carddav, local, macos",
        ),
        (
            {"sms_provider": "pigeon"},
            "unknown sms backend 'pigeon' (sms_provider); available: kdeconnect, messages, outbox",
        ),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_config_mistakes_stop_the_build(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_workspace_apps(settings(tmp_path, **overrides))


@pytest.mark.parametrize(
    ("overrides", "app", "message"),
    [
        ({"calendar_backend": "caldav"}, "calendar", 'calendar_backend = "caldav" needs caldav_url'),
        ({"meetings_provider": "zoom"}, "meetings", "the Zoom provider needs an OAuth access token"),
        ({"mail_address": "not an address"}, "mail", "mail_address 'not an address' is not a valid email address"),
        ({"smtp_host": "h", "smtp_username": "u", "send": True}, "mail", "SMTP username 'u' is set but no password"),
    ],
)
def test_incomplete_backend_config_is_a_clear_error_on_first_use(tmp_path, overrides, app, message):
    apps = build_workspace_apps(settings(tmp_path, **overrides))
    with pytest.raises(ConfigError, match=message):
        built(apps, app)


def test_a_plugin_backend_can_be_registered_and_selected(tmp_path):
    class Phonebook:
        def __init__(self, home: Path) -> None:
            self.home = home

        def get_phone_number(self, name: str) -> str:
            return "+1 555 0100"

    register_app_backend("contacts", "phonebook", lambda inputs: Phonebook(inputs.layout.home))
    try:
        s = settings(tmp_path, contacts_backend="phonebook")
        assert selected_backends(s)["contacts"] == "phonebook"
        apps = build_workspace_apps(s)
        assert apps.contacts.get_phone_number("anyone") == "+1 555 0100"
        assert built(apps, "contacts").home == tmp_path / "home"
    finally:
        del APP_BACKENDS["contacts"]["phonebook"]
    with pytest.raises(ValueError, match="unknown app 'fax'"):
        register_app_backend("fax", "x", lambda inputs: None)


def test_subagents_get_the_llm_and_the_request_of_the_run(tmp_path):
    llm = ScriptedLLM("- pack the tent\n- check the tide table")
    s = settings(tmp_path, subagent_llm=True)
    apps = build_workspace_apps(s, llm=llm)
    assert built(apps, "pdf").llm is llm and built(apps, "mail").writer.llm is llm
    assert built(build_workspace_apps(settings(tmp_path), llm=llm), "pdf").llm is None  # off by default

    plan = parse_plan('1. create_note("Camping", "", "Trips")\n2. join()<END_OF_PLAN>')

    async def run_plan() -> dict:
        executor = Executor(builtin_registry(), ToolContext(apps=apps, settings=s, llm=llm), lambda event: None)
        for action in plan.tool_actions:
            executor.submit(action)
        return await executor.wait()

    with request_scope("make a camping note: pack the tent, check the tide table"):
        results = asyncio.run(run_plan())
    assert current_request() == ""
    assert results[1].ok, results[1].error
    assert (
        tmp_path / "home" / "notes" / "Trips" / "Camping.md"
    ).read_text() == "- pack the tent\n- check the tide table\n"
    (prompt,) = llm.prompts  # the note writer ran in a tool thread and saw the request
    assert "pack the tent, check the tide table" in prompt[-1].content


def test_mail_identity_quotes_names_and_defaults_the_address(tmp_path):
    assert mail_identity(settings(tmp_path)) == "me@localhost.localdomain"
    assert (
        mail_identity(settings(tmp_path, mail_name="Kim, Alex", mail_address="a@example.com"))
        == '"Kim, Alex" <a@example.com>'
    )


def test_create_workspace_is_idempotent_and_adds_drafts_sent_to_an_existing_maildir(tmp_path):
    s = settings(tmp_path)
    layout = WorkspaceLayout.of(s)
    first = create_workspace(s)
    assert layout.home in first and layout.mail in first
    assert (layout.mail / ".Drafts" / "cur").is_dir() and (layout.mail / ".Sent" / "new").is_dir()
    assert create_workspace(s) == []
    other = settings(tmp_path / "other")
    user_maildir = WorkspaceLayout.of(other).mail
    for sub in ("cur", "new", "tmp"):
        (user_maildir / sub).mkdir(parents=True)
    created = create_workspace(other)
    assert sorted(p.name for p in created if p.parent == user_maildir) == [".Drafts", ".Sent"]


def test_attachments_come_only_from_the_files_folders(tmp_path):
    """Issue #11: `compose_new_email(..., ["/etc/passwd"])` attached it. Only files under the
    workspace's files/ and `file_roots` (symlinks resolved) can be attached, whatever the path."""
    docs = tmp_path / "docs"
    (docs / "Finance").mkdir(parents=True)
    (docs / "Finance" / "tax return.pdf").write_bytes(b"%PDF tax")
    apps = build_workspace_apps(settings(tmp_path, file_roots=[str(docs)]))
    home = tmp_path / "home"
    (home / "files").mkdir(parents=True)
    (home / "files" / "Q4 budget.pdf").write_bytes(b"%PDF budget")
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    (home / "files" / "innocent.pdf").symlink_to(secret)
    (home / "files" / "Finance").symlink_to(docs / "Finance")  # a link to another allowed folder is fine
    files, mail = built(apps, "files"), built(apps, "mail")
    found = [files.open_and_get_file_path(name) for name in ("budget", "tax return", "Finance/tax return.pdf")]
    assert mail.compose_new_email(["sid@example.com"], [], "Docs", "attached", found).startswith("Draft saved")
    ((_, draft),) = [(k, mail.drafts.get_message(k)) for k in mail.drafts.keys()]
    attached = {p.get_filename() for p in draft.walk() if p.get_filename()}
    assert attached == {"Q4 budget.pdf", "tax return.pdf"}
    assert mail.compose_new_email(["sid@example.com"], [], "Rel", "x", ["Q4 budget.pdf"]).startswith("Draft saved")

    link = files.open_and_get_file_path("innocent")  # the index finds the link...
    assert link == str(home / "files" / "innocent.pdf")
    refused = [
        ("compose", lambda path: mail.compose_new_email(["sid@example.com"], [], "Hi", "x", [path])),
        ("reply", lambda path: mail.reply_to_email([], "x", [path])),
        ("forward", lambda path: mail.forward_email(["sid@example.com"], [], "x", [path])),
    ]
    for _, call in refused:
        for path, why in [
            ("/etc/passwd", "outside the folders files can be attached from"),
            (link, f"resolves to {secret.resolve()}"),  # ...but what it points to is outside
            (str(home / "files" / ".." / ".." / "secret.txt"), "outside the folders"),
            ("../../secret.txt", "outside the folders"),
            (str(secret), "outside the folders"),
        ]:
            with pytest.raises(ToolError, match=re.escape(path) + ".*" + re.escape(why)):
                call(path)
    assert len(mail.drafts.keys()) == 2  # nothing else was written


# -- the side-effect policy through the CLI ------------------------------------------------


@pytest.fixture
def demo_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    now = datetime(2026, 11, 23, 10, 0, 0)
    write_demo_personal_data(home, now)
    write_demo_mail_and_files(home, now)
    monkeypatch.setenv("POCKETAGENT_HOME", str(home))
    monkeypatch.setenv("POCKETAGENT_NOW", NOW)
    monkeypatch.setenv("POCKETAGENT_OPEN_IN_DESKTOP", "false")
    return home


def run_plan(tmp_path: Path, plan: str, *flags: str) -> tuple[int, dict]:
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text(plan)
    result = runner.invoke(app, ["run", "--plan", str(plan_file), "--json", *flags])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


EMAIL_PLAN = (
    '1. get_email_address("Sid")\n2. open_and_get_file_path("budget")\n'
    '3. compose_new_email(["$1"], [], "Q4 budget", "here is the budget for Friday", ["$2"])\n4. join()<END_OF_PLAN>'
)


@pytest.mark.server
def test_send_delivers_the_email_over_smtp_and_keeps_it_in_sent(tmp_path, demo_home, smtp_server, monkeypatch):
    with smtp_server("plain", auth=True) as server:
        for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "plain",
                            "SMTP_USERNAME": USER, "SMTP_PASSWORD": PASSWORD, "MAIL_NAME": "Alex Kim",
                            "MAIL_ADDRESS": "alex.kim@example.com"}.items():  # fmt: skip
            monkeypatch.setenv(f"POCKETAGENT_{name}", value)
        code, data = run_plan(tmp_path, EMAIL_PLAN, "--send")
    assert code == 0, data
    assert data["actions"][2]["result"] == "Email sent to sid.shah@example.com: 'Q4 budget'"
    (delivery,) = server.handler.deliveries
    assert delivery.mail_from == "alex.kim@example.com" and delivery.rcpt_tos == ["sid.shah@example.com"]
    message = delivery.message
    assert message["From"] == "Alex Kim <alex.kim@example.com>" and message["Subject"] == "Q4 budget"
    assert "Here is the budget for Friday." in message.get_body(("plain",)).get_content()
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "budget.pdf" and attachment.get_content().startswith(b"%PDF-1.4")
    sent = MaildirMail(demo_home / "mail", identity="alex.kim@example.com")
    assert [m["Subject"] for m in sent.sent] == ["Q4 budget"] and len(sent.drafts) == 0


@pytest.mark.server
def test_send_with_a_refused_login_keeps_a_draft_and_says_so(tmp_path, demo_home, smtp_server, monkeypatch):
    with smtp_server("plain", auth=True) as server:
        for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "plain",
                            "SMTP_USERNAME": USER, "SMTP_PASSWORD": "wrong"}.items():  # fmt: skip
            monkeypatch.setenv(f"POCKETAGENT_{name}", value)
        code, data = run_plan(tmp_path, EMAIL_PLAN, "--send")
    assert code == 1 and server.handler.deliveries == []
    error = data["actions"][2]["error"]
    assert "rejected the login for 'alex'" in error and "saved to Drafts instead" in error
    assert "wrong" not in json.dumps(data)  # the password is never shown
    assert len(MaildirMail(demo_home / "mail", identity="a@example.com").drafts) == 1


def test_send_without_smtp_saves_a_draft_and_reports_it(tmp_path, demo_home):
    code, data = run_plan(tmp_path, EMAIL_PLAN, "--send")
    assert code == 0
    assert data["actions"][2]["result"].endswith("(sending is on, but no SMTP server is configured)")


SMS_PLAN = '1. get_phone_number("Rosalind")\n2. send_sms(["$1"], "the keys are under the mat")\n3. join()<END_OF_PLAN>'


def test_send_texts_through_kde_connect(tmp_path, demo_home, monkeypatch):
    bin_dir, calls = tmp_path / "bin", tmp_path / "kdeconnect-calls.jsonl"
    bin_dir.mkdir()
    cli = bin_dir / "kdeconnect-cli"
    cli.write_text(
        f"#!/usr/bin/env python3\nimport json, sys\nopen({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("POCKETAGENT_SMS_PROVIDER", "kdeconnect")
    monkeypatch.setenv("POCKETAGENT_KDECONNECT_DEVICE", "pixel7")

    code, data = run_plan(tmp_path, SMS_PLAN)  # without --send: the outbox, kdeconnect-cli is not run
    assert code == 0 and "saved to the SMS outbox" in data["actions"][1]["result"] and not calls.exists()
    code, data = run_plan(tmp_path, SMS_PLAN, "--send")
    assert code == 0 and data["actions"][1]["result"].startswith("Text sent via KDE Connect to +1-415-555-0113")
    argv = json.loads(calls.read_text())
    assert argv == ["--send-sms", "the keys are under the mat", "--destination", "+1-415-555-0113", "-d", "pixel7"]
    assert [r.status for r in SmsOutbox(demo_home / "sms").records("sent")] == ["sent"]


def test_dry_run_looks_things_up_but_changes_nothing(tmp_path, demo_home):
    before = sorted(p for p in demo_home.rglob("*") if "cache" not in p.parts)
    code, data = run_plan(
        tmp_path,
        EMAIL_PLAN.replace(
            "4. join()", '4. create_note("Budget", "$2", "Notes")\n5. send_sms(["+1 415 555 0100"], "hi")\n6. join()'
        ),
        "--dry-run",
    )
    assert code == 0
    results = [a["result"] for a in data["actions"]]
    assert results[0] == "sid.shah@example.com" and results[1].endswith("Documents/Finance/budget.pdf")
    assert all(r.startswith("[dry run] would call") for r in results[2:])
    # The run log records the dry run (marked as one); none of the user's data changes.
    after = sorted(p for p in demo_home.rglob("*") if "cache" not in p.parts)
    run_log = {demo_home / "state", *(demo_home / "state").glob("history.sqlite*")}
    assert [p for p in after if p not in run_log] == [p for p in before if p not in run_log]


# -- CalDAV / CardDAV selected in the settings, through the CLI -------------------------------


@pytest.fixture
def radicale(tmp_path: Path, start_radicale) -> Iterator[str]:
    """A real Radicale on loopback with htpasswd auth (user alex, password from the environment in the test)."""
    (tmp_path / "users").write_text("alex:dav-secret\n")
    auth = (
        "--auth-type",
        "htpasswd",
        "--auth-htpasswd-filename",
        str(tmp_path / "users"),
        "--auth-htpasswd-encryption",
        "plain",
    )
    with start_radicale(tmp_path, *auth) as url:
        yield url


def test_caldav_and_carddav_backends_end_to_end(tmp_path, demo_home, radicale, monkeypatch):
    CardDAVContacts(radicale, "alex", "dav-secret").add_contact(
        Contact("Paloma Reyes", "Paloma", "Reyes", (), ("paloma@dav.example.org",), ("+1 415 555 0199",))
    )
    for name, value in {"CALENDAR_BACKEND": "caldav", "REMINDERS_BACKEND": "caldav", "CONTACTS_BACKEND": "carddav",
                        "CALDAV_URL": radicale, "DAV_USERNAME": "alex", "DAV_PASSWORD": "dav-secret",
                        "TIMEZONE": "Europe/Berlin"}.items():  # fmt: skip
        monkeypatch.setenv(f"POCKETAGENT_{name}", value)
    code, data = run_plan(
        tmp_path,
        '1. get_email_address("Paloma")\n'
        '2. create_calendar_event("Tasting menu with Paloma", "2026-11-25 12:30:00", "", "Tartine", ["$1"], "", None)\n'
        '3. create_reminder("Book the table", "2026-11-24 09:00:00", "", "", 0, False)\n4. join()<END_OF_PLAN>',
    )
    assert code == 0, data
    assert data["actions"][0]["result"] == "paloma@dav.example.org"  # from the server, not the demo vCards
    principal = caldav.DAVClient(url=radicale, username="alex", password="dav-secret").principal()
    collections = {c.get_display_name(): c for c in principal.calendars()}
    assert set(collections) == {"Calendar", "Reminders"}
    (event,) = [e.icalendar_component for e in collections["Calendar"].events()]
    assert (
        str(event["SUMMARY"]) == "Tasting menu with Paloma"
        and str(event["ATTENDEE"]) == "mailto:paloma@dav.example.org"
    )
    assert str(event["DTSTART"].dt.tzinfo) == "Europe/Berlin" and event["DTSTART"].dt.hour == 12
    (todo,) = [t.icalendar_component for t in collections["Reminders"].todos()]
    assert str(todo["SUMMARY"]) == "Book the table"
    assert not (demo_home / "calendars" / "Calendar.ics").read_text().count("Tasting menu with Paloma")

    monkeypatch.setenv("POCKETAGENT_DAV_PASSWORD", "wrong")
    code, data = run_plan(tmp_path, '1. get_email_address("Paloma")\n2. join()<END_OF_PLAN>')
    assert code == 1 and "wrong" not in json.dumps(data)
    assert f"the CardDAV server at {radicale} refused the username/password" in data["actions"][0]["error"]


def test_the_sms_outbox_reads_numbers_in_the_configured_region(tmp_path, demo_home, monkeypatch):
    plan = '1. send_sms(["020 7946 0958", "+44 20 7946 0958"], "hi")\n2. join()<END_OF_PLAN>'
    monkeypatch.setenv("POCKETAGENT_PHONE_REGION", "GB")
    code, data = run_plan(tmp_path, plan)
    assert code == 0, data
    (record,) = SmsOutbox(demo_home / "sms").records("outbox")
    assert record.to == ["020 7946 0958"]  # one London number, written two ways
