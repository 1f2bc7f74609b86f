"""CalDAV events/reminders and CardDAV contacts against a real Radicale server on loopback."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import caldav
import httpx
import icalendar
import pytest

from pocketagent.backends.caldav_apps import (
    CalDAVCalendar,
    CalDAVReminders,
    CardDAVContacts,
    ServerAuthError,
    ServerProtocolError,
    ServerUnreachableError,
)
from pocketagent.backends.dates import DateRules
from pocketagent.backends.local.contacts import Contact
from pocketagent.backends.local.matching import AmbiguousMatchError, NoMatchError
from pocketagent.errors import ToolError

pytestmark = pytest.mark.server

NOW = datetime(2026, 11, 23, 10, 0, 0)
BERLIN = ZoneInfo("Europe/Berlin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory, start_radicale) -> Iterator[str]:
    """An open Radicale (auth none: any username works, each test uses its own)."""
    with start_radicale(tmp_path_factory.mktemp("radicale"), "--auth-type", "none") as url:
        yield url


@pytest.fixture(scope="module")
def radicale_with_auth(tmp_path_factory: pytest.TempPathFactory, start_radicale) -> Iterator[str]:
    root = tmp_path_factory.mktemp("radicale_auth")
    (root / "users").write_text("alice:correct-horse\n")
    auth = (
        "--auth-type",
        "htpasswd",
        "--auth-htpasswd-filename",
        str(root / "users"),
        "--auth-htpasswd-encryption",
        "plain",
    )
    with start_radicale(root, *auth) as url:
        yield url


@pytest.fixture
def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def rules() -> DateRules:
    return DateRules.from_names("Europe/Berlin", "reject", lambda: NOW)


def _server_calendars(url: str, user: str) -> dict[str, caldav.Calendar]:
    """An independent client's view of the account: display name -> calendar."""
    principal = caldav.DAVClient(url=url, username=user, password="x", timeout=10).principal()
    return {cal.get_display_name(): cal for cal in principal.calendars()}


def _components(cal: caldav.Calendar, kind: str) -> list[icalendar.cal.Component]:
    objects = cal.todos(include_completed=True) if kind == "VTODO" else cal.events()
    return [c for obj in objects for c in icalendar.Calendar.from_ical(obj.data).walk(kind)]


# ---------------------------------------------------------------------------------------
# CalDAV


def test_events_are_created_on_the_server(radicale: str, user: str, rules: DateRules) -> None:
    calendar = CalDAVCalendar(radicale, user, "x", rules)
    assert calendar.create_calendar_event(
        "Budget review", "2026-11-27 15:00:00", "", "Room 4", ["sid@example.com"], "Q3 numbers", None
    ) == (
        "Created event 'Budget review' on Fri 27 Nov 15:00–16:00 in new calendar Calendar, at Room 4, "
        "inviting sid@example.com."
    )
    assert calendar.create_calendar_event("Yoga", "2026-11-25 07:00:00", "", "CorePower", [], "", "Personal") == (
        "Created event 'Yoga' on Wed 25 Nov 07:00–08:00 in new calendar Personal, at CorePower."
    )
    assert "in calendar Personal." in calendar.create_calendar_event(
        "Yoga again", "2026-12-02 07:00:00", "", "", [], "", "personal"
    )

    on_server = _server_calendars(radicale, user)
    assert sorted(on_server) == ["Calendar", "Personal"]
    (event,) = _components(on_server["Calendar"], "VEVENT")
    assert str(event["summary"]) == "Budget review"
    assert event.decoded("dtstart") == datetime(2026, 11, 27, 15, tzinfo=BERLIN)
    assert event.decoded("dtend") == datetime(2026, 11, 27, 16, tzinfo=BERLIN)
    assert str(event["attendee"]) == "mailto:sid@example.com"
    assert (str(event["location"]), str(event["description"])) == ("Room 4", "Q3 numbers")
    assert sorted(str(e["summary"]) for e in _components(on_server["Personal"], "VEVENT")) == ["Yoga", "Yoga again"]
    assert sorted(str(e["summary"]) for e in calendar.events()) == ["Budget review", "Yoga", "Yoga again"]


def test_reminders_are_created_as_todos(radicale: str, user: str, rules: DateRules) -> None:
    reminders = CalDAVReminders(radicale, user, "x", rules)
    assert reminders.create_reminder("Pay the water bill", "2026-12-01 00:00:00", "", "Bills", 0, True) == (
        "Created reminder 'Pay the water bill' due Tue 1 Dec (all day) in new list Bills."
    )
    assert reminders.create_reminder("Draft our response", "2026-11-27 14:00:00", "RFP", "", 1, False) == (
        "Created reminder 'Draft our response' due Fri 27 Nov 14:00 in new list Reminders, priority high."
    )
    on_server = _server_calendars(radicale, user)
    (bill,) = _components(on_server["Bills"], "VTODO")
    assert bill.decoded("due") == date(2026, 12, 1)
    (draft,) = _components(on_server["Reminders"], "VTODO")
    assert draft.decoded("due") == datetime(2026, 11, 27, 14, tzinfo=BERLIN)
    assert int(draft["priority"]) == 1 and str(draft["description"]) == "RFP"
    assert sorted(str(t["summary"]) for t in reminders.reminders()) == ["Draft our response", "Pay the water bill"]


def test_bad_input_fails_before_touching_the_server(radicale: str, user: str, rules: DateRules) -> None:
    calendar = CalDAVCalendar(radicale, user, "x", rules)
    with pytest.raises(ToolError, match="is before start_date"):
        calendar.create_calendar_event("x", "2026-11-27 15:00:00", "2026-11-27 14:00:00", "", [], "", None)
    with pytest.raises(ToolError, match="is in the past"):
        CalDAVReminders(radicale, user, "x", rules).create_reminder("x", "2020-01-01 10:00:00", "", "", 0, False)
    assert _server_calendars(radicale, user) == {}


