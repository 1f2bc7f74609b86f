"""`pocketagent init [--demo]`, `pocketagent mail list/select/show`, and secrets hidden by `pocketagent config`."""

from __future__ import annotations

import json
import re
from email.utils import parseaddr
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pocketagent.backends.local.contacts import LocalContacts
from pocketagent.backends.local.mail import MaildirMail
from pocketagent.cli.main import app

runner = CliRunner()
NOW = "2026-11-23 10:00:00"


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POCKETAGENT_NOW", NOW)
    return tmp_path / "home"  # = POCKETAGENT_HOME (tests/conftest.py)


def test_init_creates_the_layout_and_is_idempotent(home):
    result = invoke("init")
    assert result.exit_code == 0, result.output
    for folder in ("contacts", "calendars", "notes/Notes", "files", "sms/outbox", "mail"):
        assert (home / folder).is_dir(), folder
        assert f"created {folder}/" in result.stdout
    assert (home / "mail" / ".Drafts" / "cur").is_dir() and (home / "mail" / ".Sent" / "cur").is_dir()
    assert not list((home / "contacts").iterdir())  # no demo data without --demo

    again = invoke("init")
    assert again.exit_code == 0 and "created" not in again.stdout and "nothing changed" in again.stdout


def test_init_demo_writes_data_once_and_never_overwrites(home):
    result = invoke("init", "--demo")
    assert result.exit_code == 0, result.output
    assert re.search(r"demo data: \d+ files \(.*2 in contacts/.*7 in mail/", result.stdout)
    assert (home / "contacts" / "demo.vcf").is_file() and (home / "calendars" / "Work.ics").is_file()
    assert (home / "notes" / "Household" / "Kitchen remodel.md").is_file()
    assert (home / "files" / "Documents" / "Finance" / "budget.pdf").read_bytes().startswith(b"%PDF-1.4")
    assert len(MaildirMail(home / "mail", identity="a@example.com").inbox_summaries()) == 7

    note = home / "notes" / "Notes" / "Groceries.md"
    note.write_text("my own list\n")
    again = invoke("init", "--demo")
    assert again.exit_code == 0 and "demo data: already there; nothing changed" in again.stdout
    assert note.read_text() == "my own list\n"
    assert len(MaildirMail(home / "mail", identity="a@example.com").inbox_summaries()) == 7


def test_demo_inbox_senders_are_demo_contacts(home):
    assert invoke("init", "--demo").exit_code == 0
    contacts = LocalContacts(home / "contacts")
    people = [parseaddr(s.sender) for s in MaildirMail(home / "mail", identity="a@example.com").inbox_summaries()]
    people = [(name, address) for name, address in people if "receipts@" not in address]
    assert len(people) == 6
    for name, address in people:
        assert contacts.get_email_address(name) == address, name


def test_init_with_home_option_and_a_clear_error_for_a_bad_home(tmp_path):
    target = tmp_path / "elsewhere"
    result = invoke("init", "--home", str(target))
    assert result.exit_code == 0 and (target / "contacts").is_dir()
    assert f"export POCKETAGENT_HOME={target}" in result.stdout
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = invoke("init", "--home", str(blocker))
    assert result.exit_code == 2 and "cannot create the workspace under" in result.stderr


def test_mail_list_select_show(home):
    assert invoke("init", "--demo").exit_code == 0
    listed = invoke("mail", "list", "--json")
    assert listed.exit_code == 0, listed.output
    messages = json.loads(listed.stdout)["messages"]
    assert [m["number"] for m in messages] == list(range(1, 8))
    assert messages[0]["subject"] == "Design review Wednesday" and not any(m["selected"] for m in messages)
    dates = [m["date"] for m in messages]
    assert dates == sorted(dates, reverse=True)

    text = invoke("mail", "list")
    assert text.exit_code == 0 and text.stdout.splitlines()[0].startswith("*  1")

    sublease = next(m for m in messages if m["subject"].startswith("Sublease"))
    selected = invoke("mail", "select", str(sublease["number"]))
    assert selected.exit_code == 0 and "Sublease agreement for Unit 3" in selected.stdout
    assert [m["selected"] for m in json.loads(invoke("mail", "list", "--json").stdout)["messages"]].count(True) == 1

    shown = invoke("mail", "show")
    assert shown.exit_code == 0
    assert "Subject: Sublease agreement for Unit 3" in shown.stdout and "Attachments: sublease.pdf" in shown.stdout
    assert "please have Jordan sign" in shown.stdout

    by_key = json.loads(invoke("mail", "show", messages[1]["key"], "--json").stdout)
    assert by_key["headers"]["Subject"] == messages[1]["subject"] and by_key["attachments"] == []
    by_id = invoke("mail", "show", messages[0]["message_id"])
    assert "Design review Wednesday" in by_id.stdout

    assert invoke("mail", "select", messages[2]["message_id"]).exit_code == 0
    assert json.loads(invoke("mail", "list", "--json").stdout)["messages"][2]["selected"] is True
    cleared = invoke("mail", "select", "--clear")
    assert cleared.exit_code == 0 and not any(
        m["selected"] for m in json.loads(invoke("mail", "list", "--json").stdout)["messages"]
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["mail", "select", "99"], 1, "there is no message number 99; the inbox has 7"),
        (["mail", "select", "nope@nowhere"], 1, "no inbox message with key or Message-ID 'nope@nowhere'"),
        (["mail", "show", "nope"], 1, "no inbox message with key or Message-ID 'nope'"),
        (["mail", "select"], 2, "give a KEY to select, or --clear"),
    ],
)
def test_mail_bad_input_is_one_clear_line(home, args, code, message):
    assert invoke("init", "--demo").exit_code == 0
    result = invoke(*args)
    assert result.exit_code == code and message in result.stderr


def test_mail_before_init_and_with_another_backend(home, monkeypatch):
    result = invoke("mail", "list")
    assert result.exit_code == 2 and "create the workspace with `pocketagent init`" in result.stderr
    assert not (home / "mail").exists()
    monkeypatch.setenv("POCKETAGENT_MAIL_BACKEND", "macos")
    result = invoke("mail", "list")
    assert result.exit_code == 2 and "mail_backend is 'macos'" in result.stderr


def test_empty_inbox(home):
    assert invoke("init").exit_code == 0
    assert invoke("mail", "list").stdout.strip() == "The inbox is empty."
    result = invoke("mail", "show")
    assert result.exit_code == 1 and "is empty: there is no email to reply to or forward" in result.stderr


def test_config_never_prints_secrets(monkeypatch, isolated_config):
    isolated_config.write_text('smtp_host = "smtp.example.com"\nsmtp_password = "from-the-file"\n')
    monkeypatch.setenv("POCKETAGENT_DAV_PASSWORD", "hunter2")
    monkeypatch.setenv("POCKETAGENT_ZOOM_CLIENT_SECRET", "zsecret")
    monkeypatch.setenv("POCKETAGENT_OPENAI_API_KEY", "sk-test")
    for args in (["config"], ["config", "--json"]):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        for secret in ("from-the-file", "hunter2", "zsecret", "sk-test"):
            assert secret not in result.stdout
    settings = json.loads(invoke("config", "--json").stdout)["settings"]
    assert settings["smtp_password"] == settings["dav_password"] == settings["openai_api_key"] == "********"
    assert settings["zoom_access_token"] is None and settings["smtp_host"] == "smtp.example.com"
    assert settings["apps"] == "workspace" and settings["contacts_backend"] == "local"
