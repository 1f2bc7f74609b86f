"""Turning clauses into a request in one of many registers.

Registers: neutral, terse, polite, formal, run-on dictation, lowercase casual. Requests with
several clauses are sometimes laid out as separate sentences ("First ... Then ..."), a numbered
list ("1) ... 2) ..."), or with the second action said first ("B, but first A"), since people
rarely speak in plan order with one connector. Independently, ~12% of
requests get one or two typos and some get contractions or chat abbreviations. Words that are
argument values (the scene's protected strings: names, places, message texts) are never
changed, so the reference plan stays right; casing is the exception (the plan keeps canonical
casing, as a user typing "dolores park" still means "Dolores Park").
"""

from __future__ import annotations

import random
import re

REGISTERS = ("neutral", "terse", "polite", "formal", "dictation", "casual")
REGISTER_WEIGHTS = (22, 16, 19, 9, 13, 21)
TYPO_RATE = 0.12
# Share of multi-clause requests laid out as a structure (sentences, list, reversed order).
STRUCTURE_RATE = 0.3


def is_imperative(clause: str) -> bool:
    """Whether a clause starts with a command verb (so "could you" can precede it)."""
    first = clause.split(" ", 1)[0].lower().strip(",.:;!?")
    return first in IMPERATIVE_VERBS


_CONNECTORS = {
    "neutral": (
        ", and ",
        " and ",
        ", then ",
        ". Also ",
        "; ",
        ", also ",
        ". Then ",
        " — and ",
        ". Also: ",
        ". One more thing, ",
    ),
    "terse": (", ", "; ", " + ", ", and ", ". "),
    "polite": (", and ", " and also ", ", and then ", ". Could you also ", ". Also, please ", ". One more thing, "),
    "formal": (
        ", and ",
        ". Additionally, please ",
        ". Furthermore, ",
        ", and subsequently ",
        "; in addition, ",
        ". I would also like you to ",
        ". Please also ",
    ),
    "dictation": (" and then ", " and uh ", " and also ", " then ", " oh and ", " and "),
    "casual": (" and ", ", and ", " & ", " then ", ", also ", " plus ", " oh and ", " n ", " also "),
}
# Clauses that start with one of these verbs can follow "could you" / "please".
IMPERATIVE_VERBS = frozenset(
    [
        "text",
        "email",
        "send",
        "remind",
        "set",
        "schedule",
        "add",
        "put",
        "make",
        "create",
        "jot",
        "save",
        "write",
        "start",
        "open",
        "pull",
        "show",
        "find",
        "map",
        "forward",
        "fwd",
        "pass",
        "reply",
        "respond",
        "answer",
        "summarize",
        "give",
        "sum",
        "get",
        "book",
        "block",
        "pencil",
        "invite",
        "look",
        "navigate",
        "route",
        "drive",
        "walk",
        "take",
        "drop",
        "shoot",
        "compose",
        "ping",
        "message",
        "let",
        "tell",
        "tack",
        "append",
        "update",
        "bring",
        "read",
        "attach",
        "mail",
        "sms",
        "ask",
        "share",
        "stick",
        "nudge",
        "boil",
        "locate",
        "note",
        "loop",
        "have",
        "reach",
        "hit",
        "fire",
    ]
)
_POLITE_PREFIX = (
    "could you ",
    "can you ",
    "please ",
    "would you please ",
    "hey, can you ",
    "I'd like you to ",
    "could you please ",
    "when you get a sec, can you ",
    "hi! can you ",
)
_POLITE_SUFFIX = ("", "", " please", ", thanks", ", thank you!", " — thanks so much", ", if you can")
_FORMAL_PREFIX = (
    "Kindly ",
    "I would like you to ",
    "Please ",
    "Would you kindly ",
    "I'd be grateful if you could ",
    "I would appreciate it if you could ",
    "Could you please ",
)
_FORMAL_SUFFIX = ("", "", ". Thank you.", ". Many thanks.", ", thank you.", ". Much appreciated.")
# Sentence openers for a request said as several sentences, by clause position.
_FIRST_OPENERS = ("First, ", "First ", "To start, ", "")
_LATER_OPENERS = ("Then ", "After that, ", "Also: ", "One more thing, ", "And ", "Next, ", "Also, ")
_LAST_OPENERS = ("Finally, ", "Lastly, ", "And last, ", "Then ")
# A later clause that points back ("text her too", "send it") cannot be said before its antecedent.
_BACK_REFERENCE = re.compile(r"\b(her|him|them|it|both|everyone|all of them|too|that|the summary|the note)\b", re.I)
_DICTATION_PREFIX = ("ok so ", "um ", "so ", "okay ", "alright so ", "hey so ", "uh ", "right so I need you to ", "")
_DICTATION_SUFFIX = ("", "", " thanks", " yeah", " ok", " that's it")
_CASUAL_PREFIX = ("", "", "", "hey ", "yo ", "quick one: ", "pls ", "ok ")
_NEUTRAL_PREFIX = ("", "", "", "", "Quick one: ", "Before I forget: ", "Two things: ")