# ---------------------------------------------------------------------------------------
# CardDAV


def test_contacts_round_trip_through_the_server(radicale: str, user: str) -> None:
    book = CardDAVContacts(radicale, user, "x")
    assert book.contacts() == []
    book.add_contact(Contact("Eren Erdoğan", "Eren", "Erdoğan", (), ("eren@example.com",), ("+1-415-555-0101",)))
    book.add_contact(Contact("Manuel Ortega", "Manuel", "Ortega", ("Tío Manuel",), ("manuel@example.com",)))
    fresh = CardDAVContacts(radicale, user, "x")  # nothing cached: everything comes from the server
    assert fresh.get_email_address("Eren Erdogan") == "eren@example.com"
    assert fresh.get_phone_number("eren") == "+1-415-555-0101"
    assert fresh.get_email_address("tio manuel") == "manuel@example.com"
    assert [name for name, _ in fresh.addressbooks()] == ["Contacts"]
    with pytest.raises(NoMatchError, match="no contact matches 'Zzyzx'"):
        fresh.get_email_address("Zzyzx")


def test_cards_written_by_other_clients_are_seen(radicale: str, user: str) -> None:
    book = CardDAVContacts(radicale, user, "x")
    book.add_contact(Contact("Sam Lee", emails=("sam.lee@example.com",)))
    assert book.get_email_address("Sam") == "sam.lee@example.com"
    (_, address_book_url) = book.addressbooks()[0]
    vcard3 = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ortiz-1\r\nFN:Sam Ortiz\r\nN:Ortiz;Sam;;;\r\n"
        "EMAIL;TYPE=pref:sam.ortiz@example.org\r\nEND:VCARD\r\n"
    )
    put = httpx.put(
        f"{address_book_url}ortiz-1.vcf",
        content=vcard3.encode(),
        auth=(user, "x"),
        headers={"Content-Type": "text/vcard"},
    )
    assert put.status_code in (201, 204)
    with pytest.raises(AmbiguousMatchError, match="2 contacts match 'Sam': Sam Lee, Sam Ortiz — say which"):
        book.get_email_address("Sam")
    assert book.get_email_address("Sam Ortiz") == "sam.ortiz@example.org"
    assert httpx.delete(f"{address_book_url}ortiz-1.vcf", auth=(user, "x")).status_code in (200, 204)
    assert book.get_email_address("Sam") == "sam.lee@example.com"


def test_named_address_book(radicale: str, user: str) -> None:
    CardDAVContacts(radicale, user, "x").add_contact(Contact("Björn Lindqvist", emails=("bjorn@example.org",)))
    assert CardDAVContacts(radicale, user, "x", addressbook="contacts").get_email_address("bjorn") == (
        "bjorn@example.org"
    )
    with pytest.raises(ToolError, match=r"no address book called 'Work' .*\(found: Contacts\)"):
        CardDAVContacts(radicale, user, "x", addressbook="Work").get_email_address("bjorn")


# ---------------------------------------------------------------------------------------
# Failures


def _unused_url() -> str:
    return f"http://127.0.0.1:{_free_port()}/"  # nothing listens there once the probe socket closed


def test_unreachable_server_is_a_clear_error(rules: DateRules) -> None:
    url = _unused_url()
    with pytest.raises(
        ServerUnreachableError,
        match=rf"cannot reach the CalDAV server at {url} to log in: "
        "connection refused",
    ):
        CalDAVCalendar(url, "alice", "x", rules).create_calendar_event("x", "2026-11-27 15:00:00", "", "", [], "", None)
    with pytest.raises(ServerUnreachableError, match="cannot reach the CalDAV server"):
        CalDAVReminders(url, "alice", "x", rules).create_reminder("x", "", "", "", 0, False)
    with pytest.raises(ServerUnreachableError, match=rf"cannot reach the CardDAV server at {url} .*connection refused"):
        CardDAVContacts(url, "alice", "x").get_email_address("Sam")


def test_wrong_password_is_a_clear_error(radicale_with_auth: str, rules: DateRules) -> None:
    url = radicale_with_auth
    with pytest.raises(ServerAuthError, match=f"the CalDAV server at {url} refused the username/password"):
        CalDAVCalendar(url, "alice", "wrong", rules).create_calendar_event(
            "x", "2026-11-27 15:00:00", "", "", [], "", None
        )
    with pytest.raises(ServerAuthError, match="refused the username/password"):
        CalDAVReminders(url, "alice", "wrong", rules).create_reminder("x", "", "", "", 0, False)
    refused = rf"the CardDAV server at {url} refused the username/password \(HTTP 401\)"
    with pytest.raises(ServerAuthError, match=refused):
        CardDAVContacts(url, "alice", "wrong").get_email_address("Sam")
    # The right password works on the same server.
    assert "Created event 'x'" in CalDAVCalendar(url, "alice", "correct-horse", rules).create_calendar_event(
        "x", "2026-11-27 15:00:00", "", "", [], "", None
    )


class _PlainWebsite(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<html>hello</html>")

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_that_is_not_dav_is_a_clear_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PlainWebsite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with pytest.raises(ServerProtocolError, match=r"answered HTTP 501 to PROPFIND"):
            CardDAVContacts(url, "alice", "x").get_email_address("Sam")
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", ["", "ftp://example.com/", "example.com"])
def test_urls_must_be_http(url: str) -> None:
    with pytest.raises(ToolError, match="URL must start with http"):
        CalDAVCalendar(url)
    with pytest.raises(ToolError, match="URL must start with http"):
        CardDAVContacts(url)
