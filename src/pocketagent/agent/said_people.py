"""Who gets what, as the request says it: the people a text goes to, and the right kind of lookup.

A 135M planner keeps the set of people it has been using. "email Grace and Tomás the agenda and
text Grace that I sent it" comes out with a text to both, and "invite Cosmin, Leonie and Aditya ...,
email them the budget" with the email sent to the phone numbers it looked up for the text. Both
can be read off the request and the plan so far, without a model:

- **Texted people are the ones named after "text".** When every "text ..." clause of the request
  names its people ("text Grace", "group text to Aylin, Deniz and Cem", "send Mo a text"), a phone
  lookup of anyone else is not wanted: it becomes the lookup of a named person not looked up yet,
  or, when there is none left, it is skipped and the model writes something else in its place.
  "text them both", "text my brother" or a request that asks for a number leave the lookups alone.
- **An email goes to email addresses, a text to phone numbers.** A message recipient that is the
  result of the other kind of lookup of a person becomes that person's lookup of the right kind,
  when the plan has it.
- **A meeting is named for its people when the request gives it no name.** "zoom with Farah and
  Jonas next tuesday at 11": a topic or title that is only a name, a day or a calendar of the
  request ("Farah", "Tomorrow", "Work") becomes "Meeting with Farah and Jonas" (the data
  conventions), the people being those it invites.
- **A file the email sends is found first.** "email Grace and Tomás the offsite agenda", "reply
  with the itinerary attached": an email with no attachment, in a plan that has found no file and
  summarized none, is skipped and the model looks the file up first, then writes it again.
- **A person named in a recipient list is looked up first.** "write booking@alpenhof.at, Svetlana
  and Abby an email": a message, event or meeting whose recipients or invitees hold a bare name
  (not an address or number) gets the lookup of that name inserted before it, by the kind the tool
  needs, and the name becomes the lookup's "$N" (the planning conventions: one lookup per person).
- **Everyone of a list the request says is on it.** "group text Ayşe, Jan, and Nkechi": a message
  or event whose people are some of a list of names the request says together ("A, B and C")
  gets the ones it left out, as bare names (looked up by the rule above).
- **"The link" is the meeting's link.** "make a zoom, put it on my calendar and text them the link":
  a message that carries the calendar event showing a meeting's link carries the link itself.
- **"The tl;dr", "that", "the note" is the result it stands for.** "summarize the lease, then text
  the tl;dr to Astrid", "pull up the Ideas note, then make sure Wei gets that by email": a message
  whose text only stands in for something ("the tl;dr", "that", "note") carries the latest note or
  summary no action has used yet ("$N"), and so does an email or reply with no text and no
  attachment when the request passes something on ("email that to", "get that by email"); a phone
  number the request asks for ("what's Noor's number? text it to ...") counts as well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from pocketagent.agent.said_names import (
    INDIRECT_WORDS,
    asks_for_a_number,
    is_literal,
    said_cc,
    said_lists,
    said_reply_cc,
    sends_a_file,
    texted_names,
)
from pocketagent.plan.language import REFERENCE, Action, Scalar, whole_reference
from pocketagent.text import normalize_name

# Forwarding sends the email at hand with its own attachments: only new mail and replies attach.
_ATTACHING_TOOLS = frozenset({"compose_new_email", "reply_to_email"})
# Words that name when or where a meeting is, never what it is about.
_NOT_A_TOPIC = frozenset(
    "today tonight tomorrow monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs "
    "fri sat sun next this week weekend morning afternoon evening noon work personal home family calendar zoom "
    "call meeting video".split()
)
# A message text that only stands in for a result: "the tl;dr", "that", "note", "the summary to Astrid".
_STAND_IN = re.compile(
    r"^\s*(?:(?:the|that|this|my|its)\s+)?(?:it|that|this|them|notes?|summary|summaries|tl;?dr|gist|recap|"
    r"key points|what it says|contents?|number|address)(?:\s+(?:to|with|by)\s+.*)?\s*$",
    re.IGNORECASE,
)
# A request that passes a result on: "email that to", "get that by email", "mail it over", "send what it says".
_PASSES_ON = re.compile(
    r"\b(?:e-?mail|mail|send|text|txt|sms|share|forward|get|give|reply|write back|pass)\b(?:\s+[^\s.;!?]+){0,6}?"
    r"\s+(?:that|it|this|what it says)\b",
    re.IGNORECASE,
)
# Actions whose result a message carries (a lookup only when the request asks for the number or address).
_CONTENT_TOOLS = frozenset({"open_note", "summarize_pdf"})
_SAYS_LINK = re.compile(r"\b(?:link|url|invite link|zoom link)s?\b", re.IGNORECASE)
# Where each message tool carries its text.
_MESSAGE_TEXT = {"send_sms": 1, "compose_new_email": 3, "reply_to_email": 1, "forward_email": 2}
_KIND_OF_RECIPIENT = {
    "compose_new_email": "get_email_address",
    "reply_to_email": "get_email_address",
    "forward_email": "get_email_address",
    "send_sms": "get_phone_number",
}

# Between an email's recipients and its cc: another message the cc may belong to.
_ANOTHER_MESSAGE = re.compile(
    r"\b(?:e-?mail|mail|forward|reply|respond|write|send|text|txt|sms|message|invite|tell|let)\b", re.IGNORECASE
)
# The lists of people each tool takes, by argument position (every `_KIND_OF_RECIPIENT` tool has one).
_PEOPLE_LISTS = {
    "compose_new_email": (0, 1),
    "forward_email": (0, 1),
    "reply_to_email": (0,),
    "send_sms": (0,),
    "create_calendar_event": (4,),
    "get_zoom_meeting_link": (3,),
}
# A literal that is a person's name, not an address, a number or a "$N" result.
_PERSON_NAME = re.compile(r"^(?=.*[^\W\d_])[\w'’.\- ]{1,40}$")


@dataclass
class SaidPeople:
    """Checks the contact lookups and message recipients of one plan, in order (see the module doc)."""

    request: str
    _lookups: dict[int, Action] = field(default_factory=dict)  # accepted contact lookups, by id
    _actions: dict[int, Action] = field(default_factory=dict)  # every accepted action, by id
    _wants_number: bool = False
    _says_link: bool = False
    _passes_on: bool = False

    def __post_init__(self) -> None:
        self._wants_number = asks_for_a_number(self.request)
        self._says_link = _SAYS_LINK.search(self.request) is not None
        self._passes_on = _PASSES_ON.search(self.request) is not None

    def _known_words(self) -> set[str]:
        """The folded words of the names the plan looked up (lowercase names count once known)."""
        return {word for lookup in self._lookups.values() for word in normalize_name(str(lookup.args[0])).split()}

    def phone_lookup(self, action: Action) -> tuple[Action | None, str]:
        """A `get_phone_number` as the request's texts want it: (the action, "") when fine, (the
        lookup of another named person, why) when it names someone nobody texts, (None, why) when
        it is not wanted at all."""
        if action.tool != "get_phone_number" or not action.args or self._wants_number:
            return action, ""
        known = self._known_words()
        known |= set(normalize_name(str(action.args[0])).split())
        names = texted_names(self.request, known)
        if names is None or _among(str(action.args[0]), names):
            return action, ""
        done = [str(a.args[0]) for a in self._lookups.values() if a.tool == "get_phone_number"]
        pending = [name for name in names if not any(_among(d, [name]) for d in done)]
        if pending:
            return replace(action, args=(pending[0], *action.args[1:])), f"the request texts {pending[0]}"
        return None, f"the request texts only {', '.join(names)}"

    def recipients(self, action: Action) -> tuple[Action, str]:
        """The action with each recipient that is the wrong kind of lookup moved to the right one."""
        wanted = _KIND_OF_RECIPIENT.get(action.tool)
        if wanted is None:
            return action, ""
        args = list(action.args)
        changes: list[str] = []
        for index in _PEOPLE_LISTS[action.tool]:
            given = args[index] if index < len(args) else None
            if not isinstance(given, list):
                continue
            items: list[Scalar] = []
            for item in given:
                swapped = self._right_kind(item, wanted)
                if swapped != item:
                    changes.append(f"{item} → {swapped} ({wanted})")
                items.append(swapped)
            args[index] = items
        if changes:
            changes = ["recipients by the right lookup: " + ", ".join(changes)]
        text = _MESSAGE_TEXT[action.tool]
        link = self._meeting_link(args[text]) if text < len(args) and self._says_link else None
        if link is not None:
            changes.append(f"carries the meeting's link {link}, as the request says")
            args[text] = link
        elif text < len(args) and (carried := self._stood_for(action, args[text])) is not None:
            changes.append(f"carries {carried} ({self._actions[int(carried[1:])].tool}), what {args[text]!r} stands for")
            args[text] = carried
        if not changes:
            return action, ""
        return replace(action, args=tuple(args)), "; ".join(changes)

    def unfound_attachment(self, action: Action) -> str:
        """Why an email should attach a file the plan has not found yet ("" when it need not)."""
        if action.tool not in _ATTACHING_TOOLS or not action.args or action.args[-1] != []:
            return ""
        if any(done.tool in ("open_and_get_file_path", "summarize_pdf") for done in self._actions.values()):
            return ""
        text = action.args[_MESSAGE_TEXT[action.tool]] if len(action.args) > _MESSAGE_TEXT[action.tool] else ""
        if isinstance(text, str) and REFERENCE.search(text):
            return ""  # the message carries a result (a summary, a note): that is what it sends
        sent = sends_a_file(self.request)
        return f"action {action.id} {action.tool} sends {sent!r}: the file is found first" if sent else ""

    def meeting_title(self, action: Action) -> tuple[Action, str]:
        """The meeting or event with a title that only names a person, a day or a calendar replaced
        by "Meeting with <its people>"; the action unchanged otherwise."""
        if action.tool not in ("get_zoom_meeting_link", "create_calendar_event") or not action.args:
            return action, ""
        title = action.args[0]
        if not isinstance(title, str) or REFERENCE.search(title):
            return action, ""
        words = normalize_name(title).split()
        if len(words) > 1 and f" {' '.join(words)} " in f" {normalize_name(self.request)} ":
            return action, ""  # the request's own name for it ("the family call")
        people = self._invited(action)
        person_words = {word for name in people for word in normalize_name(name).split()}
        if not people or not words or not all(word in _NOT_A_TOPIC or word in person_words for word in words):
            return action, ""
        named = "Meeting with " + (people[0] if len(people) == 1 else ", ".join(people[:-1]) + " and " + people[-1])
        return replace(action, args=(named, *action.args[1:])), f"named for its people: {named!r}"

    def _invited(self, action: Action) -> list[str]:
        """The names of the people a meeting or event is with: its invitees' lookups, or for an
        event that shows a meeting's link, that meeting's."""
        index = 3 if action.tool == "get_zoom_meeting_link" else 4
        invitees = action.args[index] if len(action.args) > index else []
        if action.tool == "create_calendar_event" and not invitees and len(action.args) > 3:
            link = whole_reference(action.args[3])
            meeting = self._actions.get(link) if link is not None else None
            if meeting is not None and meeting.tool == "get_zoom_meeting_link" and len(meeting.args) > 3:
                invitees = meeting.args[3]
        names: list[str] = []
        for item in invitees if isinstance(invitees, list) else []:
            ref = whole_reference(item)
            lookup = self._lookups.get(ref) if ref is not None else None
            if lookup is None:
                return []  # a literal address: no name to give the meeting
            names.append(str(lookup.args[0]))
        return names

    def _stood_for(self, action: Action, text: object) -> str | None:
        """`$N` of the result a message's `text` only stands in for (see the module doc); None otherwise."""
        if not isinstance(text, str) or REFERENCE.search(text):
            return None
        if not text.strip():
            attachments = action.args[-1] if action.tool in ("compose_new_email", "reply_to_email") else None
            if attachments != [] or not self._passes_on:
                return None
        elif not _STAND_IN.match(text):
            return None
        used = {ref for done in (*self._actions.values(), action) for ref in done.dependencies}
        asked = ("get_phone_number",) if self._wants_number else ()
        for done in reversed(list(self._actions.values())):
            if done.id not in used and (done.tool in _CONTENT_TOOLS or done.tool in asked):
                return f"${done.id}"
        return None

    def _meeting_link(self, value: object) -> str | None:
        """`$M` of the meeting whose link the calendar event `value` ("$N") shows; None otherwise."""
        if (event := whole_reference(value)) is None:
            return None
        shown = self._actions.get(event)
        if shown is None or shown.tool != "create_calendar_event" or len(shown.args) < 4:
            return None
        location = shown.args[3]
        if not isinstance(location, str) or (meeting := whole_reference(location)) is None:
            return None
        made = self._actions.get(meeting)
        return location.strip() if made is not None and made.tool == "get_zoom_meeting_link" else None

    def looked_up(self, action: Action, said: str) -> tuple[Action, tuple[Action, ...]]:
        """`action` with each bare name in its people lists replaced by "$N" of that person's lookup,
        and the lookups to insert before it (numbered from the action's own id) for names the plan
        has not looked up yet; (action, ()) when there is nothing to do. Only names `said` (the
        folded request) contains count: anything else is not the request's and is left to the guard."""
        positions = _PEOPLE_LISTS.get(action.tool)
        if positions is None:
            return action, ()
        kind = _KIND_OF_RECIPIENT.get(action.tool, "get_email_address")  # invitees are emailed
        known = {normalize_name(str(a.args[0])): i for i, a in self._lookups.items() if a.tool == kind}
        inserted: list[Action] = []
        args = list(action.args)
        for index in positions:
            given = args[index] if index < len(args) else None
            if not isinstance(given, list):
                continue
            items: list[Scalar] = []
            for item in given:
                name = item.strip() if isinstance(item, str) else ""
                folded = normalize_name(name)
                if (
                    not _PERSON_NAME.match(name)
                    or folded in INDIRECT_WORDS
                    or f" {folded} " not in f" {said} "
                ):
                    items.append(item)
                    continue
                if folded not in known:
                    lookup = Action(action.id + len(inserted), kind, (name,))
                    inserted.append(lookup)
                    known[folded] = lookup.id
                items.append(f"${known[folded]}")
            args[index] = items
        if args == list(action.args):
            return action, ()
        moved = replace(action, id=action.id + len(inserted), args=tuple(args))
        return moved, tuple(inserted)

    def listed(self, action: Action) -> tuple[Action, str]:
        """`action` with the people it left out of a list the request says added to its people list
        as bare names (for `looked_up` to find), and why; (action, "") when nothing is missing.

        A people list counts when every person on it is among one list of the request (by name: a
        lookup's name, or a literal name or address); the people of that list who are not on it are
        the missing ones. An address or number of the list is never added: its kind may be wrong.
        """
        positions = _PEOPLE_LISTS.get(action.tool)
        if positions is None:
            return action, ""
        known = self._known_words()
        lists = said_lists(self.request, known)
        if not lists:
            return action, ""
        args = list(action.args)
        added: list[str] = []
        taken = self._listed_names(args, positions)
        folded_request = f" {normalize_name(self.request)} "
        texted = texted_names(self.request, known) if action.tool == "send_sms" else None
        for index in positions:
            given = args[index] if index < len(args) else None
            if not isinstance(given, list) or not given:
                continue
            names = [self._name_of(item) for item in given]
            if any(name is None for name in names):
                continue  # a result that is not a lookup (a file): not a list of people
            if any(folded_request.count(f" {normalize_name(str(name))} ") != 1 for name in names):
                continue  # a person said twice ("invite Cosmin and Leonie ..., text Cosmin"): which list is unclear
            for said in lists:
                on_it = [i for i, m in enumerate(said) if any(_among(m, [str(n)]) or _literal_in(str(n), [m]) for n in names)]
                if not all(_among(str(name), said) or _literal_in(str(name), said) for name in names):
                    continue
                # Only people after the first one the action has: a list's first "person" can be a
                # capitalised word that starts the sentence ("Ask Dr. Adeyemi and ...").
                later = said[min(on_it) + 1 :]
                missing = [m for m in later if not is_literal(m) and not _among(m, taken)]
                if action.tool == "send_sms" and texted is not None:
                    missing = [m for m in missing if _among(m, texted)]
                if missing:
                    args[index] = [*given, *missing]
                    added += missing
                    taken += missing
                break
        if not added:
            return action, ""
        return replace(action, args=tuple(args)), f"the request lists {', '.join(added)} with the others"

    def cc_added(self, action: Action) -> tuple[Action, str]:
        """A new or forwarded email with the people the request's one cc names added to its cc (as
        bare names or addresses, for `looked_up`), and why; (action, "") when none is missing.

        The cc is the email's when its recipients are said before the cc with no other message
        between ("forward this to Nerea & Papa, cc Abby"; not "email Ana, text Bo, cc Cy").
        """
        if action.tool == "reply_to_email":
            return self._reply_cc_added(action)
        if action.tool not in ("compose_new_email", "forward_email") or len(action.args) < 2:
            return action, ""
        recipients, cc = action.args[0], action.args[1]
        if not isinstance(recipients, list) or not isinstance(cc, list) or not recipients:
            return action, ""
        known = self._known_words()
        said = said_cc(self.request, known)
        names = [self._name_of(item) for item in (*recipients, *cc)]
        if said is None or any(name is None for name in names):
            return action, ""
        at, people = said
        lowered = self.request.lower()
        ends = [lowered.find(str(name).lower()) for name in names[: len(recipients)]]
        if min(ends) < 0:
            return action, ""
        said_to = max(end + len(str(name)) for end, name in zip(ends, names))
        if said_to > at or _ANOTHER_MESSAGE.search(self.request[said_to:at]):
            return action, ""
        missing = _left_out(people, [str(name) for name in names])
        if not missing:
            return action, ""
        moved = replace(action, args=(recipients, [*cc, *missing], *action.args[2:]))
        return moved, f"{', '.join(missing)} on cc, as the request says"

    def _reply_cc_added(self, action: Action) -> tuple[Action, str]:
        """A reply with the people the request puts on the reply's cc added (`said_reply_cc`)."""
        cc = action.args[0] if action.args else None
        if not isinstance(cc, list):
            return action, ""
        known = self._known_words()
        people = said_reply_cc(self.request, known)
        names = [self._name_of(item) for item in cc]
        if people is None or any(name is None for name in names):
            return action, ""
        missing = _left_out(people, [str(name) for name in names])
        if not missing:
            return action, ""
        return replace(action, args=([*cc, *missing], *action.args[1:])), f"{', '.join(missing)} on cc, as the request says"

    def _name_of(self, item: Scalar) -> str | None:
        """The person a people-list item stands for: a lookup's name, or the literal itself."""
        ref = whole_reference(item)
        if ref is None:
            return str(item).strip() if isinstance(item, str) and item.strip() else None
        lookup = self._lookups.get(ref)
        return None if lookup is None else str(lookup.args[0])

    def _listed_names(self, args: Sequence[object], positions: tuple[int, ...]) -> list[str]:
        """Everyone already on any of the action's people lists (a person on cc is not added to the recipients)."""
        names: list[str] = []
        for index in positions:
            given = args[index] if index < len(args) else None
            for item in given if isinstance(given, list) else []:
                if (name := self._name_of(item)) is not None:
                    names.append(name)
        return names

    def accepted(self, action: Action) -> None:
        """Record an action the plan keeps (call in plan order)."""
        self._actions[action.id] = action
        if action.tool in ("get_phone_number", "get_email_address") and action.args:
            self._lookups[action.id] = action

    def _right_kind(self, item: Scalar, wanted: str) -> Scalar:
        if (link := whole_reference(item)) is None:
            return item
        lookup = self._lookups.get(link)
        if lookup is None or lookup.tool == wanted:
            return item
        name = normalize_name(str(lookup.args[0]))
        for other_id, other in self._lookups.items():
            if other.tool == wanted and normalize_name(str(other.args[0])) == name:
                return f"${other_id}"
        return item


def _left_out(people: list[str], taken: list[str]) -> list[str]:
    """The people of a cc the request says that are not among `taken` (a number is never an email's)."""
    return [
        person
        for person in people
        if ("@" in person or not is_literal(person))
        and not _literal_in(person, taken)
        and ("@" in person or not _among(person, taken))
    ]


def _literal_in(literal: str, said: list[str]) -> bool:
    """Whether an address or number item is one written in the list `said`."""
    return any(literal.strip().lower() == member.lower() for member in said)


def _among(name: str, names: list[str]) -> bool:
    """Whether `name` is one of `names` (folded; "Abuela Rosa" matches "Rosa" and back)."""
    words = set(normalize_name(name).split())
    return any(words & set(normalize_name(other).split()) for other in names)