_CONTRACT = (
    ("I am ", "I'm "),
    ("I will ", "I'll "),
    ("do not ", "don't "),
    ("it is ", "it's "),
    ("what is ", "what's "),
    ("where is ", "where's "),
    ("cannot ", "can't "),
    ("that is ", "that's "),
)
_ABBREVIATE = (
    ("please", "pls"),
    ("tomorrow", "tmrw"),
    ("message", "msg"),
    ("appointment", "appt"),
    ("you", "u"),
    ("thanks", "thx"),
    ("with", "w/"),
    ("about", "abt"),
)
_MISSPELL = {
    "tomorrow": ("tommorow", "tomorow", "tommorrow"),
    "calendar": ("calender", "calandar"),
    "schedule": ("schedual", "shedule"),
    "reminder": ("remider", "reminer"),
    "address": ("adress", "addres"),
    "meeting": ("meetign", "meting"),
    "directions": ("directons", "diections"),
    "summarize": ("summerize", "sumarize"),
    "summary": ("summery", "sumary"),
    "please": ("plese", "pleas"),
    "forward": ("foward", "forwrad"),
    "receipt": ("reciept",),
    "restaurant": ("restaraunt",),
    "definitely": ("definately",),
    "tonight": ("tonite",),
    "attach": ("attatch",),
    "separate": ("seperate",),
    "Wednesday": ("Wendesday", "Wednsday"),
    "wednesday": ("wendesday",),
    "February": ("Febuary",),
    "email": ("emial", "emal"),
}
_KEYBOARD = dict(zip("qwertyuiopasdfghjklzxcvbnm", "wqeryuioppsdfghjklkxcvbnmn"))
_WORD = re.compile(r"[A-Za-z][A-Za-z']+")


def protected_mask(text: str, protected: set[str]) -> list[bool]:
    """Per character: True where the character belongs to a protected string (case-insensitive match)."""
    mask = [False] * len(text)
    lowered = text.lower()
    for phrase in protected:
        needle = phrase.lower()
        start = lowered.find(needle)
        while start != -1:
            for i in range(start, start + len(needle)):
                mask[i] = True
            start = lowered.find(needle, start + 1)
    return mask


def _edit_words(text: str, protected: set[str], edit, rng: random.Random) -> str:
    """Apply `edit(word, rng) -> word` to unprotected words."""
    mask = protected_mask(text, protected)
    out: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        if any(mask[match.start() : match.end()]):
            continue
        out.append(text[last : match.start()])
        out.append(edit(match.group(0), rng))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _typo(word: str, rng: random.Random) -> str:
    if word in _MISSPELL and rng.random() < 0.7:
        return rng.choice(_MISSPELL[word])
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + _KEYBOARD.get(word[i], word[i]) + word[i + 1 :]


