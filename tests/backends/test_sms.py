"""SMS: the outbox (default), number validation, and KDE Connect through a fake kdeconnect-cli on PATH."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

from pocketagent.backends.kdeconnect import KdeConnectSms
from pocketagent.backends.local.sms import SmsOutbox
from pocketagent.errors import ToolError

NOW = datetime(2026, 11, 23, 10, 0, 0)

# Records each call's argv (one JSON list per line); behaves like kdeconnect-cli for the options we use.
FAKE_CLI = """#!{python}
import json, os, sys
with open(os.environ["FAKE_KDE_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:2] == ["--list-available", "--id-only"]:
    print(os.environ.get("FAKE_KDE_DEVICES", ""))
    sys.exit(0)
if "--send-sms" in args:
    number = args[args.index("--destination") + 1]
    if number.endswith("0000"):
        print("error: the device rejected the message", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
sys.exit(2)
"""


@pytest.fixture
def fake_kdeconnect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "kdeconnect-cli"
    cli.write_text(FAKE_CLI.format(python=sys.executable))
    cli.chmod(0o755)
    log = tmp_path / "kde.log"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KDE_LOG", str(log))
    monkeypatch.setenv("FAKE_KDE_DEVICES", "a1b2c3d4e5f6")
    return log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_default_is_the_outbox(tmp_path):
    app = SmsOutbox(tmp_path / "sms", clock=lambda: NOW)
    result = app.send_sms(["+1 (415) 555-0100", "415-555-0101"], "The keys are under the mat")
    assert result.startswith("Text saved to the SMS outbox for +1 (415) 555-0100, 415-555-0101, not sent")
    (record,) = app.records("outbox")
    assert record.to == ["+1 (415) 555-0100", "415-555-0101"]
    assert record.message == "The keys are under the mat"
    assert record.status == "queued" and record.created == "2026-11-23T10:00:00"
    files = list((tmp_path / "sms" / "outbox").glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["status"] == "queued"
    assert not (tmp_path / "sms" / "sent").exists()


def test_duplicate_numbers_are_sent_once(tmp_path):
    app = SmsOutbox(tmp_path / "sms", clock=lambda: NOW)
    app.send_sms(["312-555-0166", "(312) 555-0166", "+44 20 7946 0958"], "hi")
    assert app.records()[0].to == ["312-555-0166", "+44 20 7946 0958"]


def test_duplicates_are_read_in_the_configured_phone_region(tmp_path):
    # "020 7946 0958" is the London number +44 20 7946 0958 only when national numbers are British.
    numbers = ["020 7946 0958", "+44 20 7946 0958"]
    british = SmsOutbox(tmp_path / "gb", clock=lambda: NOW, phone_region="GB")
    british.send_sms(numbers, "hi")
    assert british.records()[0].to == ["020 7946 0958"]
    american = SmsOutbox(tmp_path / "us", clock=lambda: NOW)
    american.send_sms(numbers, "hi")
    assert american.records()[0].to == numbers


@pytest.mark.parametrize(
    ("recipients", "message", "error"),
    [
        (["Sid"], "hi", "'Sid' is not a phone number; look the person up with get_phone_number first"),
        ([], "hi", "at least one recipient phone number"),
        (["555-01"], "", "the text message is empty"),
        (["12"], "hi", "not a valid phone number"),
        (["+1 555 abc 0100"], "hi", "not a valid phone number"),
        (["555-0100"], "x" * 5001, "too long"),
    ],
)
def test_bad_input_is_clear_and_nothing_is_written(tmp_path, recipients, message, error):
    app = SmsOutbox(tmp_path / "sms")
    with pytest.raises(ToolError, match=error):
        app.send_sms(recipients, message)
    assert app.records() == []


def test_send_without_a_provider_still_queues(tmp_path):
    app = SmsOutbox(tmp_path / "sms", send=True)
    assert "no SMS provider is configured" in app.send_sms(["555-0100"], "hi")
    assert len(app.records("outbox")) == 1


def test_kdeconnect_command_shape():
    cli = KdeConnectSms(device_id="dev1")
    message = 'brunch moved to 11; $(rm -rf ~) "quoted"'
    assert cli.build_command("+1 555 0100", message, "dev1") == [
        "kdeconnect-cli", "--send-sms", message, "--destination", "+1 555 0100", "-d", "dev1",
    ]  # fmt: skip


def test_kdeconnect_sends_one_command_per_number(tmp_path, fake_kdeconnect):
    app = SmsOutbox(tmp_path / "sms", sender=KdeConnectSms(), send=True, clock=lambda: NOW)
    message = "Brunch moved to 11 — see you there! $(touch pwned) `id`"
    result = app.send_sms(["+90 555 010 0001", "+90 555 010 0002"], message)
    assert result.startswith("Text sent via KDE Connect to +90 555 010 0001, +90 555 010 0002")
    assert calls(fake_kdeconnect) == [
        ["--list-available", "--id-only"],
        ["--send-sms", message, "--destination", "+90 555 010 0001", "-d", "a1b2c3d4e5f6"],
        ["--send-sms", message, "--destination", "+90 555 010 0002", "-d", "a1b2c3d4e5f6"],
    ]
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    (record,) = app.records("sent")
    assert record.status == "sent" and record.provider == "KDE Connect"
    assert app.records("outbox") == []


def test_failed_send_keeps_the_text_in_the_outbox(tmp_path, fake_kdeconnect):
    app = SmsOutbox(tmp_path / "sms", sender=KdeConnectSms(device_id="d"), send=True)
    with pytest.raises(ToolError, match="device rejected the message.*the text was kept in the SMS outbox"):
        app.send_sms(["555-0000"], "hi")
    assert [r.status for r in app.records("outbox")] == ["queued"]


def test_kdeconnect_configured_device_skips_discovery(tmp_path, fake_kdeconnect):
    KdeConnectSms(device_id="phone-42").send(["555-0100"], "hi")
    assert calls(fake_kdeconnect) == [["--send-sms", "hi", "--destination", "555-0100", "-d", "phone-42"]]


def test_kdeconnect_failures_are_clear(tmp_path, fake_kdeconnect, monkeypatch):
    with pytest.raises(
        ToolError, match=r"could not send the SMS to 555-0000: error: the device rejected .*sent to the other 1"
    ):
        KdeConnectSms(device_id="d").send(["555-0000", "555-0100"], "hi")
    monkeypatch.setenv("FAKE_KDE_DEVICES", "")
    with pytest.raises(ToolError, match="no paired KDE Connect device is reachable"):
        KdeConnectSms().send(["555-0100"], "hi")
    monkeypatch.setenv("FAKE_KDE_DEVICES", "one\ntwo")
    with pytest.raises(ToolError, match=r"several KDE Connect devices are reachable \(one, two\)"):
        KdeConnectSms().send(["555-0100"], "hi")


def test_kdeconnect_missing_program(tmp_path):
    with pytest.raises(ToolError, match="'no-such-kdeconnect-cli' was not found; install KDE Connect"):
        KdeConnectSms(executable="no-such-kdeconnect-cli").send(["555-0100"], "hi")
