"""Date rules (dates.py) and the iCalendar event/reminder stores on real .ics files."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketagent.backends.dates import (
    DateFormatError,
    DateRangeError,
    DateRules,
    PastDateError,
    event_end,
    parse_optional_tool_datetime,
    parse_tool_datetime,
    resolve_timezone,
    system_timezone,
)
from pocketagent.backends.local.calendar import (
    CalendarFileError,
    LocalCalendar,
    LocalReminders,
    parse_invitees,
    parse_priority,
)
from pocketagent.errors import ConfigError, ToolError, UserFileError

NOW = datetime(2026, 11, 23, 10, 0, 0)  # a Monday, as in the eval sets
BERLIN = ZoneInfo("Europe/Berlin")


def rules(policy: str = "reject", zone: str = "Europe/Berlin") -> DateRules:
    return DateRules.from_names(zone, policy, lambda: NOW)


@pytest.fixture
def calendar(tmp_path: Path) -> LocalCalendar:
    return LocalCalendar(tmp_path, rules())


@pytest.fixture
def reminders(tmp_path: Path) -> LocalReminders:
    return LocalReminders(tmp_path, rules())


def read(path: Path) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------
# dates.py


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    )
)
def test_plan_format_round_trips(value: datetime) -> None:
    assert parse_tool_datetime(value.strftime("%Y-%m-%d %H:%M:%S"), "start_date") == value


@given(st.text(max_size=40))
def test_any_text_parses_or_gives_a_clear_date_error(text: str) -> None:
    try:
        parse_tool_datetime(text, "start_date")
    except DateFormatError as exc:
        assert "start_date" in str(exc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27 15:00:00", datetime(2026, 11, 27, 15)),
        ("2026-11-27 15:00", datetime(2026, 11, 27, 15)),
        ("2026-11-27T15:00:00", datetime(2026, 11, 27, 15)),
        (" 2026-11-27 ", datetime(2026, 11, 27)),
    ],
)
def test_accepted_date_forms(text: str, expected: datetime) -> None:
    assert parse_tool_datetime(text, "d") == expected


@pytest.mark.parametrize(
    "text",
    ["next friday", "27/11/2026 15:00", "2026-02-30 10:00:00", "2026-11-27 25:00:00", "", "2026-11-27 15:00:00 PST"],
)
def test_malformed_dates_are_clear_errors(text: str) -> None:
    with pytest.raises(DateFormatError, match=r"start_date .*(expected 'YYYY-MM-DD HH:MM:SS')"):
        parse_tool_datetime(text, "start_date")


def test_non_string_date_is_a_clear_error() -> None:
    with pytest.raises(DateFormatError, match="must be a date string"):
        parse_tool_datetime(20261127, "start_date")
    assert parse_optional_tool_datetime("", "due_date") is None and parse_optional_tool_datetime(None, "due_date") is None


def test_event_end_defaults_and_ordering() -> None:
    start = datetime(2026, 11, 27, 15)
    assert event_end(start, "") == start + timedelta(minutes=60)
    assert event_end(start, "2026-11-27 15:30:00") == datetime(2026, 11, 27, 15, 30)
    with pytest.raises(DateRangeError, match="end_date 2026-11-27 14:00:00 is before start_date 2026-11-27 15:00:00"):
        event_end(start, "2026-11-27 14:00:00")
    with pytest.raises(DateRangeError, match="equals start_date"):
        event_end(start, "2026-11-27 15:00:00")


def test_past_date_policies() -> None:
    yesterday = NOW - timedelta(days=1)
    past = r"due_date 2026-11-22 10:00:00 is in the past \(now is 2026-11-23 10:00:00\)"
    with pytest.raises(PastDateError, match=past):
        rules("reject").check_not_past(yesterday, "due_date")
    assert "in the past" in rules("warn").check_not_past(yesterday, "due_date")
    assert rules("allow").check_not_past(yesterday, "due_date") is None
    # Earlier today counts as past for a timed item, not for an all-day one; this minute is not past.
    assert rules("reject").check_not_past(NOW.replace(hour=0), "due_date", all_day=True) is None
    assert rules("reject").check_not_past(NOW + timedelta(seconds=30), "due_date") is None
    with pytest.raises(ConfigError, match="past date policy"):
        DateRules(BERLIN, "sometimes")  # type: ignore[arg-type]


def test_time_zone_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_timezone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        resolve_timezone("Mars/Olympus")
    monkeypatch.setenv("TZ", "America/Lima")
    assert system_timezone() == ZoneInfo("America/Lima")
    assert resolve_timezone(None) == ZoneInfo("America/Lima")


def test_aware_clock_is_converted_to_the_rules_zone() -> None:
    aware = DateRules(BERLIN, "reject", lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert aware.now() == datetime(2026, 11, 23, 10, 0)


# ---------------------------------------------------------------------------------------
# Events


def test_create_event_writes_a_standard_vevent(calendar: LocalCalendar, tmp_path: Path) -> None:
    result = calendar.create_calendar_event(
        "Budget review",
        "2026-11-27 15:00:00",
        "2026-11-27 16:00:00",
        "Room 4, 2nd floor",
        ["sid@example.com", "Sam Lee <sam@example.org>"],
        "Bring Q3 numbers; and coffee",
        None,
    )
    assert result == (
        "Created event 'Budget review' on Fri 27 Nov 15:00–16:00 in new calendar Calendar, "
        "at Room 4, 2nd floor, inviting sid@example.com, sam@example.org."
    )
    cal = read(tmp_path / "Calendar.ics")
    assert cal["X-WR-CALNAME"] == "Calendar"
    (event,) = cal.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 11, 27, 15, tzinfo=BERLIN)
    assert event.decoded("dtend") == datetime(2026, 11, 27, 16, tzinfo=BERLIN)
    assert str(event["location"]) == "Room 4, 2nd floor"
    assert str(event["description"]) == "Bring Q3 numbers; and coffee"
    attendees = event["attendee"]
    assert [str(a) for a in attendees] == ["mailto:sid@example.com", "mailto:sam@example.org"]
    assert attendees[1].params["CN"] == "Sam Lee" and attendees[1].params["RSVP"] == "TRUE"
    assert [str(z["tzid"]) for z in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert str(event["uid"]).endswith("@pocketagent")
    assert "TZID=Europe/Berlin:20261127T150000" in (tmp_path / "Calendar.ics").read_text()


def test_default_duration_and_summer_time(calendar: LocalCalendar, tmp_path: Path) -> None:
    result = calendar.create_calendar_event("Picnic", "2027-07-01 12:00:00", "", "", [], "", "")
    assert result == "Created event 'Picnic' on Thu 1 Jul 2027 12:00–13:00 in new calendar Calendar."
    (event,) = read(tmp_path / "Calendar.ics").walk("VEVENT")
    assert event.decoded("dtstart").utcoffset() == timedelta(hours=2)  # CEST
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=1)


def test_zone_without_a_name_is_stored_in_utc(tmp_path: Path) -> None:
    fixed = DateRules(timezone(timedelta(hours=-5)), "reject", lambda: NOW)
    LocalCalendar(tmp_path, fixed).create_calendar_event("Call", "2026-11-27 09:00:00", "", "", [], "", None)
    (event,) = read(tmp_path / "Calendar.ics").walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 11, 27, 14, tzinfo=UTC)
    assert "DTSTART:20261127T140000Z" in (tmp_path / "Calendar.ics").read_text()


def test_midnight_to_midnight_is_an_all_day_event(calendar: LocalCalendar, tmp_path: Path) -> None:
    result = calendar.create_calendar_event("Offsite", "2026-12-08 00:00:00", "2026-12-10 00:00:00", "", [], "", "Work")
    assert result == "Created event 'Offsite' on Tue 8 Dec – Wed 9 Dec (all day) in new calendar Work."
    (event,) = read(tmp_path / "Work.ics").walk("VEVENT")
    assert event.decoded("dtstart") == date(2026, 12, 8) and event.decoded("dtend") == date(2026, 12, 10)


def test_calendar_names_match_existing_files(calendar: LocalCalendar, tmp_path: Path) -> None:
    calendar.create_calendar_event("a", "2026-11-24 10:00:00", "", "", [], "", "Work")
    for spelling in ("work", "WORK", "Wrok", " Work "):
        assert "in calendar Work." in calendar.create_calendar_event(
            "b", "2026-11-24 11:00:00", "", "", [], "", spelling
        )
    assert "in new calendar Family." in calendar.create_calendar_event(
        "c", "2026-11-24 12:00:00", "", "", [], "", "Family"
    )
    assert sorted(p.name for p in tmp_path.glob("*.ics")) == ["Family.ics", "Work.ics"]
    assert len(calendar.events("Work")) == 5 and len(calendar.events()) == 6


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("", "2026-11-27 15:00:00", "", "", [], "", None), ToolError, "title must be a non-empty string"),
        (("x", "friday 3pm", "", "", [], "", None), DateFormatError, "start_date 'friday 3pm' is not a valid date"),
        (("x", "2026-11-27 15:00:00", "2026-11-27 14:00:00", "", [], "", None), DateRangeError, "is before start_date"),
        (
            ("x", "2026-11-20 15:00:00", "", "", [], "", None),
            PastDateError,
            "start_date 2026-11-20 15:00:00 is in the past",
        ),
        (
            ("x", "2026-11-27 15:00:00", "", "", ["Sid"], "", None),
            ToolError,
            "invitee 'Sid' is not an email address; look the person up with get_email_address first",
        ),
        (("x", "2026-11-27 15:00:00", "", "", "not-a-list", "", None), ToolError, "not an email address"),
        (("x", "2026-11-27 15:00:00", "", "", [3], "", None), ToolError, "invitees must be email addresses"),
        (("x", "2026-11-27 15:00:00", "", 7, [], "", None), ToolError, "location must be a string"),
        (("x", "2026-11-27 15:00:00", "", "", [], "", "../../etc/passwd"), ToolError, "cannot be used"),
        (("x", "2026-11-27 15:00:00", "", "", [], "", ".hidden"), ToolError, "cannot be used"),
        (("x", "2026-11-27 15:00:00", "", "", [], "", 5), ToolError, "calendar must be a name or None"),
    ],
)
def test_bad_event_input_is_a_clear_error_and_writes_nothing(
    calendar: LocalCalendar, tmp_path: Path, args: tuple, error: type, message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        calendar.create_calendar_event(*args)
    assert list(tmp_path.glob("*.ics")) == []


def test_invitee_parsing() -> None:
    assert parse_invitees(["a@example.com, B <b@example.com>", "mailto:c@example.com", "A@example.com"]) == [
        ("", "a@example.com"),
        ("B", "b@example.com"),
        ("", "c@example.com"),
    ]
    assert parse_invitees([]) == [] and parse_invitees(None) == []


def test_past_event_with_warn_policy_is_created_with_a_note(tmp_path: Path) -> None:
    result = LocalCalendar(tmp_path, rules("warn")).create_calendar_event(
        "Retro", "2026-11-20 15:00:00", "", "", [], "", None
    )
    assert result.startswith("Created event 'Retro' on Fri 20 Nov 15:00–16:00")
    assert result.endswith("Note: start_date 2026-11-20 15:00:00 is in the past (now is 2026-11-23 10:00:00).")


def test_user_file_is_kept_byte_for_byte(calendar: LocalCalendar, tmp_path: Path) -> None:
    original = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Someone//Their App//EN\nX-CUSTOM:keep me\n"
        "BEGIN:VEVENT\nUID:mine-1\nDTSTAMP:20260101T000000Z\nDTSTART;VALUE=DATE:20261224\n"
        "SUMMARY:Christmas Eve\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    (tmp_path / "Calendar.ics").write_text(original)
    calendar.create_calendar_event("Budget review", "2026-11-27 15:00:00", "", "", [], "", None)
    calendar.create_calendar_event("Second", "2026-11-28 15:00:00", "", "", [], "", None)
    text = (tmp_path / "Calendar.ics").read_text()
    assert text.startswith(original[: original.index("END:VCALENDAR")])
    assert text.rstrip().endswith("END:VCALENDAR")
    assert text.count("BEGIN:VTIMEZONE") == 1  # added once, reused by the second event
    assert [str(e["summary"]) for e in read(tmp_path / "Calendar.ics").walk("VEVENT")] == [
        "Christmas Eve",
        "Budget review",
        "Second",
    ]


@pytest.mark.parametrize("content", ["this is not a calendar\n", "BEGIN:VCALENDAR\nVERSION:2.0\n"])
def test_unparseable_calendar_file_is_left_alone(calendar: LocalCalendar, tmp_path: Path, content: str) -> None:
    (tmp_path / "Calendar.ics").write_text(content)
    with pytest.raises(CalendarFileError, match=r"Calendar.ics .*fix or move it \(left unchanged\)"):
        calendar.create_calendar_event("x", "2026-11-27 15:00:00", "", "", [], "", None)
    assert (tmp_path / "Calendar.ics").read_text() == content


# A small user calendar (12 lines) with accents, as another app would have written it.
USER_ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other app//EN\r\n"
    "BEGIN:VEVENT\r\nUID:1@other\r\nDTSTAMP:20261101T090000Z\r\n"
    "DTSTART:20261125T090000Z\r\nDTEND:20261125T100000Z\r\n"
    "SUMMARY:Réunion\r\nLOCATION:Salle Été\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_calendar_that_is_not_utf8_is_refused_and_left_unchanged(calendar: LocalCalendar, tmp_path: Path) -> None:
    """Issue 11: one stray cp1252 byte used to make the whole file be rewritten as 'RÃ©union'."""
    mixed = USER_ICS.encode("utf-8").replace("Été".encode(), "Été".encode("cp1252"))
    path = tmp_path / "Calendar.ics"
    path.write_bytes(mixed)
    message = r"Calendar\.ics is not valid UTF-8 \(byte 0xC9 on line 10\).*\(left unchanged\)"
    with pytest.raises(CalendarFileError, match=message):
        calendar.create_calendar_event("Sync", "2026-11-27 15:00:00", "", "", [], "", None)
    assert path.read_bytes() == mixed
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".ics" or p.name.endswith(".tmp")] == ["Calendar.ics"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            USER_ICS.replace("END:VEVENT\r\n", ""),
            "BEGIN:VEVENT on line 4 has no END:VEVENT (END:VCALENDAR on line 11 comes first)",
        ),
        (USER_ICS.replace("END:VEVENT\r\nEND:VCALENDAR\r\n", ""), "BEGIN:VEVENT on line 4 has no END:VEVENT"),
        (USER_ICS.replace("END:VEVENT", "END:VTODO"), "END:VTODO on line 11 does not close BEGIN:VEVENT from line 4"),
        (
            USER_ICS + "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Lost\r\nEND:VEVENT\r\n",
            "BEGIN:VCALENDAR on line 13 has no END:VCALENDAR",
        ),
        ("BEGIN:VEVENT\r\nSUMMARY:Loose\r\nEND:VEVENT\r\n", "BEGIN:VEVENT on line 1 is outside any VCALENDAR"),
    ],
    ids=["unclosed-vevent", "truncated", "mismatched-end", "unclosed-second-vcalendar", "no-vcalendar"],
)
@pytest.mark.parametrize("tool", ["event", "reminder"])
def test_incomplete_calendar_is_never_rewritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str, problem: str, tool: str
) -> None:
    """Issue 11: an unterminated VEVENT parsed as empty, the write went ahead and the file stayed unreadable."""
    calendar, reminders = LocalCalendar(tmp_path, rules()), LocalReminders(tmp_path, rules())
    calendar.create_calendar_event("Standup", "2026-11-24 09:00:00", "", "", [], "", "Work")
    name = "Calendar" if tool == "event" else "Reminders"
    path = tmp_path / f"{name}.ics"
    path.write_bytes(content.encode("utf-8"))
    message = rf"{name}\.ics is not complete iCalendar: {re.escape(problem)}; fix or move it \(left unchanged\)"
    with pytest.raises(CalendarFileError, match=message) as caught:
        if tool == "event":
            calendar.create_calendar_event("Sync", "2026-11-27 15:00:00", "", "", [], "", None)
        else:
            reminders.create_reminder("Call back", "", "", "", 0, False)
    assert isinstance(caught.value, UserFileError)
    assert path.read_bytes() == content.encode("utf-8")
    # Reading: the named file is a clear error; listing every calendar skips it with a warning.
    with pytest.raises(CalendarFileError, match=message):
        calendar.store.components("VEVENT", name)
    assert [str(e["summary"]) for e in calendar.events()] == ["Standup"]
    assert f"skipping calendar {name}: " in caplog.text and problem in caplog.text


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_adding_keeps_a_valid_utf8_calendar_byte_for_byte(calendar: LocalCalendar, tmp_path: Path, bom: bytes) -> None:
    original = bom + USER_ICS.encode("utf-8")
    path = tmp_path / "Calendar.ics"
    path.write_bytes(original)
    calendar.create_calendar_event("Budget review", "2026-11-27 15:00:00", "", "", [], "", None)
    updated = path.read_bytes()
    cut = original.rindex(b"END:VCALENDAR")
    assert updated.startswith(original[:cut]) and updated.endswith(original[cut:])
    assert b"\xc3\x83" not in updated  # no 'Ã': nothing was decoded as cp1252 and re-encoded
    events = {str(e["summary"]): e for e in calendar.events("Calendar")}
    assert list(events) == ["Réunion", "Budget review"]
    assert str(events["Réunion"]["location"]) == "Salle Été"


# ---------------------------------------------------------------------------------------
# Reminders


def test_timed_reminder_with_priority_and_alarm(reminders: LocalReminders, tmp_path: Path) -> None:
    result = reminders.create_reminder("Draft our response", "2026-11-27 14:00:00", "RFP due Monday", "", 1, False)
    assert result == (
        "Created reminder 'Draft our response' due Fri 27 Nov 14:00 in new list Reminders, priority high."
    )
    (todo,) = read(tmp_path / "Reminders.ics").walk("VTODO")
    assert todo.decoded("due") == datetime(2026, 11, 27, 14, tzinfo=BERLIN)
    assert int(todo["priority"]) == 1 and str(todo["status"]) == "NEEDS-ACTION"
    assert str(todo["description"]) == "RFP due Monday"
    (alarm,) = todo.walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(0) and alarm["trigger"].params["RELATED"] == "END"


def test_all_day_reminder_in_a_named_list(reminders: LocalReminders, tmp_path: Path) -> None:
    result = reminders.create_reminder("Pay the water bill", "2026-12-01 00:00:00", "", "Bills", 0, True)
    assert result == "Created reminder 'Pay the water bill' due Tue 1 Dec (all day) in new list Bills."
    (todo,) = read(tmp_path / "Bills.ics").walk("VTODO")
    assert todo.decoded("due") == date(2026, 12, 1)
    assert "DUE;VALUE=DATE:20261201" in (tmp_path / "Bills.ics").read_text()
    assert "priority" not in todo and not todo.walk("VALARM")


def test_reminder_without_due_date(reminders: LocalReminders) -> None:
    assert reminders.create_reminder("Call the landlord", "", "", "", 9, False) == (
        "Created reminder 'Call the landlord' with no due date in new list Reminders, priority low."
    )
    assert reminders.create_reminder("Buy stamps", "", "", "reminders", 5, False) == (
        "Created reminder 'Buy stamps' with no due date in list Reminders, priority medium."
    )
    assert [str(t["summary"]) for t in reminders.reminders()] == ["Call the landlord", "Buy stamps"]


def test_all_day_today_is_not_in_the_past(reminders: LocalReminders) -> None:
    assert "due Mon 23 Nov (all day)" in reminders.create_reminder("Today", "2026-11-23 00:00:00", "", "", 0, True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "", "", "", 0, False), "name must be a non-empty string"),
        (("x", "tomorrow", "", "", 0, False), "due_date 'tomorrow' is not a valid date"),
        (("x", "2026-11-22 09:00:00", "", "", 0, False), "due_date 2026-11-22 09:00:00 is in the past"),
        (("x", "2026-11-22 00:00:00", "", "", 0, True), "due_date 2026-11-22 is in the past"),
        (("x", "", "", "", 0, True), "an all-day reminder needs a due_date"),
        (("x", "", "", "", 10, False), "priority must be a number 0-9"),
        (("x", "", "", "", -1, False), "priority must be a number 0-9"),
        (("x", "", "", "", True, False), "priority must be a number 0-9"),
        (("x", "", "", "", "urgent", False), "priority must be a number 0-9"),
        (("x", "", "", "", 0, "yes"), "all_day must be True or False"),
        (("x", "", "", "a/b", 0, False), "list name 'a/b' cannot be used"),
    ],
)
def test_bad_reminder_input_is_a_clear_error(
    reminders: LocalReminders, tmp_path: Path, args: tuple, message: str
) -> None:
    with pytest.raises(ToolError, match=message):
        reminders.create_reminder(*args)
    assert list(tmp_path.glob("*.ics")) == []


def test_priority_words_and_digits() -> None:
    assert [parse_priority(v) for v in (0, 1, 5, 9, "high", "Medium", "low", "none", "3", None)] == [
        0,
        1,
        5,
        9,
        1,
        5,
        9,
        0,
        3,
        0,
    ]


def test_unusable_calendar_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "calendars"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(CalendarFileError, match=r"cannot write .*calendars/Calendar.ics"):
        LocalCalendar(blocker, rules()).create_calendar_event("x", "2026-11-27 15:00:00", "", "", [], "", None)
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "Reminders.ics").mkdir()  # a directory with a calendar's name
    with pytest.raises(ToolError, match=r"cannot read .*Reminders.ics"):
        LocalReminders(tmp_path / "ok", rules()).reminders("Reminders")


def test_demo_calendars_parse_and_sit_around_now(tmp_path: Path) -> None:
    from pocketagent.backends.demo_contacts import write_demo_personal_data

    write_demo_personal_data(tmp_path, NOW, rules())
    calendar = LocalCalendar(tmp_path / "calendars", rules())
    starts = {str(e["summary"]): e.decoded("dtstart") for e in calendar.events()}
    assert starts["Dentist"] == datetime(2026, 11, 26, 16, tzinfo=BERLIN)
    assert starts["Abuela Rosa's birthday"] == date(2026, 11, 28)
    assert set(calendar.store.names()) == {"Calendar", "Work", "Family", "Personal", "Reminders", "Bills"}
    todos = {str(t["summary"]): t for t in LocalReminders(tmp_path / "calendars", rules()).reminders()}
    assert todos["Pay the electricity bill"].decoded("due") == date(2026, 11, 30)
    # New events go next to the demo ones without disturbing them.
    assert "in calendar Work." in calendar.create_calendar_event("Sync", "2026-11-24 11:00:00", "", "", [], "", "work")
    assert len(calendar.events("Work")) == 5


def test_builtin_tools_drive_the_local_stores(tmp_path: Path) -> None:
    """The 16-tool registry's functions call these classes with the contract's positional arguments."""
    from pocketagent.backends.demo_contacts import write_demo_personal_data
    from pocketagent.backends.local.contacts import LocalContacts
    from pocketagent.backends.local.notes import LocalNotes
    from pocketagent.tools.apps import Apps
    from pocketagent.tools.builtin import builtin_registry
    from pocketagent.tools.registry import ToolContext

    write_demo_personal_data(tmp_path, NOW, rules())
    apps = Apps(
        contacts=LocalContacts(tmp_path / "contacts"),
        calendar=LocalCalendar(tmp_path / "calendars", rules()),
        reminders=LocalReminders(tmp_path / "calendars", rules()),
        notes=LocalNotes(tmp_path / "notes"),
    )
    ctx = ToolContext(apps=apps)
    registry = builtin_registry()

    def call(name: str, *args: object) -> str:
        tool = registry.get(name)
        tool.validate(args)
        return tool.func(ctx, *args)

    email = call("get_email_address", "Teodora")
    assert email == "teodora@example.com"
    assert call("get_phone_number", "Tío Manuel") == "+1-415-555-0104"
    assert call(
        "create_calendar_event", "Design review", "2026-11-25 10:00:00", "2026-11-25 11:00:00", "", [email], "", None
    ) == ("Created event 'Design review' on Wed 25 Nov 10:00–11:00 in calendar Calendar, inviting teodora@example.com.")
    assert call("create_reminder", "Pay the water bill", "2026-12-01 00:00:00", "", "Bills", 0, True) == (
        "Created reminder 'Pay the water bill' due Tue 1 Dec (all day) in list Bills."
    )
    assert call("create_note", "Parking spot", "level P3, row G", "Notes") == (
        "Created note 'Parking spot' in folder Notes."
    )
    assert call("append_note_content", "Home", "call plumber re: water heater", "Household") == (
        "Appended to note 'Home' in folder Household."
    )
    assert call("open_note", "Home", "").endswith("call plumber re: water heater\n")
