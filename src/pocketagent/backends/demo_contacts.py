"""Demo personal data for `pocketagent init --demo`: contacts, calendars, reminders, notes.

The fixtures are package data under `backends/demo/`, in the workspace layout the local stores
read (see `backends/local/*`): `contacts/demo.vcf` (vCard 4.0) and `contacts/exported-2019.vcf`
(vCard 3.0, as an older address-book export would be) and Markdown notes in `notes/<folder>/`
are copied as they are; `calendars.toml` holds the events and reminders, placed around `now`
so the calendar looks current, and becomes `calendars/{Calendar,Work,Family,Personal,Reminders,
Bills}.ics`. Names cover the hand-written eval set (non-ASCII names, nicknames such as
"Tío Manuel" and "Abuela Rosa", an ambiguous "Sam"); the senders of the demo inbox
(`demo_mail_files.py`) and the README's example request are contacts too. All addresses use
example.com/.org/.net and phone numbers are fictional (555-01xx, Ofcom's 020 7946 0xxx drama range).

Existing files are never overwritten: a file that is already there is skipped.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from pocketagent.atomic import atomic_write_bytes, atomic_write_text
from pocketagent.backends.dates import DateRules
from pocketagent.backends.local.calendar import prepare_event, prepare_reminder, wrap_in_calendar
from pocketagent.data.package_files import load_package_toml, package_tree

if TYPE_CHECKING:
    import icalendar

DEMO_PACKAGE = "pocketagent.backends"  # the fixtures live in its `demo/` folder
_FORMAT = "%Y-%m-%d %H:%M:%S"


class DemoEvent(BaseModel):
    """A demo calendar event, `day` days after this week's Monday at `at` (local time)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    day: int = Field(ge=0)
    at: time = time(0)
    minutes: int = Field(ge=0)  # 0: all day
    location: str = ""
    invitees: tuple[str, ...] = ()
    notes: str = ""


class DemoReminder(BaseModel):
    """A demo reminder, due `day` days after this week's Monday at `at`, or undated without `day`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    day: int | None = Field(None, ge=0)
    at: time = time(0)
    notes: str = ""
    priority: int = Field(0, ge=0, le=9)
    all_day: bool = False


class DemoCalendars(BaseModel):
    """`demo/calendars.toml`: events by calendar name, reminders by list name (written in this order)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    events: dict[str, tuple[DemoEvent, ...]]
    reminders: dict[str, tuple[DemoReminder, ...]]


@cache
def demo_calendars() -> DemoCalendars:
    """The demo events and reminders, read once from the package."""
    return load_package_toml(DemoCalendars, DEMO_PACKAGE, "demo", "calendars.toml")


def _moment(monday: datetime, day: int, at: time) -> datetime:
    return monday + timedelta(days=day, hours=at.hour, minutes=at.minute, seconds=at.second)


def _write_new(path: Path, data: bytes, written: list[Path]) -> None:
    if path.exists():
        return
    atomic_write_bytes(path, data)
    written.append(path)


def write_demo_personal_data(home: Path, now: datetime, rules: DateRules | None = None) -> list[Path]:
    """Write demo contacts, calendars, reminders and notes under `home`; returns the files written.

    `rules` gives the time zone for the demo events (default: the system zone). Files that
    already exist are left as they are.
    """
    home = Path(home)
    rules = DateRules(rules.timezone if rules else DateRules().timezone, "allow")
    written: list[Path] = []

    for relative, data in package_tree(DEMO_PACKAGE, "demo", "contacts"):
        _write_new(home / "contacts" / relative, data, written)

    monday = datetime.combine((now - timedelta(days=now.weekday())).date(), datetime.min.time())
    fixtures = demo_calendars()
    for calendar, events in fixtures.events.items():
        components = []
        for event in events:
            start = _moment(monday, event.day, event.at)
            end = start + (timedelta(minutes=event.minutes) if event.minutes else timedelta(days=1))
            item = prepare_event(
                event.title,
                start.strftime(_FORMAT),
                end.strftime(_FORMAT),
                event.location,
                list(event.invitees),
                event.notes,
                rules,
            )
            components.append(item.component)
        _write_calendar(home / "calendars" / f"{calendar}.ics", calendar, components, written)

    for list_name, reminders in fixtures.reminders.items():
        components = []
        for reminder in reminders:
            due = "" if reminder.day is None else _moment(monday, reminder.day, reminder.at).strftime(_FORMAT)
            item = prepare_reminder(reminder.name, due, reminder.notes, reminder.priority, reminder.all_day, rules)
            components.append(item.component)
        _write_calendar(home / "calendars" / f"{list_name}.ics", list_name, components, written)

    for relative, data in package_tree(DEMO_PACKAGE, "demo", "notes"):
        _write_new(home / "notes" / relative, data, written)
    (home / "notes" / "Clients").mkdir(parents=True, exist_ok=True)  # an empty folder (package data has none)
    return written


def _write_calendar(path: Path, name: str, components: list[icalendar.cal.Component], written: list[Path]) -> None:
    if path.exists() or not components:
        return
    calendar = wrap_in_calendar(name, components[0])
    for component in components[1:]:
        calendar.add_component(component)
    calendar.add_missing_timezones()
    atomic_write_text(path, calendar.to_ical().decode("utf-8"))
    written.append(path)
