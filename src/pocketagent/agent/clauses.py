"""Splitting a long request into the parts a small planner can plan one at a time.

A 135M planner writes short plans well and long ones badly: on the generated test split it gets
1- and 2-action requests right ~95 % of the time but drops whole clauses of 7+-action requests.
A request that says several things in separate sentences ("Text Ana I'm late. Also remind me
at 6 to call the bank; and show me the way to SFO") is therefore planned part by part and the
parts' plans joined (`PartPlans`), each part in its own short generation over the same cached
prompt prefix.

Only strong boundaries split: the end of a sentence, a semicolon, " + ", a numbered list item,
and connectors that start a new request (", then", ", also", "One more thing,", ...). Plain
" and " and commas never split ("email Sid and Nick the summary and put a review on Friday" is
one part). A part that points back at another ("Summarize it", "text him the summary", "send
them an invite", "everyone") stays joined to the part before it, and so does a part too short
to be a request on its own ("Thanks!"): joining is always safe, it plans as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pocketagent.plan.language import Action, replace_references

# Words that end with a full stop without ending a sentence.
_ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof st jr sr vs etc eg ie am pm no ave blvd mt approx rd ln ft".split()
)
# A boundary: the end of a sentence (after "?" or "!" only before a capital: "thoughts? with Ana
# on cc" is what a message says), a semicolon, " + ", a new numbered item, or a connector that
# begins another request. Group "stop" holds the character that ended a sentence.
_BOUNDARY = re.compile(
    r"(?P<stop>\.)\s+(?=\S)|[!?]\s+(?=(?-i:[A-Z]))"
    r"|\s*;\s+"
    r"|\s+\+\s+"
    r"|\s+—\s+and\s+"
    r"|,\s+(?:and\s+)?(?:then|also|subsequently|plus)\s+"
    r"|\s+and\s+(?:then|also|subsequently)\s+"
    r"|\s+oh\s+and\s+",
    re.IGNORECASE,
)
# A numbered item: "1. ", "2) " after the start, a space or a comma.
_LIST_ITEM = re.compile(r"(?:(?<=^)|[\s,;:]+)(\d)[.)]\s+(?=[A-Za-z])")
# Quoted text is what a message or note says: never split inside it.
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|(?<![A-Za-z])'[^']+'(?![A-Za-z])")
# Words a part starts with that only join it to the previous one.
_LEADING = re.compile(
    r"^(?:(?:and|also|then|plus|oh|uh|so|additionally|furthermore|lastly|finally|last|next|"
    r"after that|in addition|one more thing|one last thing|\d[.)])[\s,:]+)+",
    re.IGNORECASE,
)
# A part that refers to something of an earlier part: planned together with it.
_BACK_REFERENCE = re.compile(
    r"\b(?:it|its|it's|him|her|hers|his|them|they|their|theirs|he|she|both|everyone|everybody|all of them|"
    r"the same|there|that one|this one|the summary|that summary|this summary|the summaries|the link|"
    r"that link|the file|that file|the note|that note|the event|the meeting|the invite|those|these|"
    r"once that's done|when that's done|once done|after that|after this|"
    r"(?:the|that|this)\s+(?:tl;?dr|gist|recap|key points|highlights|takeaways|notes?)(?!\s+of\b))\b"
    # "that" as what is sent ("email that to Ingrid", "get that by email", "text Nour that"), not
    # the "that" that starts what a message says ("text Ana that I'm late"), nor "before that,".
    r"|(?<!\bbefore )(?<!\bafter )(?<!\blike )(?<!\bthan )\bthat(?=\s*(?:[.,;!?]|$)|\s+(?:to|by|over|with|along|via)\b)",
    re.IGNORECASE,
)
_MIN_WORDS = 3
# A part asks for something only if it has a word of some tool's kind of request; "Two things:",
# "Quick one: can you do these" or "Thank you." go with the part next to them.
_CUE = re.compile(
    r"\b(?:text|sms|message|msg|ping|tell|let|email|e-?mail|emial|emal|mail|write|send|shoot|forward|fwd|pass|"
    r"reply|respond|answer|cc|loop|remind|remind\w*|reminer|nudge|forget|note|jot|add|append|put|stick|tack|"
    r"open|pull|show|find|locate|where|where's|map|maps|direction\w*|route|drive|walk|navigate|get|take|transit|"
    r"subway|train|bus|how|zoom|meeting|meet|call|schedule|schedual|shedule|book|block|pencil|invite|calend\w*|"
    r"event|summar\w*|sumar\w*|summer\w*|tl;dr|key points|sum|boil|number|phone|address|read|look|"
    r"save|make|create|start|set|new|share|attach\w*|cell)\b",
    re.IGNORECASE,
)


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _QUOTED.finditer(text)]


def _list_cuts(text: str) -> list[tuple[int, int]]:
    """Boundaries before the items of a numbered list ("1. open the note, 2) show me SFO"), when
    the request numbers its items from 1 (a lone "at 9. Please ..." is a time, not an item)."""
    items = list(_LIST_ITEM.finditer(text))
    if not {"1", "2"} <= {item.group(1) for item in items}:
        return []
    return [item.span() for item in items if item.start() > 0]


def _cuts(text: str) -> list[tuple[int, int]]:
    """(start, end) of each boundary outside quotes that really ends a part, in order."""
    quoted = _quoted_spans(text)
    cuts = _list_cuts(text)
    for match in _BOUNDARY.finditer(text):
        start, end = match.span()
        if any(a < start < b for a, b in quoted):
            continue
        if match.group("stop") == "." and re.search(r"(?:^|\s)\d{1,2}$", text[:start]):
            continue  # "1. open the note 2. ...": a list's number, or a time ("at 9.") kept with its part
        if match.group("stop") == ".":
            word = re.search(r"([A-Za-z]+)$", text[:start])
            if word and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1):
                continue  # "Dr. Adeyemi", "a.m. tomorrow", "J. Smith"
        if not any(a <= start < b or start <= a < end for a, b in cuts):
            cuts.append((start, end))
    return sorted(cuts)


def _clean(part: str) -> str:
    return _LEADING.sub("", part.strip()).strip(" ,;:—-")


def _is_request(part: str) -> bool:
    """Whether `part` asks for something on its own ("Thanks!", "Two things:" do not)."""
    return len(part.split()) >= _MIN_WORDS and _CUE.search(part) is not None


def points_back(part: str) -> bool:
    """Whether `part` refers to something another part says ("email it to her", "text them that")."""
    return _BACK_REFERENCE.search(part) is not None


def split_request(request: str) -> list[str]:
    """The parts of `request` to plan one at a time, in order (one part: plan it whole)."""
    spans: list[tuple[int, int]] = []
    at = 0
    for start, end in _cuts(request):
        spans.append((at, start + (1 if request[start] in ".!?" else 0)))
        at = end
    spans.append((at, len(request)))
    merged: list[list[int]] = []  # [start, end] of each part in `request`
    waiting: int | None = None  # start of an opener ("Two things:") waiting for the part it introduces
    for start, end in spans:
        piece = _clean(request[start:end])
        if not piece:
            continue
        if not _is_request(piece):
            if waiting is None:
                waiting = start
            continue
        if merged and points_back(piece):
            merged[-1][1] = end  # with whatever came between: the text as the user wrote it
            waiting = None
            continue
        merged.append([start if waiting is None else waiting, end])
        waiting = None
    if waiting is not None and merged:
        merged[-1][1] = len(request)  # "... Thank you." ends the last part
    if len(merged) < 2:
        return [request]
    merged[0][0] = 0
    return [_clean(request[start:end]) for start, end in merged]


@dataclass
class PartPlans:
    """Joins the plans of a request's parts into one plan, numbering actions across parts.

    Each part's plan numbers its actions from 1; `add` gives an action its id in the joined plan
    and rewrites its `$N` references to match. A call identical to an earlier part's (the same
    contact looked up for a text in one part and an email in another) is not repeated: its id
    maps to the earlier action's and `add` returns None.
    """

    actions: list[Action] = field(default_factory=list)
    _ids: dict[int, int] = field(default_factory=dict)  # this part's action id -> joined id
    _calls: dict[str, int] = field(default_factory=dict)  # rendered call -> joined id

    @classmethod
    def after(cls, actions: list[Action]) -> PartPlans:
        """Joins more plans after `actions`, a plan numbered from 1 (its calls are not repeated)."""
        return cls(list(actions), _calls={action.call: action.id for action in actions})

    def next_part(self) -> None:
        """Start numbering the next part's actions."""
        self._ids = {}

    def add(self, action: Action) -> Action | None:
        """The action as the joined plan has it, or None if an earlier part already has that call."""
        args = tuple(replace_references(arg, lambda n: f"${self._ids.get(n, 0)}") for arg in action.args)
        joined = Action(len(self.actions) + 1, action.tool, args, action.thought)
        earlier = self._calls.get(joined.call)
        if earlier is not None:
            self._ids[action.id] = earlier
            return None
        self._ids[action.id] = joined.id
        self._calls[joined.call] = joined.id
        self.actions.append(joined)
        return joined
