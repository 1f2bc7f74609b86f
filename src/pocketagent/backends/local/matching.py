"""Fuzzy name matching shared by contacts, notes and calendars, and reading users' text files.

Lookup (`match_names`) is accent-insensitive ("Eren Erdogan" finds "Eren Erdoğan"),
accepts a first or last name alone, a nickname, honorifics ("Professor Okonkwo") and small
typos, and never guesses: several equally good matches are an `AmbiguousMatchError`
listing them.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from rapidfuzz.distance import Indel

from pocketagent.errors import ToolError, UserFileError
from pocketagent.text import normalize_name

T = TypeVar("T")

_HONORIFICS = frozenset(["mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "prof", "professor", "sir", "madam", "dame"])
_FUZZY_CUTOFF = 0.75
_TIE_MARGIN = 0.04


class NoMatchError(ToolError):
    """Nothing matches a name; the message lists close names when there are any."""


class AmbiguousMatchError(ToolError):
    """Several items match a name equally well; `choices` holds their labels."""

    def __init__(self, message: str, choices: list[str]):
        super().__init__(message)
        self.choices = choices


@dataclass(frozen=True)
class Candidate(Generic[T]):
    """Something findable by name: `names` match as a whole, `aliases` are nicknames."""

    item: T
    label: str
    names: tuple[str, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchResult(Generic[T]):
    matches: list[Candidate[T]]
    suggestions: list[str]


def _similarity(query: str, key: str) -> float:
    # Indel normalized similarity (2 * LCS / total length): difflib's ratio, computed exactly
    # and in C (difflib's matching-blocks heuristic can only find fewer common characters).
    similarity = Indel.normalized_similarity
    whole = similarity(query, key)
    compact = similarity(query.replace(" ", ""), key.replace(" ", ""))
    q_tokens, k_tokens = query.split(), key.split()
    tokens = 0.0
    if q_tokens and len(q_tokens) <= len(k_tokens):
        tokens = sum(max(similarity(q, k) for k in k_tokens) for q in q_tokens)
        tokens /= len(q_tokens)
    return max(whole, compact, tokens)


def _token_subset(query_tokens: list[str], key: str) -> bool:
    key_tokens = key.split()
    remaining = list(key_tokens)
    exact = 0
    for token in query_tokens:
        hit = next((k for k in remaining if k == token), None)
        if hit is None and len(token) == 1:  # an initial: "Sam L"
            hit = next((k for k in remaining if k.startswith(token)), None)
        elif hit is not None:
            exact += 1
        if hit is None:
            return False
        remaining.remove(hit)
    return exact > 0


def match_names(query: str, candidates: Sequence[Candidate[T]]) -> MatchResult[T]:
    """Candidates matching `query`, best tier only: exact full name, then nickname or part of
    the name ("Sam" → "Sam Lee"), then typo-tolerant similarity. Several results mean a tie."""
    q = normalize_name(query)
    if not q:
        return MatchResult([], [])
    keyed = [
        (c, [normalize_name(n) for n in c.names if n], [normalize_name(a) for a in c.aliases if a]) for c in candidates
    ]
    for attempt in _query_variants(q):
        compact = attempt.replace(" ", "")
        exact = [c for c, names, _ in keyed if any(attempt == k or compact == k.replace(" ", "") for k in names)]
        if exact:
            return MatchResult(exact, [])
        tokens = attempt.split()
        partial = [
            c
            for c, names, aliases in keyed
            if attempt in aliases or any(_token_subset(tokens, k) for k in names + aliases)
        ]
        if partial:
            return MatchResult(partial, [])
    scored = sorted(
        (
            (max((_similarity(q, k) for k in names + aliases), default=0.0), i)
            for i, (c, names, aliases) in enumerate(keyed)
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if scored and scored[0][0] >= _FUZZY_CUTOFF:
        best = scored[0][0]
        return MatchResult([keyed[i][0] for s, i in scored if s >= max(best - _TIE_MARGIN, _FUZZY_CUTOFF)], [])
    suggestions = [keyed[i][0].label for s, i in scored[:3] if s >= 0.6]
    return MatchResult([], suggestions)


def _query_variants(q: str) -> list[str]:
    tokens = q.split()
    stripped = [t for t in tokens if t not in _HONORIFICS]
    return [q] + ([" ".join(stripped)] if stripped and len(stripped) < len(tokens) else [])


def pick_one(query: str, candidates: Sequence[Candidate[T]], kind: str, hint: str = "say which") -> Candidate[T]:
    """The single candidate matching `query`, or a `NoMatchError` / `AmbiguousMatchError`."""
    result = match_names(query, candidates)
    if len(result.matches) == 1:
        return result.matches[0]
    if result.matches:
        labels = [c.label for c in result.matches]
        raise AmbiguousMatchError(f"{len(labels)} {kind}s match {query!r}: {', '.join(labels)} — {hint}", labels)
    close = f"; did you mean {', '.join(result.suggestions)}?" if result.suggestions else ""
    raise NoMatchError(f"no {kind} matches {query!r}{close}")


def read_text_any_encoding(data: bytes) -> str:
    """Decode a user file for reading: UTF-8 (with or without BOM), else Windows-1252 (old exports).

    Only for showing text: a file about to be rewritten goes through `utf8_for_rewrite`.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def read_user_file(path: Path) -> bytes:
    """A file's bytes, or a `ToolError` naming the file (unreadable, vanished, a directory)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror or exc}") from None


def utf8_for_rewrite(data: bytes, path: Path, error: type[UserFileError] = UserFileError) -> tuple[int, str]:
    """(BOM length, text) of a file a tool is about to rewrite; `error` naming the file when it is not UTF-8.

    No fallback here: decoding a file that is mostly UTF-8 with one stray Windows-1252 byte
    as cp1252 and writing it back as UTF-8 garbles every accent in it ('Réunion' →
    'RÃ©union'). `text` is an exact decoding, so `bom + len(text[:i].encode())` is the
    byte offset of character `i` and the bytes around an insertion can be kept verbatim.
    """
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return bom, data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise error(
            f"{path} is not valid UTF-8 (byte 0x{data[offset]:02X} on line {line}); "
            "re-save it as UTF-8 or move it, then try again (left unchanged)"
        ) from None
