"""Spoken date/time expressions and their resolution against `now`.

Resolution follows data/handwritten-README.md exactly, because the strict metric compares dates:
"tomorrow" = now + 1 day; a bare or "this" weekday = its next occurrence strictly after today;
"next <weekday>" = that weekday in the following Mon-Sun week; clock hours 1-7 without am/pm are
pm, 8-11 are am, noon = 12:00; "tonight at 8" = 20:00; "in 2 hours" = now + 2 h; events last
60 minutes unless a duration or end time is said.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pocketagent.text import NUMBER_WORDS
from pocketagent.timefmt import NOW_FORMAT

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_SHORT = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTH_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def fmt(moment: datetime) -> str:
    """The plan language's date format."""
    return moment.strftime(NOW_FORMAT)


@dataclass(frozen=True)
class When:
    """A said moment: its words, the resolved start, and an end when a range or duration was said."""

    text: str
    start: datetime
    end: datetime | None = None
    duration_min: int | None = None

    def end_or_default(self, default_minutes: int = 60) -> datetime:
        if self.end is not None:
            return self.end
        return self.start + timedelta(minutes=self.duration_min or default_minutes)


def sample_now(rng: random.Random) -> datetime:
    """A plausible moment to be asked at: any day 2025-2027, 07:00-21:45 on a quarter hour."""
    day = date(2025, 1, 1) + timedelta(days=rng.randrange(3 * 365))
    return datetime(day.year, day.month, day.day, rng.randint(7, 21), rng.choice((0, 0, 15, 30, 45)))


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _bare_hour(h12: int) -> int:
    """What a clock hour said without am/pm means: 1-7 pm, 8-11 am, 12 noon."""
    if h12 == 12:
        return 12
    return h12 + 12 if 1 <= h12 <= 7 else h12


def time_phrase(rng: random.Random, hour: int, minute: int, allow_bare: bool = True) -> str:
    """Words for a clock time (24h `hour`), bare only where the README's rule gives the same time."""
    h12 = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    clock = f"{h12}" if minute == 0 else f"{h12}:{minute:02d}"
    options = [f"{clock}{suffix}", f"{clock} {suffix}", f"{clock}{suffix}", f"{hour:02d}:{minute:02d}"]
    if suffix == "pm":
        options.append(f"{clock} p.m.")
    if allow_bare and _bare_hour(h12) == hour:
        options += [clock, clock, clock]
        if minute == 30:
            options.append(f"half past {h12}")
        if minute == 15:
            options.append(f"quarter past {h12}")
    if hour == 12 and minute == 0:
        options += ["noon", "noon", "midday", "12 noon"]
    if minute == 0 and 7 <= hour <= 10:
        options.append(f"{h12} in the morning")
    if minute == 0 and 17 <= hour <= 20:
        options.append(f"{h12} in the evening")
    return rng.choice(options)


def _day_phrases(rng: random.Random, now: datetime) -> tuple[str, date]:
    """A day expression and the date it means (always after today)."""
    today = now.date()
    kind = rng.choices(
        ("tomorrow", "weekday", "this_weekday", "next_weekday", "absolute", "in_days", "day_after"),
        weights=(24, 24, 8, 12, 22, 5, 5),
    )[0]
    if kind == "tomorrow":
        return rng.choice(("tomorrow", "tomorrow", "tmrw", "tomorrow")), today + timedelta(days=1)
    if kind == "day_after":
        return "the day after tomorrow", today + timedelta(days=2)
    if kind == "in_days":
        n = rng.randint(2, 6)
        return f"in {rng.choice((str(n), NUMBER_WORDS[n]))} days", today + timedelta(days=n)
    if kind in ("weekday", "this_weekday"):
        wd = rng.randrange(7)
        ahead = (wd - today.weekday()) % 7 or 7
        name = rng.choice((WEEKDAYS[wd], WEEKDAYS[wd].capitalize(), WEEKDAY_SHORT[wd]))
        if kind == "this_weekday":
            return f"this {name}", today + timedelta(days=ahead)
        return rng.choice((name, f"on {name}", name)), today + timedelta(days=ahead)
    if kind == "next_weekday":
        wd = rng.randrange(7)
        next_monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        name = rng.choice((WEEKDAYS[wd], WEEKDAYS[wd].capitalize()))
        return f"next {name}", next_monday + timedelta(days=wd)
    day = today + timedelta(days=rng.randint(2, 75))
    month, month_short, n = MONTHS[day.month - 1], MONTH_SHORT[day.month - 1], day.day
    text = rng.choice(
        (
            f"{month_short} {n}",
            f"{month} {n}",
            f"{month} {_ordinal(n)}",
            f"the {_ordinal(n)} of {month}",
            f"{n} {month_short}",
            f"{month_short} {_ordinal(n)}",
            f"on {month} {n}",
        )
    )
    return text, day


