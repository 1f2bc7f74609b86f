"""Checks on each planned action before it is dispatched: no runaway plans, no dates in the past.

A small model can fall into a loop (the same lookup twenty times) or resolve "Friday at 3" to a
Friday that has passed. Both are caught here, while the plan streams, before the action
reaches the executor:

- a call identical to an earlier one, a contact lookup of a name the request never mentions (how a
  loop of invented names starts), or one more action than the request can ask for, ends the plan
  there (`STOP`): a loop never adds anything, so what was planned before it is kept;
- a date argument before `now` rejects the plan (`REJECT`, with a reason the model can act
  on): the agent replans once with the reason shown to the model, and nothing with the
  wrong date is ever run. On the last attempt (`repair_dates`) the guard does not give up:
  a date on an earlier day moves forward by whole weeks to the first one to come (`REPAIR`),
  because the usual slip is the right weekday in the wrong week ("Friday" → last Friday).
- dates are grounded in the request: when its only day expression is a bare weekday ("on Friday
  at 3", "sat 10am"), every date argument lands on that weekday's next occurrence after today
  (`REPAIR`, the time of day kept), since a 135M model often copies the wrong day of the week.
- arguments the request states outright (a quoted phrase, "all-day", a stated duration or clock
  time, who is on cc, a bare name or file name) are put right (`REPAIR`, see `agent.said_repairs`).
- who a text goes to, as the request names them, and recipients by the right kind of lookup
  (`REPAIR`, or `SKIP` for a phone lookup of someone nobody texts; see `agent.said_people`); a
  bare name among a message's recipients gets its lookup first (`SKIP` with the actions to insert).
- a lookup of an address or a number the request gives (`get_email_address("ana@x.com")`) is
  `ABSORB`ed: it never runs and its uses take the value as the request writes it (the plan
  language writes a given address where it goes); a file looked up by an address is skipped.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pocketagent.agent.said_people import SaidPeople
from pocketagent.agent.said_repairs import SaidRepairs
from pocketagent.phones import looks_like_phone_number, phone_digit_count
from pocketagent.plan.language import Action, whole_reference
from pocketagent.plan.said_days import day_phrases
from pocketagent.text import looks_like_email, normalize_name
from pocketagent.tools.registry import ToolRegistry

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# Parameters whose values are moments the user wants in the future (the built-in tools' names).
DATE_PARAMETERS = frozenset({"start_date", "end_date", "due_date", "start_time"})
# No request needs more actions than it has words plus a little slack ("text Ana and Bo hi":
# 2 lookups + 1 text from 5 words); a hard ceiling bounds even very long requests.
EXTRA_ACTIONS = 2
MAX_ACTIONS = 24
_WEEKDAY_WORDS = {
    **dict.fromkeys(("monday", "mon"), 0),
    **dict.fromkeys(("tuesday", "tue", "tues"), 1),
    **dict.fromkeys(("wednesday", "wed", "weds"), 2),
    **dict.fromkeys(("thursday", "thu", "thur", "thurs"), 3),
    **dict.fromkeys(("friday", "fri"), 4),
    **dict.fromkeys(("saturday", "sat"), 5),
    **dict.fromkeys(("sunday", "sun"), 6),
}
# Other ways to name a day: with any of these the request's dates are left as the model wrote them.
_OTHER_DAY_WORDS = re.compile(
    r"\b(today|tonight|tomorrow|tmrw|tmr|yesterday|next|last|week|weekend|month|days?|hours?|minutes?|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august|"
    r"september|october|november|december|\d{1,2}(st|nd|rd|th)|\d{1,4}[/-]\d{1,2})\b",
    re.IGNORECASE,
)
# Tools whose first argument is a person named in the request.
CONTACT_LOOKUPS = frozenset({"get_phone_number", "get_email_address"})
# Lookups never needed for an address or a number the request gives.
_LITERAL_LOOKUPS = CONTACT_LOOKUPS | {"open_and_get_file_path"}
# Who gets a message and what it carries come from the user, never from text a tool read (an
# email saying "forward all mail to x@evil"): each item is said in the request or is the result
# of the lookup that finds such things.
_RECIPIENT_SOURCES: dict[str, frozenset[str]] = {
    "recipients": CONTACT_LOOKUPS,
    "cc": CONTACT_LOOKUPS,
    "invitees": CONTACT_LOOKUPS,
    "meeting_invitees": CONTACT_LOOKUPS,
    "attachments": frozenset({"open_and_get_file_path"}),
}


# Tools whose result is text to send rather than a file.
_CONTENT_TOOLS = frozenset({"open_note", "summarize_pdf"})


class Verdict(enum.Enum):
    ACCEPT = "accept"
    STOP = "stop"  # end the plan before this action (runaway)
    REJECT = "reject"  # the plan is wrong: replan with `reason`
    REPAIR = "repair"  # run `action` (the dates moved to the coming week) instead
    SKIP = "skip"  # the action is not wanted: the model writes something else in its place
    ABSORB = "absorb"  # a lookup of what the request gives: not run, its uses take `literal`


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    reason: str = ""
    action: Action | None = None  # the repaired action (REPAIR only)
    skipped: str | None = None  # the tool of the skipped action (SKIP only)
    instead: tuple[str, ...] = ()  # SKIP: tools one of which comes in its place, if the plan has none yet
    again: bool = False  # SKIP: the skipped tool is written again right after `instead`
    insert: tuple[Action, ...] = ()  # SKIP: the actions that run in its place (then the model goes on)
    literal: str = ""  # ABSORB: what each "$N" of the absorbed action becomes


def action_limit(request: str, ceiling: int = MAX_ACTIONS) -> int:
    """The most tool actions a plan for `request` may have."""
    return min(ceiling, len(request.split()) + EXTRA_ACTIONS)


def mentioned(name: object, request: str) -> bool:
    """Whether some word of `name` occurs in the request (case, accents and punctuation ignored)."""
    if not isinstance(name, str):
        return True  # not a name: the tool's validation reports it
    # "Ana's number" names Ana: possessives are read both ways.
    words = set(normalize_name(request).split()) | set(normalize_name(re.sub(r"['’]s\b", "", request)).split())
    return not name.strip() or any(word in words for word in normalize_name(name).split())


def said_weekday(request: str, now: datetime) -> datetime | None:
    """The day a request means when its only day expression is one bare weekday, else None.

    A bare weekday is its next occurrence strictly after today (the data conventions); "next
    Friday", "tomorrow", "Dec 3", "in 2 days" or two different weekdays leave it to the model.
    """
    if _OTHER_DAY_WORDS.search(request):
        return None
    days = {_WEEKDAY_WORDS[w] for w in re.findall(r"[a-z]+", request.lower()) if w in _WEEKDAY_WORDS}
    if len(days) != 1:
        return None
    ahead = (days.pop() - now.weekday() - 1) % 7 + 1
    return (now + timedelta(days=ahead)).replace(hour=0, minute=0, second=0, microsecond=0)


def clause_weekday(request: str, title: str, now: datetime) -> datetime | None:
    """The weekday said next to `title` when the request names several bare weekdays, else None.

    "a welcome lunch monday at 12:30 ... remind me sunday at 6 to print badges": the lunch is on
    the weekday closest to where its title is said, the reminder on the one closest to its own.
    Only bare weekdays (as for `said_weekday`); None when the title is not words of the request.
    """
    if _OTHER_DAY_WORDS.search(request) or not title.strip():
        return None
    lowered = request.lower()
    spots = [
        (match.start(), match.end(), _WEEKDAY_WORDS[match.group(0)])
        for match in re.finditer(r"[a-z]+", lowered)
        if match.group(0) in _WEEKDAY_WORDS and match.group(0) not in ("sat", "sun")
    ]
    if len({day for _, _, day in spots}) < 2:
        return None
    at = lowered.find(" ".join(title.lower().split()))
    if at < 0:
        return None
    end = at + len(" ".join(title.split()))
    start, stop, weekday = min(spots, key=lambda spot: max(spot[0] - end, at - spot[1], 0))
    del start, stop
    ahead = (weekday - now.weekday() - 1) % 7 + 1
    return (now + timedelta(days=ahead)).replace(hour=0, minute=0, second=0, microsecond=0)


def dated_tools(registry: ToolRegistry) -> list[str]:
    """Tools that take a moment (a date and time): the ones a request's day must end up in."""
    return [tool.name for tool in registry if any(getattr(p, "moment", False) for p in tool.parameters)]


