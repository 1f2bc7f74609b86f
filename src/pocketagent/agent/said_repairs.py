"""Argument values the request states outright, put right in the plan before an action runs.

A 135M planner gets the shape of a plan right more often than small facts the user spelled out.
These can be read off the request without any model, by the data conventions
(data/handwritten-README.md), and each repair only moves an argument to what the request says:

- **Quoted text is one piece.** `add "call plumber re: water heater" to the Home note`: a text
  argument that is the first words of a quoted phrase becomes the whole phrase.
- **All-day is said or not.** A reminder is all-day only when the user says "all-day"; said, a
  reminder due at midnight is all-day; not said, it is not.
- **One stated duration.** "Zoom ... 30 minutes, block it on my calendar", "block 2 hours on
  Thursday at 1": when the request states exactly one duration, the calendar event that shows the
  meeting's link at the meeting's start, or the plan's first event when the request has no video
  meeting, ends that long after it starts.
- **Said clock times.** "lunch friday at noon" is 12:00, "tomorrow at 7" is 19:00 (1-7 without
  am/pm are pm, 8-11 am): a start time the request never says moves to the one it says (or to the
  other half of the day, when the model read a said hour as am for pm); an end moves with it.
- **Who is on cc.** "with Bram and Yusuf on cc", "cc Maya", "Maëlle should be cc'd", "keep Ana in
  the loop": a recipient the request puts on cc moves to cc (one recipient always stays).
- **Nobody twice.** A list of people (recipients, cc, invitees) names each one once, and a
  recipient is not also on cc: `forward_email(["$1"], ["$1", "$2", "$2"], ...)` becomes
  `forward_email(["$1"], ["$2"], ...)`.
- **The calendar it goes on.** "put it on my Work calendar", "in the Family calendar": an event
  goes on the one calendar the request names.
- **This email is forwarded.** "send the email I'm reading to Nadia": a new email from a request
  that speaks of the email at hand (and never of replying) is that email forwarded.
- **Names and files as looked up.** A contact lookup takes "Noor", not "Noor's"; a file lookup
  takes "quarterly report", not "quarterly report.pdf" (the search matches any extension).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pocketagent.plan.language import REFERENCE, Action, whole_reference
from pocketagent.text import NUMBER_WORDS, normalize_name
from pocketagent.tools.registry import Parameter, ToolRegistry

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# Tools whose text arguments are names of people: a quote never stands for a person.
_PERSON_TOOLS = frozenset({"get_phone_number", "get_email_address"})
# The moment an action happens at (its end, if any, is `end_date`).
_START_PARAMETERS = ("start_date", "due_date", "start_time")
_QUOTED = re.compile(r'"([^"\n]+)"|“([^”\n]+)”|(?:(?<=\s)|^)\'([^\'\n]+)\'(?=[\s,.;:!?]|$)')
_ALL_DAY = re.compile(r"\ball[\s-]?day\b", re.IGNORECASE)
_COUNTS = {"a": 1, "an": 1, "one": 1, **{word: n for n, word in NUMBER_WORDS.items()}}
_COUNT_WORDS = "|".join(sorted((re.escape(w) for w in _COUNTS), key=len, reverse=True))
_DURATION = re.compile(
    rf"(?<![\w:])(?P<count>\d+(?:\.\d+)?|half an?|{_COUNT_WORDS})\s*-?\s*"
    r"(?P<unit>hours?|hrs?|h|minutes?|mins?|min|m)\b(?P<half>\s+and\s+a\s+half)?"
    r"(?!\s+(?:before|early|earlier|late|later|after|ago|from now|prior|away|behind|out))",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"\b(?:in|within|every|for the next)\s+$", re.IGNORECASE)
_VIDEO_MEETING = re.compile(r"\b(zoom|video|meeting link|call link)\b", re.IGNORECASE)
_SUFFIXED = re.compile(r"(?<![\d:])(\d{1,2})(?::([0-5]\d))?\s*(a\.?m\.?|p\.?m\.?)(?![a-z])", re.IGNORECASE)
_RANGE = re.compile(
    r"(?<![\d:])(\d{1,2})(?::([0-5]\d))?\s*(?:-|–|to|until|till)\s*\d{1,2}(?::[0-5]\d)?\s*(a\.?m\.?|p\.?m\.?)(?![a-z])",
    re.IGNORECASE,
)
_BARE_RANGE = re.compile(
    r"(?<![\d:$])(\d{1,2})(?::([0-5]\d))?\s*(?:-|–|to|until|till)\s*(\d{1,2})(?::([0-5]\d))?(?![\d:])"
    r"(?!\s*(?:a\.?m|p\.?m|%|min|hour|hr|day|week|month|people|person|guests?|years?))",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?!\s*(?:a\.?m|p\.?m))(?![\d:])", re.IGNORECASE)
_BARE = re.compile(
    r"\b(?:at|@|from|to|until|till|by|around|about)\s+(\d{1,2})(?![\d:])(?!\s*(?:a\.?m|p\.?m|%|min|hour|hr|day|week|"
    r"month|people|person|guests?|th\b|st\b|nd\b|rd\b|/|-\d|\.\d|minutes?|hours?|days?))(?P<cue>\s+(?:in the "
    r"morning|tonight|in the evening|at night|in the afternoon))?",
    re.IGNORECASE,
)
_PAST = re.compile(r"\b(half|quarter)\s+past\s+(\d{1,2})\b", re.IGNORECASE)
_NOON = re.compile(r"\b(noon|midday)\b", re.IGNORECASE)
_RELATIVE_TIME = re.compile(r"\bin\s+(?:an?|\d+|" + _COUNT_WORDS + r")\s+(?:hours?|hrs?|minutes?|mins?)\b", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$")
_EXTENSION = re.compile(r"\.(?:pdf|docx?|xlsx?|pptx?|txt|csv|md|key|pages|numbers|odt|rtf)$", re.IGNORECASE)


_CALENDAR = re.compile(
    r"\b(?:on|in|to|into|onto)\s+(?:my|the|our)\s+(?P<name>[^\W\d_][\w'&-]*(?:\s+[^\W\d_][\w'&-]*)?)\s+cal(?:endar)?\b",
    re.IGNORECASE,
)
_NOT_A_CALENDAR = frozenset({"own", "main", "default", "usual", "whole", "entire", "regular", "normal", "google", "ical"})
_THIS_EMAIL = re.compile(
    r"\b(?:this|that|the current|the open|the selected)\s+(?:e-?m(?:ail|ial|al)|message|thread|mail)\b"
    r"|\b(?:the\s+)?(?:e-?m(?:ail|ial|al)|message|mail)\s+(?:(?:I'?m|I am)\s+(?:reading|looking at|viewing|on)|"
    r"I\s+(?:have|'ve got|got)\s+open|I\s+(?:just\s+)?(?:got|received|opened))\b",
    re.IGNORECASE,
)
# "answer" as a verb: "this needs an answer by Friday" forwards the email, it does not reply to it.
REPLYING = re.compile(
    r"\b(?:reply|replying|respond|(?<!\ban )(?<!\bthe )(?<!\bno )answer|write back|get back to)\b", re.IGNORECASE
)


def said_calendar(request: str) -> str | None:
    """The calendar the request names ("on my Work calendar" → "Work"), if it names exactly one."""
    names = {
        match.group("name").strip()
        for match in _CALENDAR.finditer(request)
        if not set(match.group("name").lower().split()) & _NOT_A_CALENDAR
    }
    if len({name.lower() for name in names}) != 1:
        return None
    name = names.pop()
    return name[0].upper() + name[1:]


_CC_BEFORE = re.compile(r"(?<!\ba )(?<!\bthe )\b(?:b?cc(?!['’]?d\b)|cc'?ing|copy|copying|loop in)\b\s*:?\s*", re.IGNORECASE)
_CC_AFTER = re.compile(
    r"\s*(?:on cc|in cc|on the cc|(?:should|must|needs to|to) be cc'?d|cc'?d|in the loop|copied in)\b", re.IGNORECASE
)
# Where the names after "cc" end: a clause boundary, or a word that starts the next clause.
_CC_END = re.compile(
    r"(?<!\bdr)(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bprof)(?<!\bst)[.;!?](?=\s|$)|\n|\s[-—–]\s|,?\s+(?:then|also|plus|and then|saying|that|about|with|to|remind|text|email|tell|send|add|"
    r"put|create|make|set|schedule|open|find|show|get|forward|reply|book|block|write|ask|attach|please|pls|thanks)\b",
    re.IGNORECASE,
)
# Where the names before "on cc" start.
_CC_START = re.compile(r"(?:^|[,.;!?]|\bwith\b|\bkeep\b|\band\b(?=\s+\w+\s+(?:on cc|cc'?d)))", re.IGNORECASE)


def cc_spans(request: str) -> list[str]:
    """The stretches of the request that name people to put on cc ("cc Maya and Bo", "with Bo on cc")."""
    spans = []
    for match in _CC_BEFORE.finditer(request):
        rest = request[match.end() :]
        end = _CC_END.search(rest)
        spans.append(rest[: end.start() if end else len(rest)])
    for match in _CC_AFTER.finditer(request):
        before = request[: match.start()]
        starts = [m.end() for m in _CC_START.finditer(before)]
        spans.append(before[starts[-1] if starts else 0 :])
    return [span for span in spans if span.strip()]


def quoted_phrases(request: str) -> list[str]:
    """The phrases of the request inside double quotes, curly quotes or standalone single quotes."""
    return [next(g for g in match.groups() if g is not None).strip() for match in _QUOTED.finditer(request)]


def said_all_day(request: str) -> bool:
    """Whether the request says "all-day" / "all day"."""
    return _ALL_DAY.search(request) is not None


def said_durations(request: str) -> set[int]:
    """The distinct durations the request states, in minutes ("30 minutes", "two hours", "an hour and a half").

    "in 30 minutes" (a time, not a length) and "10 minutes late" (an offset) are not durations.
    """
    found: set[int] = set()
    for match in _DURATION.finditer(request):
        if _RELATIVE.search(request[: match.start()]):
            continue
        count_text, unit = match.group("count").lower(), match.group("unit").lower()
        if unit == "m" and not count_text[0].isdigit():
            continue  # "a m..." is not a duration
        if count_text.startswith("half"):
            count = 0.5
        elif count_text in _COUNTS:
            count = _COUNTS[count_text]
        else:
            count = float(count_text)
        if match.group("half"):
            count += 0.5
        minutes = count * 60 if unit.startswith("h") else count
        if 5 <= minutes <= 24 * 60:
            found.add(round(minutes))
    return found


def _bare_hour(hour: int) -> int:
    """A clock hour said without am/pm: 1-7 pm, 8-11 am, 12 noon (the data conventions)."""
    return hour + 12 if 1 <= hour <= 7 else hour


def said_times(request: str) -> set[tuple[int, int]]:
    """The clock times (hour, minute) the request says, resolved by the data conventions.

    Empty when it says none, and when it also gives a time relative to now ("in 2 hours"),
    which only the model can place.
    """
    if _RELATIVE_TIME.search(request):
        return set()
    found: set[tuple[int, int]] = set()
    for match in _SUFFIXED.finditer(request):
        found |= _with_suffix(int(match.group(1)), int(match.group(2) or 0), match.group(3))
    for match in _RANGE.finditer(request):  # "2-3pm": the start shares the end's suffix
        found |= _with_suffix(int(match.group(1)), int(match.group(2) or 0), match.group(3))
    for match in _BARE_RANGE.finditer(request):  # "Wednesday 10 to 11"
        for hour_text, minute_text in ((match.group(1), match.group(2)), (match.group(3), match.group(4))):
            hour = int(hour_text)
            if 1 <= hour <= 12:
                found.add((_bare_hour(hour), int(minute_text or 0)))
    for match in _CLOCK.finditer(request):
        hour, minute = int(match.group(1)), int(match.group(2))
        # "07:30" and "19:00" are a 24-hour clock; "7:30" follows the bare-hour rule.
        found.add((hour if hour >= 13 or match.group(1).startswith("0") else _bare_hour(hour), minute))
    for match in _BARE.finditer(request):
        hour = int(match.group(1))
        if not 1 <= hour <= 12 or re.match(r"\s+[A-Z]", request[match.end(1) :]):
            continue  # "at 1 Market St" is an address
        cue = (match.group("cue") or "").lower()
        if re.search(r"\b(?:tonight|this evening|evening)\s*$", request[: match.start()], re.IGNORECASE):
            cue = "tonight"  # "tonight at 8"
        if "morning" in cue:
            found.add((hour % 12, 0))
        elif cue:
            found.add((hour % 12 + 12, 0))
        else:
            found.add((_bare_hour(hour), 0))
    for match in _PAST.finditer(request):
        hour = int(match.group(2))
        if 1 <= hour <= 12:
            found.add((_bare_hour(hour), 30 if match.group(1).lower() == "half" else 15))
    if _NOON.search(request):
        found.add((12, 0))
    return found


def _with_suffix(hour: int, minute: int, suffix: str) -> set[tuple[int, int]]:
    if not 1 <= hour <= 12:
        return set()
    pm = suffix.lower().startswith("p")
    return {((hour % 12) + (12 if pm else 0), minute)}


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), DATE_FORMAT)
    except ValueError:
        return None


@dataclass
class SaidRepairs:
    """Repairs actions of one plan, in order, by what its request says (see the module doc)."""

    request: str
    registry: ToolRegistry
    now: datetime | None = None  # a said time is never moved to before this
    _quotes: list[str] = field(default_factory=list)
    _all_day: bool = False
    _duration: int | None = None
    _times: set[tuple[int, int]] = field(default_factory=set)
    _video: bool = False
    _cc: list[set[str]] = field(default_factory=list)
    _calendar: str | None = None
    _forwards: bool = False
    _actions: dict[int, Action] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._quotes = quoted_phrases(self.request)
        self._all_day = said_all_day(self.request)
        durations = said_durations(self.request)
        self._duration = durations.pop() if len(durations) == 1 else None
        self._times = said_times(self.request)
        self._video = _VIDEO_MEETING.search(self.request) is not None
        self._cc = [set(normalize_name(span).split()) | set(span.lower().split()) for span in cc_spans(self.request)]
        self._calendar = said_calendar(self.request)
        self._forwards = _THIS_EMAIL.search(self.request) is not None and not REPLYING.search(self.request)

    def repair(self, action: Action) -> tuple[Action, str]:
        """The action with stated facts put right, and what changed ("" when nothing did).

        Call it once per accepted action, in plan order: later repairs look at earlier actions.
        """
        if action.tool not in self.registry:
            return action, ""
        changes: list[str] = []
        if self._forwards and action.tool == "compose_new_email" and "forward_email" in self.registry:
            if not any(done.tool == "forward_email" for done in self._actions.values()) and len(action.args) == 5:
                recipients, cc, _subject, context, attachments = action.args
                action = replace(action, tool="forward_email", args=(recipients, cc, context, attachments))
                changes.append("forwards the email at hand, as the request says")
        args = list(action.args)
        params = self.registry.get(action.tool).parameters
        for index, (param, value) in enumerate(zip(params, args)):
            if not param.verbatim or not isinstance(value, str) or REFERENCE.search(value):
                continue
            if action.tool in _PERSON_TOOLS:
                if _POSSESSIVE.search(value.strip()) and _POSSESSIVE.sub("", value.strip()):
                    args[index] = _POSSESSIVE.sub("", value.strip())
                    changes.append(f"{param.name} without the possessive")
                continue
            if param.name == "file_name" and _EXTENSION.search(value.strip()) and _EXTENSION.sub("", value.strip()):
                args[index] = _EXTENSION.sub("", value.strip())
                changes.append("file name without its extension (the search matches any)")
                continue
            whole = self._whole_quote(value)
            if whole is not None:
                args[index] = whole
                changes.append(f"{param.name} is the whole quoted phrase")
        changes += self._said_time(params, args)
        if action.tool == "create_reminder":
            changes += self._reminder(params, args)
        if action.tool == "create_calendar_event":
            changes += self._event_end(params, args)
            where = [p.name for p in params].index("calendar")
            if self._calendar is not None and args[where] != self._calendar:
                args[where] = self._calendar
                changes.append(f"on the {self._calendar} calendar the request names")
        if action.tool in ("compose_new_email", "forward_email"):
            changes += self._cc_moves(params, args)
        changes += _nobody_twice(params, args)
        repaired = replace(action, args=tuple(args)) if changes else action  # `action` may be forwarded
        self._actions[action.id] = repaired
        return repaired, "; ".join(changes)

    def _whole_quote(self, value: str) -> str | None:
        words = _words(value)
        if not words:
            return None
        for quote in self._quotes:
            quoted = _words(quote)
            if len(words) < len(quoted) and quoted[: len(words)] == words:
                # Keep the case the model gave the first letter (titles start upper case).
                return value.lstrip()[0] + quote[1:]
        return None

    def _said_time(self, params: tuple[Parameter, ...], args: list[Any]) -> list[str]:
        names = [p.name for p in params]
        start_name = next((n for n in _START_PARAMETERS if n in names), None)
        if start_name is None or not self._times:
            return []
        start = _moment(args[names.index(start_name)])
        if start is None or (start.hour, start.minute) == (0, 0) or (start.hour, start.minute) in self._times:
            return []
        flipped = ((start.hour + 12) % 24, start.minute)
        if flipped in self._times:
            target = flipped
        elif len(self._times) == 1:
            (target,) = self._times
        else:
            return []  # several said times and none is this one's: which was meant is a guess
        moved = start.replace(hour=target[0], minute=target[1])
        if self.now is not None and moved < self.now:
            return []  # "at noon" said at 2 pm: the model's later time may be the right one
        shift = moved - start
        args[names.index(start_name)] = moved.strftime(DATE_FORMAT)
        if "end_date" in names and (end := _moment(args[names.index("end_date")])) is not None:
            args[names.index("end_date")] = (end + shift).strftime(DATE_FORMAT)
        return [f"{start_name} at {moved:%H:%M}, the time the request says"]

    def _cc_moves(self, params: tuple[Parameter, ...], args: list[Any]) -> list[str]:
        names = [p.name for p in params]
        if not self._cc or "recipients" not in names or "cc" not in names:
            return []
        to_index, cc_index = names.index("recipients"), names.index("cc")
        recipients, cc = args[to_index], args[cc_index]
        if not isinstance(recipients, list) or not isinstance(cc, list) or len(recipients) < 2:
            return []
        moving = [item for item in recipients if self._on_cc(item)]
        if not moving or len(moving) == len(recipients):
            return []  # nobody to move, or everyone: then "cc" meant something else
        args[to_index] = [item for item in recipients if item not in moving]
        args[cc_index] = [*cc, *moving]
        return [f"{', '.join(map(str, moving))} on cc, as the request says"]

    def _on_cc(self, item: Any) -> bool:
        """Whether a recipient (an address, or `$N` of a contact lookup) is someone the request puts on cc."""
        if not isinstance(item, str):
            return False
        link = whole_reference(item)
        if link is not None:
            lookup = self._actions.get(link)
            if lookup is None or lookup.tool != "get_email_address" or not lookup.args:
                return False
            words = normalize_name(str(lookup.args[0])).split()
        else:
            words = [item.strip().lower()]
        return bool(words) and any(all(word in span for word in words) for span in self._cc)

    def _reminder(self, params: tuple[Parameter, ...], args: list[Any]) -> list[str]:
        names = [p.name for p in params]
        if "all_day" not in names or "due_date" not in names:
            return []
        flag, due = names.index("all_day"), names.index("due_date")
        if not isinstance(args[flag], bool):
            return []
        at_midnight = isinstance(args[due], str) and args[due].strip().endswith("00:00:00")
        wanted = self._all_day and at_midnight
        if args[flag] == wanted:
            return []
        args[flag] = wanted
        return ["all-day as the request says" if wanted else "not all-day: the request does not say so"]

    def _event_end(self, params: tuple[Parameter, ...], args: list[Any]) -> list[str]:
        if self._duration is None:
            return []
        names = [p.name for p in params]
        start, location = args[names.index("start_date")], args[names.index("location")]
        link = whole_reference(location)
        if link is not None:
            meeting = self._actions.get(link)
            if meeting is None or meeting.tool != "get_zoom_meeting_link" or len(meeting.args) < 3:
                return []
            if meeting.args[1] != start or meeting.args[2] != self._duration:
                return []
        elif self._video or any(a.tool == "create_calendar_event" for a in self._actions.values()):
            return []  # the duration may be the meeting's, or another event's
        begin = _moment(start)
        if begin is None:
            return []
        wanted = (begin + timedelta(minutes=self._duration)).strftime(DATE_FORMAT)
        if args[names.index("end_date")] == wanted:
            return []
        args[names.index("end_date")] = wanted
        return [f"ends {self._duration} minutes after it starts, as the request says"]


_PEOPLE_LISTS = ("recipients", "cc", "invitees", "meeting_invitees")


def _nobody_twice(params: tuple[Parameter, ...], args: list[Any]) -> list[str]:
    """Each person once per list, and nobody on cc who is already a recipient (a small model repeats them)."""
    names = [p.name for p in params]
    changes: list[str] = []
    recipients: list[Any] = []
    for list_name in _PEOPLE_LISTS:
        if list_name not in names or not isinstance(args[names.index(list_name)], list):
            continue
        index = names.index(list_name)
        items: list[Any] = args[index]
        taken = recipients if list_name == "cc" else []
        kept = [item for n, item in enumerate(items) if item not in items[:n] and item not in taken]
        if len(kept) < len(items):
            args[index] = kept
            changes.append(f"{list_name} names each person once")
        if list_name == "recipients":
            recipients = kept
    return changes