def add_typos(text: str, protected: set[str], rng: random.Random, count: int) -> str:
    """Misspell `count` unprotected words (common misspellings first, else a slipped key)."""
    mask = protected_mask(text, protected)
    words = [m for m in _WORD.finditer(text) if not any(mask[m.start() : m.end()]) and len(m.group(0)) >= 4]
    if not words:
        return text
    preferred = [m for m in words if m.group(0) in _MISSPELL]
    pool = preferred if preferred and rng.random() < 0.6 else words
    out = text
    # Edit from the end so earlier match positions stay valid.
    for match in sorted(rng.sample(pool, min(count, len(pool))), key=lambda m: m.start(), reverse=True):
        out = out[: match.start()] + _typo(match.group(0), rng) + out[match.end() :]
    return out


def _unprotected_replace(text: str, old: str, choices: tuple[str, ...], protected: set[str], rng: random.Random) -> str:
    """Replace `old` by one of `choices` wherever it is not inside a protected string."""
    mask = protected_mask(text, protected)
    out, last = [], 0
    start = text.find(old)
    while start != -1:
        if not any(mask[start : start + len(old)]):
            out.append(text[last:start] + rng.choice(choices))
            last = start + len(old)
        start = text.find(old, start + len(old))
    out.append(text[last:])
    return "".join(out)


def _contract(text: str, protected: set[str]) -> str:
    mask = protected_mask(text, protected)
    for full, short in _CONTRACT:
        start = text.find(full)
        if start != -1 and not any(mask[start : start + len(full)]):
            return text[:start] + short + text[start + len(full) :]
    return text


def _abbreviate(text: str, protected: set[str], rng: random.Random) -> str:
    table = dict(_ABBREVIATE)
    return _edit_words(text, protected, lambda w, r: table[w] if w in table and r.random() < 0.5 else w, rng)


def _terse(text: str, protected: set[str], rng: random.Random) -> str:
    drop = {"the", "my", "a", "please"}
    mask = protected_mask(text, protected)
    out, last = [], 0
    for match in re.finditer(r"\b(the|my|a|please) ", text):
        if match.group(1) in drop and not any(mask[match.start() : match.end()]) and rng.random() < 0.6:
            out.append(text[last : match.start()])
            last = match.end()
    out.append(text[last:])
    return "".join(out)


def render_request(rng: random.Random, clauses: list[str], protected: set[str]) -> tuple[str, dict[str, str | bool]]:
    """One request from its clauses, in a sampled register; returns (text, {"register", "typos"})."""
    register = rng.choices(REGISTERS, weights=REGISTER_WEIGHTS)[0]
    structured = None
    if len(clauses) > 1 and register not in ("dictation", "terse") and rng.random() < STRUCTURE_RATE:
        structured = _structure(rng, clauses)
    text = structured or _join(rng, register, clauses)
    if structured and register in ("polite", "formal"):
        text += rng.choice((" Thanks!", " Thank you.", " Thanks.", ""))
    elif register == "polite":
        prefix = rng.choice(_POLITE_PREFIX) if is_imperative(clauses[0]) else rng.choice(("", "", "hi, ", "hey, "))
        suffix = (
            rng.choice(_POLITE_SUFFIX)
            if prefix.strip()
            else rng.choice((" please", ", thanks", ", thank you!", " — thanks!"))
        )
        if "please" in prefix and suffix == " please":
            suffix = ", thanks"
        text = prefix + text + suffix
    elif register == "formal":
        greeting = rng.choice(("", "Hello, ", "Good morning. "))
        prefix = rng.choice(_FORMAL_PREFIX) if is_imperative(clauses[0]) else greeting
        if prefix.startswith(("Would", "Could")):
            text = prefix + text + rng.choice(("?", "? Thank you.", "? Many thanks.", "."))
        else:
            text = prefix + text + rng.choice(_FORMAL_SUFFIX)
    elif register == "dictation":
        text = (
            rng.choice(_DICTATION_PREFIX)
            + _unprotected_replace(text, ", ", (" ", ", ", " "), protected, rng)
            + rng.choice(_DICTATION_SUFFIX)
        )
    elif register == "casual":
        text = rng.choice(_CASUAL_PREFIX) + text
        if rng.random() < 0.3:  # people typing fast skip commas and apostrophes
            text = _unprotected_replace(text, ", ", (" ",), protected, rng)
            text = _unprotected_replace(text, "'", ("",), protected, rng)
    elif register == "neutral":
        text = rng.choice(_NEUTRAL_PREFIX) + text
    elif register == "terse":
        text = _terse(text, protected, rng)
    if rng.random() < 0.5:
        text = _contract(text, protected)
    if register in ("casual", "terse") and rng.random() < 0.3:
        text = _abbreviate(text, protected, rng)
    typos = rng.random() < TYPO_RATE
    if typos:
        text = add_typos(text, protected, rng, rng.choice((1, 1, 2)))
    text = _finish_case_and_punctuation(rng, register, text)
    return text, {"register": register, "typos": typos}