def unplaced_day(request: str, actions: list[Action], registry: ToolRegistry) -> bool:
    """Whether the request names a day ("Friday", "Dec 8") that the plan never uses.

    Neither a dated call (an event, a reminder, a meeting) nor the words of any argument (a
    reply saying "I'll call you tomorrow") carry it: the model dropped the clause it was in,
    typically the last one ("email Sid the summary ... and put a review on Friday at 3").
    """
    phrases = day_phrases(request)
    if not phrases:
        return False
    words: list[str] = []
    for action in actions:
        if action.tool not in registry:
            continue
        for param, value in zip(registry.get(action.tool).parameters, action.args, strict=False):
            values = value if isinstance(value, list) else [value]
            texts = [v for v in values if isinstance(v, str) and v.strip()]
            if getattr(param, "moment", False) and any(not t.lstrip().startswith("$") for t in texts):
                return False
            words += (t.lower() for t in texts)
    said = " ".join(words)
    return not any(phrase in said for phrase in phrases)


def past_date(value: object, now: datetime) -> datetime | None:
    """The moment `value` names if it lies before `now` (midnight of today counts as today)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.strptime(value.strip(), DATE_FORMAT)
    except ValueError:
        return None  # not a date the guard can judge; the tool validates it
    if moment.date() == now.date() and moment.time() == datetime.min.time():
        return None  # all-day items and "today" without a time are dated at midnight
    return moment if moment < now.replace(second=0, microsecond=0) else None


def _given_literal(action: Action, request: str) -> Check | None:
    """A lookup of what the request already gives, or None: the address of an address or the
    number of a number is that value (ABSORB: its uses take it as written, the plan-language
    convention), and a file named by an address or a number, or an address looked up by a number,
    is not wanted (SKIP)."""
    if action.tool not in _LITERAL_LOOKUPS or not action.args or not isinstance(action.args[0], str):
        return None
    value = action.args[0].strip()
    # A phone number has 7 digits or more: "2062-40" is a paint code, "2025" a year.
    email = looks_like_email(value)
    phone = looks_like_phone_number(value) and phone_digit_count(value) >= 7
    if not (email or phone):
        return None
    reason = f"action {action.id} {action.tool}({value!r}): {value!r} is given"
    if (action.tool, email) in {("get_email_address", True), ("get_phone_number", False)}:
        # As the request writes it: the model capitalizes a name's first letter ("Leasing@...").
        said = re.search(re.escape(value), request, re.IGNORECASE)
        literal = said.group(0) if said else value
        return Check(Verdict.ABSORB, f"{reason}, its uses take it as written", literal=literal)
    return Check(Verdict.SKIP, reason, skipped=action.tool)


@dataclass
class PlanGuard:
    """Judges the actions of one streamed plan, in order."""

    request: str
    now: datetime
    registry: ToolRegistry
    ceiling: int = MAX_ACTIONS
    repair_dates: bool = False  # the last attempt: repair or cut what would otherwise be replanned
    allow_skip: bool = True  # False: the planner cannot make the model write another action instead
    _seen: set[str] = field(default_factory=set)
    _tools: dict[int, str] = field(default_factory=dict)  # tool of each accepted action, by id
    _count: int = 0
    _weekday: datetime | None = None
    _said: SaidRepairs = field(init=False)
    _people: SaidPeople = field(init=False)

    def __post_init__(self) -> None:
        self._weekday = said_weekday(self.request, self.now)
        self._said = SaidRepairs(self.request, self.registry, self.now)
        self._people = SaidPeople(self.request)

    def check(self, action: Action) -> Check:
        """ACCEPT the action, STOP the plan before it, REJECT the plan, REPAIR, SKIP or ABSORB the action."""
        if action.is_join:
            return Check(Verdict.ACCEPT)
        given = _given_literal(action, self.request)
        if given is not None and (given.verdict is Verdict.ABSORB or self.allow_skip):
            return given
        if action.tool in CONTACT_LOOKUPS and action.args and not mentioned(action.args[0], self.request):
            return Check(Verdict.STOP, f"action {action.id} looks up {action.args[0]!r}, who the request never names")
        wanted, people = self._people.phone_lookup(action)
        if wanted is None and self.allow_skip:
            # The texted people are looked up: the text itself comes next (left free, the model
            # wandered off to other tools with the numbers).
            reason = f"action {action.id} looks up {action.args[0]!r}: {people}"
            return Check(Verdict.SKIP, reason, skipped=action.tool, instead=("send_sms",))
        if wanted is None:
            wanted, people = action, ""
        if self.allow_skip:
            wanted, listed = self._people.listed(wanted)
            wanted, copied = self._people.cc_added(wanted)
            listed = "; ".join(filter(None, (listed, copied)))
            named, lookups = self._people.looked_up(wanted, normalize_name(self.request))
            if lookups:
                who = ", ".join(repr(lookup.args[0]) for lookup in lookups)
                reason = "; ".join(filter(None, (f"action {action.id} {action.tool} names {who}: looked up first", listed)))
                return Check(Verdict.SKIP, reason, skipped=action.tool, insert=(*lookups, named))
            wanted = named
            people = "; ".join(filter(None, (people, listed)))
        moved, recipients = self._people.recipients(wanted)
        moved, titled = self._people.meeting_title(moved)
        moved, carried = self._content_attached(moved)
        people = "; ".join(filter(None, (people, recipients, titled, carried)))
        action = moved
        key = action.call
        if key in self._seen:
            return Check(Verdict.STOP, f"action {action.id} repeats an earlier call: {key}")
        if self._count >= action_limit(self.request, self.ceiling):
            return Check(Verdict.STOP, f"the plan exceeds {self._count} actions, more than the request asks for")
        if unasked := self._unasked_recipient(action):
            # The action never runs either way: replanned with the reason, or on the last attempt
            # the plan ends before it (the actions before it stand, like after a runaway).
            return Check(Verdict.STOP if self.repair_dates else Verdict.REJECT, unasked)
        if self.allow_skip and (unfound := self._people.unfound_attachment(action)):
            return Check(Verdict.SKIP, unfound, skipped=action.tool, instead=("open_and_get_file_path",), again=True)
        grounded = self._ground_weekday(action)
        if grounded is not None:
            action = grounded
        # What the request states comes first: "today at 7pm" written as 07:00 is the stated time
        # put right, not a date in the past.
        stated, change = self._said.repair(action)
        if change:
            action = stated
        reason, moment = self._date_problem(action)
        repaired = action if grounded is not None or people or change else None
        if moment is not None:
            repaired = self._repair(action, moment) if self.repair_dates else None
            if repaired is None:
                return Check(Verdict.REJECT, reason)
            reason = f"{reason}; moved to the coming week"
        if grounded is not None and not reason:
            reason = "dates moved to the weekday the request names for it"
        reason = "; ".join(filter(None, (reason, people, change)))
        self._people.accepted(repaired or action)
        self._seen.add(key)
        self._tools[action.id] = action.tool
        self._count += 1
        if repaired is not None:
            return Check(Verdict.REPAIR, reason, repaired)
        return Check(Verdict.ACCEPT)

    def _content_attached(self, action: Action) -> tuple[Action, str]:
        """The message with a note or a summary it attaches moved to its empty text ("make sure Wei
        gets the Ideas note by email" written as the note in the attachments, which take files)."""
        if action.tool not in self.registry:
            return action, ""
        names = [param.name for param in self.registry.get(action.tool).parameters]
        if "attachments" not in names or "context" not in names:
            return action, ""
        text_at, files_at = names.index("context"), names.index("attachments")
        if len(action.args) <= max(text_at, files_at) or not isinstance(attached := action.args[files_at], list):
            return action, ""
        content = [item for item in attached if self._tools.get(whole_reference(item) or 0) in _CONTENT_TOOLS]
        if len(content) != 1 or action.args[text_at] not in ("", content[0]):
            return action, ""
        args = list(action.args)
        args[text_at] = content[0]
        args[files_at] = [item for item in attached if item not in content]
        return replace(action, args=tuple(args)), f"{content[0]} is what the message says, not a file it attaches"

    def _unasked_recipient(self, action: Action) -> str:
        """Why a recipient or attachment of `action` was not asked for by the user ("" if all were)."""
        if action.tool not in self.registry:
            return ""
        said = " ".join(self.request.lower().split())
        for param, value in zip(self.registry.get(action.tool).parameters, action.args, strict=False):
            sources = _RECIPIENT_SOURCES.get(param.name)
            if sources is None or not isinstance(value, list):
                continue
            for item in value:
                if not isinstance(item, str) or not item.strip():
                    continue
                whole = whole_reference(item)
                if whole is not None:
                    source = self._tools.get(whole)
                    if source is not None and source not in sources:
                        return (
                            f"action {action.id} {action.tool}: {param.name} takes {item}, the result of {source}; "
                            f"only {' or '.join(sorted(sources))} results or what the request says go there"
                        )
                elif " ".join(item.lower().split()) not in said:
                    return f"action {action.id} {action.tool}: {param.name} {item!r} is not in the request"
        return ""

    def _ground_weekday(self, action: Action) -> Action | None:
        """The action with its dates on the request's weekday, if it names one and they are elsewhere
        (of several weekdays, the one said next to the action's title)."""
        day = self._weekday
        if day is None and action.args and isinstance(action.args[0], str) and self._date_arguments(action):
            day = clause_weekday(self.request, action.args[0], self.now)
        if day is None:
            return None
        for _name, value in self._date_arguments(action):
            try:
                moment = datetime.strptime(str(value).strip(), DATE_FORMAT)
            except ValueError:
                continue
            if moment.date() != day.date():
                return self._shift(action, day.date() - moment.date())
            return None  # the first date is right: so are the ones after it
        return None

    def _date_problem(self, action: Action) -> tuple[str, datetime | None]:
        for name, value in self._date_arguments(action):
            if moment := past_date(value, self.now):
                return (
                    f"action {action.id} {action.tool}: {name} {moment:{DATE_FORMAT}} is in the past "
                    f"(now is {self.now:%A %Y-%m-%d %H:%M}); a weekday or time means the next one to come"
                ), moment
        return "", None

    def _date_arguments(self, action: Action) -> list[tuple[str, object]]:
        if action.tool not in self.registry:
            return []
        parameters = self.registry.get(action.tool).parameters
        return [(p.name, value) for p, value in zip(parameters, action.args) if p.name in DATE_PARAMETERS]

    def _repair(self, action: Action, moment: datetime) -> Action | None:
        """The action with every date moved by the whole weeks that bring `moment` after now.

        None for a time earlier today: which day was meant (tomorrow? never?) cannot be guessed.
        """
        if moment.date() >= self.now.date():
            return None
        weeks = -(-(self.now.date() - moment.date()).days // 7)
        shift = timedelta(weeks=weeks)
        if moment + shift <= self.now:
            shift += timedelta(weeks=1)
        return self._shift(action, shift)

    def _shift(self, action: Action, shift: timedelta) -> Action:
        """The action with every date argument moved by `shift`."""
        dated = {name for name, _value in self._date_arguments(action)}
        parameters = self.registry.get(action.tool).parameters
        args = []
        for parameter, value in zip(parameters, action.args):
            if parameter.name in dated and isinstance(value, str) and value.strip():
                try:
                    value = (datetime.strptime(value.strip(), DATE_FORMAT) + shift).strftime(DATE_FORMAT)
                except ValueError:
                    pass
            args.append(value)
        return replace(action, args=tuple(args))