def sample_day(rng: random.Random, now: datetime) -> tuple[str, date]:
    """A day after today, as said (for all-day reminders)."""
    return _day_phrases(rng, now)


def _sample_clock(rng: random.Random) -> tuple[int, int]:
    hour = rng.choices(range(7, 22), weights=(2, 5, 8, 8, 6, 7, 6, 7, 8, 7, 6, 5, 4, 3, 2))[0]
    minute = rng.choice((0, 0, 0, 0, 30, 30, 15, 45))
    return hour, minute


def duration_phrase(rng: random.Random) -> tuple[str, int]:
    """A spoken duration and its minutes."""
    minutes = rng.choice((15, 20, 30, 30, 45, 45, 90, 120, 50, 40, 60))
    if minutes == 30:
        return rng.choice(("30 minutes", "half an hour", "30 min", "thirty minutes")), 30
    if minutes == 60:
        return rng.choice(("an hour", "one hour", "60 minutes")), 60
    if minutes == 90:
        return rng.choice(("an hour and a half", "90 minutes", "ninety minutes", "1.5 hours")), 90
    if minutes == 120:
        return rng.choice(("two hours", "2 hours", "2 hrs")), 120
    word = NUMBER_WORDS.get(minutes)
    return rng.choice(
        (f"{minutes} minutes", f"{minutes} min", f"{word} minutes" if word else f"{minutes} mins")
    ), minutes


def sample_when(rng: random.Random, now: datetime, allow_range: bool = False) -> When:
    """A future moment with a clock time, as said, resolved against `now`.

    With `allow_range`, sometimes says an end time ("from 2 to 3pm") and the result has `end`.
    """
    roll = rng.random()
    if roll < 0.06:
        hours = rng.randint(1, 3)
        text = rng.choice(
            (f"in {hours} hours" if hours > 1 else "in an hour", f"in {NUMBER_WORDS.get(hours, hours)} hours")
        )
        if hours == 1:
            text = "in an hour"
        return When(text, now + timedelta(hours=hours))
    if roll < 0.14:
        # Later today, only when still ahead of now.
        hour, minute = _sample_clock(rng)
        start = now.replace(hour=hour, minute=minute)
        if start > now + timedelta(minutes=30):
            if hour >= 20 and minute == 0 and rng.random() < 0.6:
                return When(f"tonight at {hour - 12}", start)
            if 13 <= hour <= 17 and rng.random() < 0.4:
                return When(f"this afternoon at {time_phrase(rng, hour, minute)}", start)
            return When(
                rng.choice(
                    (
                        f"today at {time_phrase(rng, hour, minute)}",
                        f"at {time_phrase(rng, hour, minute)} today",
                        f"at {time_phrase(rng, hour, minute)}",
                    )
                ),
                start,
            )
    day_text, day = _day_phrases(rng, now)
    hour, minute = _sample_clock(rng)
    start = datetime(day.year, day.month, day.day, hour, minute)
    if allow_range and rng.random() < 0.3:
        minutes = rng.choice((30, 60, 60, 90, 120))
        end = start + timedelta(minutes=minutes)
        if end.date() == start.date():
            start_words = time_phrase(rng, hour, minute)
            end_words = time_phrase(rng, end.hour, end.minute)
            span = rng.choice(
                (f"from {start_words} to {end_words}", f"{start_words}-{end_words}", f"{start_words} to {end_words}")
            )
            text = rng.choice((f"{day_text} {span}", f"{span} {day_text}"))
            return When(text, start, end=end)
    clock = time_phrase(rng, hour, minute)
    text = rng.choice(
        (
            f"{day_text} at {clock}",
            f"{day_text} at {clock}",
            f"{day_text} {clock}",
            f"at {clock} {day_text}",
            f"{clock} {day_text}",
        )
    )
    return When(text, start)