def _join(rng: random.Random, register: str, clauses: list[str]) -> str:
    """Clauses joined in order with connectors of the register."""
    text = clauses[0]
    for clause in clauses[1:]:
        connector = rng.choice(_CONNECTORS[register])
        if connector.rstrip().endswith(("also", "please", "to")) and connector[:1] == "." and not is_imperative(clause):
            connector = ". Also, "
        if text[-1:] in "!?." and connector[:1] in ".,;":
            connector = " " + connector[1:].lstrip()  # "birthday!. Then" -> "birthday! Then"
        text += connector + clause
    return text


def _sentence(text: str) -> str:
    """A clause as a sentence: capitalized, ending in punctuation."""
    text = text[:1].upper() + text[1:]
    return text if text[-1:] in ".!?" else text + "."


def _structure(rng: random.Random, clauses: list[str]) -> str | None:
    """The clauses as separate sentences, a numbered list, or (two clauses) the second said first.

    Returns None when the sampled layout does not fit (a reversed clause that refers back).
    """
    kind = rng.choice(("sentences", "sentences", "list", "reversed"))
    if kind == "reversed":
        if len(clauses) != 2 or _BACK_REFERENCE.search(clauses[1]) or not is_imperative(clauses[0]):
            return None
        first, second = clauses
        # The plan keeps the order of actions; the words say the later one first.
        return rng.choice(
            (
                f"{second}, but first {first}",
                f"{_sentence(second)} Before that, {first}",
                f"{second} — oh, and before that, {first}",
            )
        )
    if kind == "list":
        style = rng.choice(("{n}) ", "{n}. ", "({n}) "))
        head = rng.choice(("", "A few things: ", "Can you do these: ", "To do: "))
        items = [style.format(n=i) + c for i, c in enumerate(clauses, start=1)]
        return head + rng.choice((" ", "; ", ", ")).join(items)
    parts = []
    for i, clause in enumerate(clauses):
        if i == 0:
            opener = rng.choice(_FIRST_OPENERS)
        elif i == len(clauses) - 1 and len(clauses) > 2:
            opener = rng.choice(_LAST_OPENERS)
        else:
            opener = rng.choice(_LATER_OPENERS)
        parts.append(_sentence(opener + clause) if opener else _sentence(clause))
    return " ".join(parts)


def _finish_case_and_punctuation(rng: random.Random, register: str, text: str) -> str:
    text = " ".join(text.split())
    if register in ("casual", "dictation") or (register == "terse" and rng.random() < 0.4):
        return text.lower().rstrip(".")
    text = text[:1].upper() + text[1:]
    if register == "polite" and text.lower().startswith(("could", "can ", "would", "hey, can", "hi! can", "when you")):
        ending = rng.choice(("?", "?", "", "."))
    else:
        ending = rng.choice((".", "", "", "!")) if register != "terse" else ""
    if text[-1:] in ".!?":
        return text
    return text + ending
