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
from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pocketagent.data.package_files import load_package_toml

REGISTERS = ("neutral", "terse", "polite", "formal", "dictation", "casual")
REGISTER_WEIGHTS = (22, 16, 19, 9, 13, 21)
TYPO_RATE = 0.12
# Share of multi-clause requests laid out as a structure (sentences, list, reversed order).
STRUCTURE_RATE = 0.3
# A phrase table is never empty: rendering draws from every one ("" entries weight "nothing added").
Choices = Annotated[tuple[str, ...], Field(min_length=1)]


class Phrases(BaseModel):
    """The phrase tables of `phrases.toml` (shipped next to this module), typed; fields are its keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    imperative_verbs: frozenset[str]  # clauses starting with one can follow "could you" / "please"
    polite_prefix: Choices
    polite_suffix: Choices
    formal_prefix: Choices
    formal_suffix: Choices
    dictation_prefix: Choices
    dictation_suffix: Choices
    casual_prefix: Choices
    neutral_prefix: Choices
    first_openers: Choices  # sentence openers of a request said as several sentences, by clause position
    later_openers: Choices
    last_openers: Choices
    contractions: tuple[tuple[str, str], ...]  # (full form, contraction), tried in order
    abbreviations: tuple[tuple[str, str], ...]  # (word, chat abbreviation)
    connectors: Mapping[str, Choices]  # by register
    misspellings: Mapping[str, Choices]  # common misspellings of a word

    @field_validator("connectors")
    @classmethod
    def _every_register(cls, value: Mapping[str, Choices]) -> Mapping[str, Choices]:
        if set(value) != set(REGISTERS):
            raise ValueError(f"needs connectors for exactly the registers {', '.join(REGISTERS)}")
        return value


@cache
def load_phrases() -> Phrases:
    """The rendering phrase tables, read once from the packaged `phrases.toml`."""
    return load_package_toml(Phrases, __package__ or "pocketagent.data.generate", "phrases.toml")


def is_imperative(clause: str) -> bool:
    """Whether a clause starts with a command verb (so "could you" can precede it)."""
    first = clause.split(" ", 1)[0].lower().strip(",.:;!?")
    return first in load_phrases().imperative_verbs


# A later clause that points back ("text her too", "send it") cannot be said before its antecedent.
_BACK_REFERENCE = re.compile(
    r"\b(her|him|them|it|both|everyone|all of them|too|that|the summary|the note)\b", re.IGNORECASE
)
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


def _edit_words(text: str, protected: set[str], edit: Callable[[str, random.Random], str], rng: random.Random) -> str:
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
    phrases = load_phrases()
    if word in phrases.misspellings and rng.random() < 0.7:
        return rng.choice(phrases.misspellings[word])
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
    phrases = load_phrases()
    mask = protected_mask(text, protected)
    words = [m for m in _WORD.finditer(text) if not any(mask[m.start() : m.end()]) and len(m.group(0)) >= 4]
    if not words:
        return text
    preferred = [m for m in words if m.group(0) in phrases.misspellings]
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
    phrases = load_phrases()
    mask = protected_mask(text, protected)
    for full, short in phrases.contractions:
        start = text.find(full)
        if start != -1 and not any(mask[start : start + len(full)]):
            return text[:start] + short + text[start + len(full) :]
    return text


def _abbreviate(text: str, protected: set[str], rng: random.Random) -> str:
    phrases = load_phrases()
    table = dict(phrases.abbreviations)
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
    phrases = load_phrases()
    register = rng.choices(REGISTERS, weights=REGISTER_WEIGHTS)[0]
    structured = None
    if len(clauses) > 1 and register not in ("dictation", "terse") and rng.random() < STRUCTURE_RATE:
        structured = _structure(rng, clauses)
    text = structured or _join(rng, register, clauses)
    if structured and register in ("polite", "formal"):
        text += rng.choice((" Thanks!", " Thank you.", " Thanks.", ""))
    elif register == "polite":
        prefix = (
            rng.choice(phrases.polite_prefix) if is_imperative(clauses[0]) else rng.choice(("", "", "hi, ", "hey, "))
        )
        suffix = (
            rng.choice(phrases.polite_suffix)
            if prefix.strip()
            else rng.choice((" please", ", thanks", ", thank you!", " — thanks!"))
        )
        if "please" in prefix and suffix == " please":
            suffix = ", thanks"
        text = prefix + text + suffix
    elif register == "formal":
        greeting = rng.choice(("", "Hello, ", "Good morning. "))
        prefix = rng.choice(phrases.formal_prefix) if is_imperative(clauses[0]) else greeting
        if prefix.startswith(("Would", "Could")):
            text = prefix + text + rng.choice(("?", "? Thank you.", "? Many thanks.", "."))
        else:
            text = prefix + text + rng.choice(phrases.formal_suffix)
    elif register == "dictation":
        text = (
            rng.choice(phrases.dictation_prefix)
            + _unprotected_replace(text, ", ", (" ", ", ", " "), protected, rng)
            + rng.choice(phrases.dictation_suffix)
        )
    elif register == "casual":
        text = rng.choice(phrases.casual_prefix) + text
        if rng.random() < 0.3:  # people typing fast skip commas and apostrophes
            text = _unprotected_replace(text, ", ", (" ",), protected, rng)
            text = _unprotected_replace(text, "'", ("",), protected, rng)
    elif register == "neutral":
        text = rng.choice(phrases.neutral_prefix) + text
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
    phrases = load_phrases()
    text = clauses[0]
    for clause in clauses[1:]:
        connector = rng.choice(phrases.connectors[register])
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
    phrases = load_phrases()
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
            opener = rng.choice(phrases.first_openers)
        elif i == len(clauses) - 1 and len(clauses) > 2:
            opener = rng.choice(phrases.last_openers)
        else:
            opener = rng.choice(phrases.later_openers)
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
