"""Strict date parsing, validation and display shared by the calendar and reminder backends.

Tools receive dates as text, `YYYY-MM-DD HH:MM:SS` (the plan language's format). Also
accepted, because they are unambiguous: `YYYY-MM-DD HH:MM`, `YYYY-MM-DD` (midnight) and a
`T` instead of the space. Anything else is a `DateFormatError` that says what was expected.

Naive input is wall-clock time in the configured time zone (`DateRules.timezone`, default
the system's). Stored values carry that zone as a TZID when it has an IANA name
(`Europe/Berlin`); when the system zone has no name (only an offset is known), they are
converted to UTC so they stay exact.

`DateRules.past_dates` decides what happens to a date before "now" (the clock the rules
were given, normally `Settings.current_time`): "reject" (a `PastDateError`), "warn" (the
item is created and the result says it is in the past) or "allow".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pocketagent.errors import ConfigError, ToolError
from pocketagent.timefmt import NOW_FORMAT, NOW_FORMAT_HINT

EXPECTED_FORMAT = NOW_FORMAT_HINT
DEFAULT_EVENT_MINUTES = 60
PastDatePolicy = Literal["reject", "warn", "allow"]
PAST_DATE_POLICIES: tuple[str, ...] = ("reject", "warn", "allow")

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ACCEPTED_FORMATS = (NOW_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d")


class DateFormatError(ToolError):
    """A date argument that is not `YYYY-MM-DD HH:MM:SS` or is not a real date."""


class DateRangeError(ToolError):
    """An end that is not after the start."""


class PastDateError(ToolError):
    """A date in the past while the policy is "reject"."""


def parse_tool_datetime(value: object, field_name: str) -> datetime:
    """Parse a required tool date argument (strictly `YYYY-MM-DD HH:MM[:SS]`-like) into a naive datetime.

    Raises `DateFormatError` with a message the model can act on.
    """
    if not isinstance(value, str):
        raise DateFormatError(f"{field_name} must be a date string like '2026-11-27 15:00:00', got {value!r}")
    text = value.strip()
    if not text:
        raise DateFormatError(f"{field_name} is empty; expected '{EXPECTED_FORMAT}'")
    candidate = text.replace("T", " ", 1) if len(text) > 10 and text[10] == "T" else text
    for fmt in _ACCEPTED_FORMATS:
        try:
            return datetime.strptime(candidate, fmt)
        except ValueError:
            continue
    raise DateFormatError(f"{field_name} {value!r} is not a valid date; expected '{EXPECTED_FORMAT}'")


def parse_optional_tool_datetime(value: object, field_name: str) -> datetime | None:
    """Like `parse_tool_datetime`, but "" and None mean "no date" and give None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_tool_datetime(value, field_name)


def event_end(start: datetime, end_text: object) -> datetime:
    """The end of an event: the parsed `end_text`, or start + 60 minutes when it is empty.

    Raises `DateRangeError` when the end is not after the start.
    """
    end = parse_optional_tool_datetime(end_text, "end_date")
    if end is None:
        return start + timedelta(minutes=DEFAULT_EVENT_MINUTES)
    if end < start:
        raise DateRangeError(
            f"end_date {format_datetime(end)} is before start_date {format_datetime(start)}; "
            "the end must come after the start"
        )
    if end == start:
        raise DateRangeError(
            f"end_date equals start_date ({format_datetime(start)}); give a later end, "
            f"or leave end_date empty for {DEFAULT_EVENT_MINUTES} minutes"
        )
    return end


def format_datetime(value: datetime) -> str:
    """The plan language's format, for messages."""
    return value.strftime("%Y-%m-%d %H:%M:%S")


def system_timezone() -> tzinfo:
    """The system's time zone: an IANA `ZoneInfo` when its name can be found, else a fixed offset."""
    for name in _system_zone_names():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else UTC


def _system_zone_names() -> list[str]:
    names = []
    env = os.environ.get("TZ", "").lstrip(":").strip()
    if env:
        names.append(env)
    try:
        names.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    except OSError:
        pass
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        names.append(target.split("zoneinfo/", 1)[1])
    return [name for name in names if name and not name.startswith("/")]


def resolve_timezone(name: str | None) -> tzinfo:
    """`ZoneInfo(name)` for a configured zone, the system zone for None/""; `ConfigError` if unknown."""
    if not name:
        return system_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'") from None


def _wall_clock() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class DateRules:
    """How naive tool dates are interpreted, stored and checked against "now"."""

    timezone: tzinfo = field(default_factory=system_timezone)
    past_dates: PastDatePolicy = "reject"
    clock: Callable[[], datetime] = _wall_clock

    def __post_init__(self) -> None:
        if self.past_dates not in PAST_DATE_POLICIES:
            choices = ", ".join(PAST_DATE_POLICIES)
            raise ConfigError(f"past date policy must be one of {choices}, got {self.past_dates!r}")

    @classmethod
    def from_names(
        cls, timezone_name: str | None = None, past_dates: str = "reject", clock: Callable[[], datetime] | None = None
    ) -> DateRules:
        """Build rules from config values (a zone name or None for the system zone)."""
        return cls(resolve_timezone(timezone_name), past_dates, clock or _wall_clock)  # type: ignore[arg-type]

    def now(self) -> datetime:
        """The current wall-clock time in the rules' zone, naive (as tool dates are)."""
        current = self.clock()
        if current.tzinfo is not None:
            current = current.astimezone(self.timezone).replace(tzinfo=None)
        return current

    def check_not_past(self, when: datetime, field_name: str, all_day: bool = False) -> str | None:
        """Apply the past-date policy: raise, return a warning sentence, or return None.

        A time in the current minute is not "past"; for all-day items only the day counts.
        """
        now = self.now()
        if all_day:
            past = when.date() < now.date()
        else:
            past = when < now.replace(second=0, microsecond=0)
        if not past or self.past_dates == "allow":
            return None
        shown = when.strftime("%Y-%m-%d") if all_day else format_datetime(when)
        message = f"{field_name} {shown} is in the past (now is {format_datetime(now)})"
        if self.past_dates == "reject":
            raise PastDateError(message + "; give a future date")
        return f"Note: {message}."

    def to_stored(self, naive: datetime) -> datetime:
        """Attach the rules' zone to a naive wall-clock time; offsets without a zone name become UTC."""
        aware = naive.replace(tzinfo=self.timezone)
        if isinstance(self.timezone, ZoneInfo):
            return aware
        return aware.astimezone(UTC)

    def format_when(self, when: datetime | date, all_day: bool = False) -> str:
        """`Fri 27 Nov 15:00` (the year is added when it is not the current one); all-day: `Fri 27 Nov`."""
        day = when if not isinstance(when, datetime) else when.date()
        text = f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"  # not %a/%b: locale-dependent
        if day.year != self.now().year:
            text += f" {day.year}"
        if all_day or not isinstance(when, datetime):
            return text
        return f"{text} {when:%H:%M}"

    def format_span(self, start: datetime, end: datetime) -> str:
        """`Fri 27 Nov 15:00–16:00`, or both full dates when the span crosses midnight."""
        if start.date() == end.date():
            return f"{self.format_when(start)}–{end:%H:%M}"
        return f"{self.format_when(start)} – {self.format_when(end)}"
