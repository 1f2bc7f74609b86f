"""Argument values the request states outright, put right in the plan before an action runs.

A 135M planner gets the shape of a plan right more often than small facts the user spelled out.
Three such facts can be read off the request without any model, and each repair only moves an
argument to what the request says:

- **Quoted text is one piece.** `add "call plumber re: water heater" to the Home note`: a text
  argument that is the first words of a quoted phrase becomes the whole phrase.
- **All-day is said or not.** A reminder is all-day only when the user says "all-day" (the data
  conventions); said, a reminder due at midnight is all-day; not said, it is not.
- **One stated duration.** "Zoom ... 30 minutes, block it on my calendar": when the request
  states exactly one duration and the meeting has it, the calendar event that shows the
  meeting's link at the meeting's start ends when the meeting does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pocketagent.plan.language import REFERENCE, Action
from pocketagent.tools.registry import ToolRegistry

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# Tools whose text arguments are names of people: a quote never stands for a person.
_PERSON_TOOLS = frozenset({"get_phone_number", "get_email_address"})
_QUOTED = re.compile(r'"([^"\n]+)"|“([^”\n]+)”|(?:(?<=\s)|^)\'([^\'\n]+)\'(?=[\s,.;:!?]|$)')
_ALL_DAY = re.compile(r"\ball[\s-]?day\b", re.IGNORECASE)
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_DURATION = re.compile(
    r"(?<![\w:])(?P<count>\d+(?:\.\d+)?|an?|one|two|three|four|five|six|half an?)\s*-?\s*"
    r"(?P<unit>hours?|hrs?|h|minutes?|mins?|min|m)\b(?P<half>\s+and\s+a\s+half)?"
    r"(?!\s+(?:before|early|earlier|late|later|after|ago|from now|prior))",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"\b(?:in|within|every)\s+$", re.IGNORECASE)


def quoted_phrases(request: str) -> list[str]:
    """The phrases of the request inside double quotes, curly quotes or standalone single quotes."""
    return [next(g for g in match.groups() if g is not None).strip() for match in _QUOTED.finditer(request)]


def said_all_day(request: str) -> bool:
    """Whether the request says "all-day" / "all day"."""
    return _ALL_DAY.search(request) is not None


def said_durations(request: str) -> set[int]:
    """The distinct durations the request states, in minutes ("30 minutes", "two hours", "an hour and a half").

    "in 30 minutes" (a time, not a length) and "10 minutes before" (an offset) are not durations.
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
        elif count_text in _NUMBER_WORDS:
            count = _NUMBER_WORDS[count_text]
        else:
            count = float(count_text)
        if match.group("half"):
            count += 0.5
        minutes = count * 60 if unit.startswith("h") else count
        if 5 <= minutes <= 24 * 60:
            found.add(round(minutes))
    return found


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


@dataclass
class SaidRepairs:
    """Repairs actions of one plan, in order, by what its request says (see the module doc)."""

    request: str
    registry: ToolRegistry
    _quotes: list[str] = field(default_factory=list)
    _all_day: bool = False
    _duration: int | None = None
    _actions: dict[int, Action] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._quotes = quoted_phrases(self.request)
        self._all_day = said_all_day(self.request)
        durations = said_durations(self.request)
        self._duration = durations.pop() if len(durations) == 1 else None

    def repair(self, action: Action) -> tuple[Action, str]:
        """The action with stated facts put right, and what changed ("" when nothing did).

        Call it once per accepted action, in plan order: later repairs look at earlier actions.
        """
        if action.tool not in self.registry:
            return action, ""
        changes: list[str] = []
        args = list(action.args)
        params = self.registry.get(action.tool).parameters
        for index, (param, value) in enumerate(zip(params, args)):
            if param.verbatim and action.tool not in _PERSON_TOOLS and isinstance(value, str):
                whole = self._whole_quote(value)
                if whole is not None:
                    args[index] = whole
                    changes.append(f"{param.name} is the whole quoted phrase")
        if action.tool == "create_reminder":
            changes += self._reminder(params, args)
        if action.tool == "create_calendar_event":
            changes += self._event_end(params, args)
        repaired = replace(action, args=tuple(args)) if changes else action
        self._actions[action.id] = repaired
        return repaired, "; ".join(changes)

    def _whole_quote(self, value: str) -> str | None:
        words = _words(value)
        if not words or REFERENCE.search(value):
            return None
        for quote in self._quotes:
            quoted = _words(quote)
            if len(words) < len(quoted) and quoted[: len(words)] == words:
                # Keep the case the model gave the first letter (titles start upper case).
                return (value.lstrip()[0] + quote[1:]) if value.strip() else quote
        return None

    def _reminder(self, params: tuple, args: list) -> list[str]:
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

    def _event_end(self, params: tuple, args: list) -> list[str]:
        if self._duration is None:
            return []
        names = [p.name for p in params]
        start, end, location = (args[names.index(n)] for n in ("start_date", "end_date", "location"))
        link = REFERENCE.fullmatch(location.strip()) if isinstance(location, str) else None
        if link is None:
            return []
        meeting = self._actions.get(int(link.group(1) or link.group(2)))
        if meeting is None or meeting.tool != "get_zoom_meeting_link" or len(meeting.args) < 3:
            return []
        if meeting.args[1] != start or meeting.args[2] != self._duration:
            return []
        try:
            wanted = (datetime.strptime(str(start).strip(), DATE_FORMAT) + timedelta(minutes=self._duration))
        except ValueError:
            return []
        if end == wanted.strftime(DATE_FORMAT):
            return []
        args[names.index("end_date")] = wanted.strftime(DATE_FORMAT)
        return [f"ends when the {self._duration}-minute meeting does"]
