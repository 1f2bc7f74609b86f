"""Which days a request speaks of, resolved against `now` (the data conventions' rules).

The planner's grammar lets a date argument take only these days (the model still writes the
time), so a small model picks among "Dec 1" and "Dec 2" instead of typing digits it may get
wrong ("2026-12-10"). Resolution follows data/handwritten-README.md: "tomorrow" = +1 day; a
bare or "this" weekday = its next occurrence after today; "next <weekday>" = that weekday in
the following Mon-Sun week; a clock time with no day = today if still ahead, else tomorrow.

`said_days` returns None when it cannot account for the request's dates (no date words, or
words it does not resolve such as "next month"): the grammar then leaves dates free.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_WEEKDAYS = {
    **dict.fromkeys(("monday", "mon"), 0),
    **dict.fromkeys(("tuesday", "tue", "tues"), 1),
    **dict.fromkeys(("wednesday", "wed"), 2),
    **dict.fromkeys(("thursday", "thu", "thur", "thurs"), 3),
    **dict.fromkeys(("friday", "fri"), 4),
    **dict.fromkeys(("saturday", "sat"), 5),
    **dict.fromkeys(("sunday", "sun"), 6),
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_NUMBERS |= {"eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fourteen": 14}

_WEEKDAY = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_COUNT = r"\d{1,2}|" + "|".join(_NUMBERS)
_DAY_NUMBER = r"(\d{1,2})(?:st|nd|rd|th)?"

_TODAY = re.compile(r"\b(today|tonight|this (morning|afternoon|evening)|later on|later)\b")
_IN_HOURS = re.compile(r"\bin (" + _COUNT + r") (hours?|hrs?|minutes?|mins?)\b")
_TOMORROW = re.compile(r"\b(tomorrow|tmrw|tmr|tomorow|tommorow|2morrow)\b")
_DAY_AFTER = re.compile(r"\bday after (tomorrow|tmrw|tmr|tomorow|tommorow|2morrow)\b")
_IN_DAYS = re.compile(r"\bin (" + _COUNT + r") (days?|weeks?)\b")
_NEXT_WEEKDAY = re.compile(r"\bnext (" + _WEEKDAY + r")\b")
_WEEKDAY_WORD = re.compile(r"\b(" + _WEEKDAY + r")\b")
_MONTH_DAY = re.compile(r"\b(" + _MONTH + r")\.? " + _DAY_NUMBER + r"\b")
_DAY_MONTH = re.compile(r"\b" + _DAY_NUMBER + r" (?:of )?(" + _MONTH + r")\b")
_SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WEEKEND = re.compile(r"\b(this|the|next) weekend\b")
# A clock time: "at 3", "3pm", "3:30", "15:00", "noon".
_CLOCK = re.compile(
    r"\b(\d{1,2}(:\d{2})? ?([ap]\.?m\.?)|\d{1,2}:\d{2}|(at|for|by) \d{1,2}\b(?! ?(min|hour|hr|day|week|people|person|%))"
    r"|noon|midday|midnight)"
)
# Day words this module does not resolve: their presence leaves dates to the model.
_UNRESOLVED = re.compile(r"\b(next (month|year)|end of the (week|month)|yesterday|last (night|\w+day))\b")
# Words a date can be said with; a misspelt one ("tomorroow", "Frday", "nxet") is read as the word.
_VOCABULARY = (
    *(name for name in _WEEKDAYS if len(name) > 4),
    *(name for name in _MONTHS if len(name) > 3),
    "tomorrow",
    "after",
    "three",
    "hours",
    "days",
    "tonight",
    "today",
    "next",
    "morning",
    "afternoon",
    "evening",
)


def said_days(request: str, now: datetime) -> frozenset[date] | None:
    """The days `request` names (resolved against `now`), or None when they cannot all be told."""
    text = " ".join(_spelled(word) for word in request.lower().split())
    if _UNRESOLVED.search(text):
        return None
    today = now.date()
    days: set[date] = set()
    if _TODAY.search(text):
        days.add(today)
    for match in _IN_HOURS.finditer(text):
        minutes = _count(match.group(1)) * (60 if match.group(2).startswith("h") else 1)
        days.add((now + timedelta(minutes=minutes)).date())
        days.add((now + timedelta(minutes=minutes + 180)).date())  # a late event may end after midnight
    for match in _DAY_AFTER.finditer(text):
        days.add(today + timedelta(days=2))
    if _TOMORROW.search(_DAY_AFTER.sub(" ", text)):
        days.add(today + timedelta(days=1))
    for match in _IN_DAYS.finditer(text):
        count = _count(match.group(1))
        days.add(today + timedelta(days=count * (7 if match.group(2).startswith("week") else 1)))
    next_monday = today + timedelta(days=7 - today.weekday())
    for match in _NEXT_WEEKDAY.finditer(text):
        days.add(next_monday + timedelta(days=_WEEKDAYS[match.group(1)]))
    rest = _NEXT_WEEKDAY.sub(" ", text)
    for match in _WEEKDAY_WORD.finditer(rest):
        if _is_weekday_word(rest, match):
            weekday = _WEEKDAYS[match.group(1)]
            days.add(today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1))
    for match in _WEEKEND.finditer(text):
        saturday = today + timedelta(days=(5 - today.weekday() - 1) % 7 + 1)
        days.add(saturday + timedelta(days=7) if match.group(1) == "next" else saturday)
    for match in _MONTH_DAY.finditer(text):
        _add_month_day(days, today, _MONTHS[match.group(1)], int(match.group(2)))
    for match in _DAY_MONTH.finditer(text):
        _add_month_day(days, today, _MONTHS[match.group(2)], int(match.group(1)))
    for match in _SLASH_DATE.finditer(text):
        _add_month_day(days, today, int(match.group(1)), int(match.group(2)))
    for match in _ISO_DATE.finditer(text):
        try:
            days.add(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
        except ValueError:
            pass
    for clock in _unbound_clocks(text):
        hour = _clock_hour(clock)
        ahead = hour is None or hour * 60 > now.hour * 60 + now.minute
        days.add(today if ahead else today + timedelta(days=1))
    return frozenset(days) or None


_DAY_EXPRESSIONS: tuple[re.Pattern[str], ...] = (
    _TODAY, _IN_HOURS, _DAY_AFTER, _TOMORROW, _IN_DAYS, _NEXT_WEEKDAY, _WEEKDAY_WORD, _WEEKEND,
    _MONTH_DAY, _DAY_MONTH, _SLASH_DATE, _ISO_DATE,
)  # fmt: skip


def _unbound_clocks(text: str) -> list[str]:
    """Clock times said without a day next to them ("remind me at 5"): they mean the coming such time."""
    marked = text
    for pattern in _DAY_EXPRESSIONS:
        marked = pattern.sub(lambda match: "§" * len(match.group(0)), marked)
    unbound = []
    for clock in _CLOCK.finditer(marked):
        near = marked[max(0, clock.start() - 12) : clock.end() + 12]
        if "§" not in near:
            unbound.append(clock.group(0))
    return unbound


def _clock_hour(words: str) -> int | None:
    """The 24-hour hour of a said clock time (hours 1-7 without am/pm are pm); None if unclear."""
    if words in ("noon", "midday"):
        return 12
    if words == "midnight":
        return 0
    match = re.search(r"(\d{1,2})(?::(\d{2}))?\s*([ap])?", words)
    if match is None:
        return None
    hour = int(match.group(1))
    if match.group(3) == "p" and hour < 12:
        return hour + 12
    if match.group(3) == "a":
        return hour % 12
    if match.group(2) is None and 1 <= hour <= 7:
        return hour + 12
    return hour


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _is_weekday_word(text: str, match: re.Match[str]) -> bool:
    """"sat" and "sun" are also English words: they count as days only next to a day context."""
    if match.group(1) not in ("sat", "sun"):
        return True
    before = text[max(0, match.start() - 12) : match.start()]
    after = text[match.end() : match.end() + 12]
    return bool(
        re.search(r"(\b(on|this|by|until|next)|\d|[ap]\.?m\.?|noon) $", before)
        or re.match(r"\.?,? ?(at\b|\d|morning|night|evening|noon|all day|half|quarter|$)", after)
    )


def _spelled(word: str) -> str:
    """`word`, or the date word it misspells (one edit or swap away; words of 4+ letters only)."""
    letters = word.strip(".,;:!?()\"'")
    if len(letters) < 4 or not letters.isalpha() or letters in _WEEKDAYS or letters in _MONTHS:
        return word
    for known in _VOCABULARY:
        if letters != known and abs(len(letters) - len(known)) <= 1 and _one_edit(letters, known):
            return word.replace(letters, known)
    return word


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b differ by one insertion, deletion, substitution or swap of neighbours."""
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _add_month_day(days: set[date], today: date, month: int, day: int) -> None:
    """The next such date on or after today (this year, else next year); impossible dates are ignored."""
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return
        if candidate >= today:
            days.add(candidate)
            return


def day_phrases(request: str) -> list[str]:
    """The words that name a day in `request` ("friday", "dec 8", "tomorrow"), lower case and
    spelled right; clock times alone ("at 5") are not day phrases."""
    text = " ".join(_spelled(word) for word in request.lower().split())
    found: list[str] = []
    for pattern in _DAY_EXPRESSIONS:
        for match in pattern.finditer(text):
            if pattern is _WEEKDAY_WORD and not _is_weekday_word(text, match):
                continue
            found.append(match.group(0))
    return found

