"""Calendar events (VEVENT) and reminders (VTODO) in iCalendar files.

Layout: `$POCKETAGENT_HOME/calendars/<name>.ics`, one calendar or reminder list per file,
named by the file stem. Events go to "Calendar" unless a calendar is named, reminders to
"Reminders" unless a list is named. A named calendar that does not exist yet (after
case-, accent- and typo-tolerant matching against the existing files) is created.

A new item is inserted before the file's last `END:VCALENDAR`, so the rest of a user's
file is kept byte for byte. The file is first checked: it must be UTF-8 and parse
completely (every BEGIN closed by its END); otherwise it is left alone with a clear
`CalendarFileError`. Listing all calendars skips such a file with a logged warning. Writes
are atomic and locked (`pocketagent.atomic`). Times are stored with a TZID (and its VTIMEZONE) or
in UTC; see `dates.py`.

The item builders (`prepare_event`, `prepare_reminder`) are shared with the CalDAV backend.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import icalendar

from pocketagent.atomic import atomic_write_bytes, locked, remove_stale_temp_files
from pocketagent.backends.dates import DateRules, event_end, parse_optional_tool_datetime, parse_tool_datetime
from pocketagent.backends.local.matching import (
    Candidate,
    match_names,
    read_text_any_encoding,
    read_user_file,
    utf8_for_rewrite,
)
from pocketagent.errors import ToolError, UserFileError
from pocketagent.text import looks_like_email, normalize_name
from pocketagent.tools.protocols import CalendarApp, RemindersApp

log = logging.getLogger(__name__)

DEFAULT_CALENDAR = "Calendar"
DEFAULT_REMINDER_LIST = "Reminders"
PRODID = "-//pocketagent//pocketagent//EN"
PRIORITY_WORDS = {"none": 0, "": 0, "high": 1, "medium": 5, "low": 9}


class CalendarFileError(UserFileError):
    """A calendar file that cannot be parsed completely, decoded or written; it is never overwritten."""


@dataclass(frozen=True)
class PreparedItem:
    """A validated VEVENT/VTODO plus the words the tool result uses for it."""

    component: icalendar.cal.Component
    title: str
    when: str
    details: str
    warning: str | None


# ---------------------------------------------------------------------------------------
# Validation and building (shared with CalDAV)


def _required_text(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolError(f"{field_name} must be a non-empty string, got {value!r}")
    return value.strip()


def _optional_text(value: object, field_name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ToolError(f"{field_name} must be a string, got {value!r}")
    return value.strip()


def parse_invitees(invitees: object) -> list[tuple[str, str]]:
    """(display name, address) for each invitee; a bare name is an error that says how to fix it."""
    if invitees is None:
        return []
    items = [invitees] if isinstance(invitees, str) else invitees
    if not isinstance(items, (list, tuple)):
        raise ToolError(f"invitees must be a list of email addresses, got {invitees!r}")
    parsed: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, str):
            raise ToolError(f"invitees must be email addresses, got {item!r}")
        for piece in (p for p in re.split(r"[,;]\s*(?![^<]*>)", item) if p.strip()):
            name, address = parseaddr(piece.strip())
            address = address.removeprefix("mailto:")
            if not looks_like_email(address):
                raise ToolError(
                    f"invitee {piece.strip()!r} is not an email address; "
                    "look the person up with get_email_address first"
                )
            if address.lower() not in {a.lower() for _, a in parsed}:
                parsed.append((name, address))
    return parsed


def parse_priority(value: object) -> int:
    """Apple Reminders / iCalendar priority: 0 none, 1 high … 9 low (words high/medium/low work too)."""
    if isinstance(value, bool):
        raise ToolError(f"priority must be a number 0-9 (0 none, 1 high, 5 medium, 9 low), got {value!r}")
    if value is None:
        return 0
    if isinstance(value, str):
        word = value.strip().lower()
        if word in PRIORITY_WORDS:
            return PRIORITY_WORDS[word]
        if not word.isdigit():
            raise ToolError(f"priority must be a number 0-9 (0 none, 1 high, 5 medium, 9 low), got {value!r}")
        value = int(word)
    if not isinstance(value, int) or not 0 <= value <= 9:
        raise ToolError(f"priority must be a number 0-9 (0 none, 1 high, 5 medium, 9 low), got {value!r}")
    return value


def priority_word(priority: int) -> str:
    return "none" if priority == 0 else "high" if priority < 5 else "medium" if priority == 5 else "low"


def _is_all_day_span(start: datetime, end: datetime) -> bool:
    return start.time() == end.time() == datetime.min.time() and end > start


def _stamp(component: icalendar.cal.Component) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    component.add("uid", f"{uuid.uuid4()}@pocketagent")
    component.add("dtstamp", now)
    component.add("created", now)


def prepare_event(
    title: object,
    start_date: object,
    end_date: object,
    location: object,
    invitees: object,
    notes: object,
    rules: DateRules,
) -> PreparedItem:
    """Validate the tool's arguments and build the VEVENT. Midnight-to-midnight spans are all-day."""
    summary = _required_text(title, "title")
    start = parse_tool_datetime(start_date, "start_date")
    end = event_end(start, end_date)
    place = _optional_text(location, "location")
    description = _optional_text(notes, "notes")
    attendees = parse_invitees(invitees)
    all_day = _is_all_day_span(start, end)
    warning = rules.check_not_past(start, "start_date", all_day=all_day)

    event = icalendar.Event()
    _stamp(event)
    event.add("summary", summary)
    if all_day:
        event.add("dtstart", start.date())
        event.add("dtend", end.date())
        last_day = end.date() - timedelta(days=1)
        when = rules.format_when(start.date(), all_day=True)
        when += "" if last_day == start.date() else f" – {rules.format_when(last_day, all_day=True)}"
        when += " (all day)"
    else:
        event.add("dtstart", rules.to_stored(start))
        event.add("dtend", rules.to_stored(end))
        when = rules.format_span(start, end)
    if place:
        event.add("location", place)
    if description:
        event.add("description", description)
    for name, address in attendees:
        attendee = icalendar.vCalAddress(f"mailto:{address}")
        if name:
            attendee.params["CN"] = name
        attendee.params.update({"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
        event.add("attendee", attendee, encode=False)
    event.add("status", "CONFIRMED")
    details = (f", at {place}" if place else "") + (
        f", inviting {', '.join(a for _, a in attendees)}" if attendees else ""
    )
    return PreparedItem(event, summary, f"on {when}", details, warning)


def prepare_reminder(
    name: object,
    due_date: object,
    notes: object,
    priority: object,
    all_day: object,
    rules: DateRules,
) -> PreparedItem:
    """Validate the tool's arguments and build the VTODO (with a display alarm at a timed due date)."""
    summary = _required_text(name, "name")
    if not isinstance(all_day, bool):
        raise ToolError(f"all_day must be True or False, got {all_day!r}")
    due = parse_optional_tool_datetime(due_date, "due_date")
    level = parse_priority(priority)
    description = _optional_text(notes, "notes")
    if all_day and due is None:
        raise ToolError("an all-day reminder needs a due_date (the day, e.g. '2026-12-01 00:00:00')")
    warning = rules.check_not_past(due, "due_date", all_day=all_day) if due is not None else None

    todo = icalendar.Todo()
    _stamp(todo)
    todo.add("summary", summary)
    todo.add("status", "NEEDS-ACTION")
    if level:
        todo.add("priority", level)
    if description:
        todo.add("description", description)
    if due is None:
        when = "with no due date"
    elif all_day:
        todo.add("due", due.date())
        when = f"due {rules.format_when(due.date(), all_day=True)} (all day)"
    else:
        todo.add("due", rules.to_stored(due))
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", timedelta(0), parameters={"RELATED": "END"})
        todo.add_component(alarm)
        when = f"due {rules.format_when(due)}"
    details = f", priority {priority_word(level)}" if level else ""
    return PreparedItem(todo, summary, when, details, warning)


def result_sentence(kind: str, item: PreparedItem, collection_kind: str, collection: str, created: bool) -> str:
    """`Created event 'X' on Fri 27 Nov 15:00–16:00 in calendar Work, at Room 4.` (+ a past-date note)."""
    new = "new " if created else ""
    text = f"Created {kind} '{item.title}' {item.when} in {new}{collection_kind} {collection}{item.details}."
    return f"{text} {item.warning}" if item.warning else text


# ---------------------------------------------------------------------------------------
# Collections: picking a calendar/list by name


def clean_collection_name(name: str, kind: str) -> str:
    """A calendar/list name usable as a file stem; path tricks and control characters are refused."""
    cleaned = " ".join(name.split())
    if (
        not cleaned
        or cleaned.startswith(".")
        or any(c in cleaned for c in "/\\:")
        or any(ord(c) < 32 for c in cleaned)
        or len(cleaned) > 100
    ):
        raise ToolError(f"{kind} name {name!r} cannot be used; use plain words such as 'Work'")
    return cleaned


def choose_collection(requested: object, existing: list[str], default: str, kind: str) -> tuple[str, bool]:
    """(name, is_new): `requested` matched against `existing` names, else a new one; None/"" → default."""
    if requested is not None and not isinstance(requested, str):
        raise ToolError(f"{kind} must be a name or None, got {requested!r}")
    wanted = (requested or "").strip() or default
    exact = [n for n in existing if normalize_name(n) == normalize_name(wanted)]
    if exact:
        return exact[0], False
    if wanted != default:
        found = match_names(wanted, [Candidate(n, n, (n,)) for n in existing]).matches
        if len(found) == 1:
            return found[0].item, False
    return clean_collection_name(wanted, kind), True


# ---------------------------------------------------------------------------------------
# Local .ics files


_END_VCALENDAR = re.compile(r"^END:VCALENDAR[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_BEGIN_END = re.compile(r"(BEGIN|END)(?:;[^:]*)?:(.*)", re.IGNORECASE | re.DOTALL)


class IcsDirectory:
    """A directory of `.ics` files, one calendar (or reminder list) per file."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        remove_stale_temp_files(self.directory)  # left by a writer killed mid-write

    def names(self) -> list[str]:
        """Calendar names (file stems), sorted."""
        if not self.directory.is_dir():
            return []
        return sorted(
            p.stem
            for p in self.directory.iterdir()
            if p.suffix.lower() == ".ics" and p.is_file() and not p.name.startswith(".")
        )

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.ics"

    def read(self, name: str) -> list[icalendar.Calendar]:
        """The VCALENDAR objects in a file ([] when it does not exist); `CalendarFileError` if unparseable."""
        path = self.path(name)
        if not path.exists():
            return []
        return self._parse(path, read_text_any_encoding(read_user_file(path)))

    def components(self, kind: str, name: str | None = None) -> list[icalendar.cal.Component]:
        """Every VEVENT/VTODO in one file or (name None) in all files.

        A named file that cannot be read is an error; across all files, such a file is
        skipped with a logged warning so one damaged calendar does not hide the others.
        """
        if name is not None:
            return [c for cal in self.read(name) for c in cal.walk(kind)]
        found: list[icalendar.cal.Component] = []
        for each in self.names():
            try:
                calendars = self.read(each)
            except ToolError as exc:
                log.warning("skipping calendar %s: %s", each, exc)
                continue
            found.extend(c for cal in calendars for c in cal.walk(kind))
        return found

    def add(self, name: str, component: icalendar.cal.Component) -> None:
        """Insert `component` into calendar `name` (created when missing), atomically and locked."""
        path = self.path(name)
        try:
            self._add_locked(path, name, component)
        except OSError as exc:
            raise CalendarFileError(f"cannot write {path}: {exc.strerror or exc}") from None

    def _add_locked(self, path: Path, name: str, component: icalendar.cal.Component) -> None:
        with locked(self.directory / ".pocketagent"):
            data = read_user_file(path) if path.exists() else b""
            bom, text = utf8_for_rewrite(data, path, CalendarFileError)
            if not text.strip():
                atomic_write_bytes(path, wrap_in_calendar(name, component).to_ical())
                return
            calendars = self._parse(path, text)
            ends = list(_END_VCALENDAR.finditer(text))
            if not ends:
                raise CalendarFileError(f"{path} has no END:VCALENDAR line; fix or move it (left unchanged)")
            known_zones = {str(tz.get("tzid")) for cal in calendars for tz in cal.walk("VTIMEZONE")}
            insert = _timezones_for(component, known_zones) + component.to_ical().decode("utf-8")
            # Splice bytes, not text: everything around the insertion stays exactly as read.
            cut = bom + len(text[: ends[-1].start()].encode("utf-8"))
            atomic_write_bytes(path, data[:cut] + insert.encode("utf-8") + data[cut:])

    @staticmethod
    def _parse(path: Path, text: str) -> list[icalendar.Calendar]:
        if not text.strip():
            return []
        problem = _structure_problem(text)
        if problem:
            raise CalendarFileError(f"{path} is not complete iCalendar: {problem}; fix or move it (left unchanged)")
        try:
            return list(icalendar.Calendar.from_ical(text, multiple=True))
        except (ValueError, KeyError, IndexError) as exc:
            raise CalendarFileError(f"{path} is not valid iCalendar ({exc}); fix or move it (left unchanged)") from None


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, unfolded content line), unfolding as icalendar does (blank lines skipped)."""
    start = 0
    parts: list[str] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        if line[:1] in (" ", "\t") and parts:
            parts.append(line[1:])
        elif line:
            if parts:
                yield start, "".join(parts)
            start, parts = number, [line]
    if parts:
        yield start, "".join(parts)


def _structure_problem(text: str) -> str | None:
    """What keeps `text` from parsing completely (an unclosed or mismatched BEGIN/END), or None.

    icalendar silently drops a component whose END is missing, so such a file reads as
    empty; an item inserted into it would land inside the unclosed component and the
    whole calendar would stay unreadable. Hence this check before any write.
    """
    opened: list[tuple[str, int]] = []
    calendars = 0
    for number, line in _logical_lines(text):
        match = _BEGIN_END.fullmatch(line)
        if not match:
            continue
        keyword, name = match.group(1).upper(), match.group(2).strip().upper()
        if keyword == "BEGIN":
            if not opened and name != "VCALENDAR":
                return f"BEGIN:{name} on line {number} is outside any VCALENDAR"
            opened.append((name, number))
        elif not opened:
            return f"END:{name} on line {number} has no matching BEGIN:{name}"
        else:
            begun, at = opened.pop()
            if begun != name and any(n == name for n, _ in opened):  # closes an outer one: `begun` is left open
                return f"BEGIN:{begun} on line {at} has no END:{begun} (END:{name} on line {number} comes first)"
            if begun != name:
                return f"END:{name} on line {number} does not close BEGIN:{begun} from line {at}"
            calendars += not opened
    if opened:
        begun, at = opened[-1]  # the innermost: the component whose END is missing
        return f"BEGIN:{begun} on line {at} has no END:{begun}"
    return None if calendars else "it has no BEGIN:VCALENDAR … END:VCALENDAR"


def wrap_in_calendar(name: str, component: icalendar.cal.Component) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add_component(component)
    cal.add_missing_timezones()
    return cal


def _timezones_for(component: icalendar.cal.Component, known: set[str]) -> str:
    holder = icalendar.Calendar()
    holder.add_component(component)
    holder.add_missing_timezones()
    zones = [tz for tz in holder.walk("VTIMEZONE") if str(tz.get("tzid")) not in known]
    return "".join(tz.to_ical().decode("utf-8") for tz in zones)


class LocalCalendar(CalendarApp):
    """`create_calendar_event` on `.ics` files in a directory (`$POCKETAGENT_HOME/calendars`)."""

    def __init__(self, directory: Path, rules: DateRules | None = None, default_calendar: str = DEFAULT_CALENDAR):
        self.store = IcsDirectory(directory)
        self.rules = rules or DateRules()
        self.default_calendar = default_calendar

    def create_calendar_event(
        self,
        title: str,
        start_date: str,
        end_date: str,
        location: str,
        invitees: list[str],
        notes: str,
        calendar: str | None,
    ) -> str:
        """Create an event; returns e.g. "Created event 'X' on Fri 27 Nov 15:00–16:00 in calendar Calendar."."""
        item = prepare_event(title, start_date, end_date, location, invitees, notes, self.rules)
        name, created = choose_collection(calendar, self.store.names(), self.default_calendar, "calendar")
        self.store.add(name, item.component)
        return result_sentence("event", item, "calendar", name, created)

    def events(self, calendar: str | None = None) -> list[icalendar.Event]:
        """Events of one calendar, or of all calendars."""
        return [c for c in self.store.components("VEVENT", calendar) if isinstance(c, icalendar.Event)]


class LocalReminders(RemindersApp):
    """`create_reminder` as VTODOs in `.ics` files (`$POCKETAGENT_HOME/calendars/<list>.ics`)."""

    def __init__(self, directory: Path, rules: DateRules | None = None, default_list: str = DEFAULT_REMINDER_LIST):
        self.store = IcsDirectory(directory)
        self.rules = rules or DateRules()
        self.default_list = default_list

    def create_reminder(
        self, name: str, due_date: str, notes: str, list_name: str, priority: int, all_day: bool
    ) -> str:
        """Create a reminder; returns e.g. "Created reminder 'X' due Fri 27 Nov 14:00 in list Reminders."."""
        item = prepare_reminder(name, due_date, notes, priority, all_day, self.rules)
        collection, created = choose_collection(list_name, self.store.names(), self.default_list, "list")
        self.store.add(collection, item.component)
        return result_sentence("reminder", item, "list", collection, created)

    def reminders(self, list_name: str | None = None) -> list[icalendar.Todo]:
        """Reminders of one list, or of all files."""
        return [c for c in self.store.components("VTODO", list_name) if isinstance(c, icalendar.Todo)]


def decoded_time(component: icalendar.cal.Component, prop: str) -> datetime | date | None:
    """A DTSTART/DTEND/DUE value as Python date/datetime (None when absent)."""
    return component.decoded(prop) if prop in component else None
