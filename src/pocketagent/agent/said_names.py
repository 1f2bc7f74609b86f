"""Who a request names, read off its words: lists of people, who is on cc, who a text goes to.

No model and no plan: these read the request as a person types it ("text grace", "Ayşe, Jan, and
Nkechi", "keep Shirin in the loop"). `known` holds the folded words of names the plan already
looked up, so that a lowercase name counts once the model has recognised it. `agent.said_people`
checks a plan against what these find.
"""

from __future__ import annotations

import re

from pocketagent.agent.said_repairs import REPLYING, cc_spans
from pocketagent.text import normalize_name

# Words after "text" that are a clause's recipients only by reference: the model's set stands.
INDIRECT_WORDS = frozenset(
    "them him her both everyone everybody all us me my the a an his their our your back this that it "
    "i im ill id ive".split()
)
# "text" as a verb: not "a text", "the text", "by text", "via text", "in a text", "texts".
_TEXT_VERB = re.compile(
    r"(?<!\ba )(?<!\bthe )(?<!\bby )(?<!\bvia )(?<!\bover )(?<!\bin )\b(?:group\s+)?(?:text|txt|sms|imessage)\b"
    r"(?:\s+(?:a\s+)?message)?(?:\s+to\b)?",
    re.IGNORECASE,
)
# "send Mo a text", "shoot Ana and Bo a quick text", "message Ana": the names come before or after.
_SEND_A_TEXT = re.compile(
    r"\b(?:send|shoot|drop|fire off)\s+(?P<names>.+?)\s+an?\s+(?:quick\s+|short\s+)?(?:text|sms)\b", re.IGNORECASE
)
_MESSAGE_VERB = re.compile(r"(?:^|(?<=[\s,;:]))message(?=\s+[A-ZÀ-ÖØ-Þ])")
_CONNECTOR = re.compile(r"^(?:,|and|&|\+|or|plus)$", re.IGNORECASE)
_TOKEN = re.compile(r"[\w'’\-.]+|[,&+]")
# A request that asks for a number itself wants the phone lookup, whoever it names.
_WANTS_NUMBER = re.compile(r"\b(?:phone|number|numbers|cell|mobile|digits|call|ring)\b", re.IGNORECASE)
# What an email can send as a file ("the offsite agenda", "my transcript", "the budget pdf").
_FILE_WORDS = (
    r"pdfs?|decks?|slides?|spreadsheets?|sheets?|docs?|documents?|agendas?|contracts?|ndas?|invoices?|receipts?|"
    r"reports?|handbooks?|itinerar(?:y|ies)|transcripts?|resumes?|résumés?|cvs?|photos?|pictures?|minutes|"
    r"proposals?|files?|letters?|brochures?|menus?|forms?|presentations?|memos?|budgets?|policy|policies|manuals?|"
    r"guides?|scans?|certificates?|statements?|tickets?|boarding pass(?:es)?|paperwork|specs?|schedules?"
)
_SENDS_A_FILE = re.compile(
    r"\b(?:email|e-mail|mail|send|shoot|forward)\b(?P<between>(?:\s+[^\s,.;:!?]+){0,5}?)\s+(?:the|my|our|this|these|"
    rf"those)\s+(?:[^\s,.;:!?]+\s+){{0,3}}?(?:{_FILE_WORDS})\b|\battach(?:ed|ing)?\b",
    re.IGNORECASE,
)
# Between "email" and the file: words that make the file what the email is about, not what it sends.
_ABOUT = re.compile(r"\b(?:that|saying|asking|ask|about|if|whether|to|re|regarding|on)\b", re.IGNORECASE)

# Between a reply and a cc: a new message the cc belongs to ("the email" the reply answers is none).
_NEW_MESSAGE = re.compile(r"\b(?:e-?mail|mail|forward|fwd|text|txt|sms|invite|compose|send|write to)\b", re.IGNORECASE)
_THE_EMAIL = re.compile(r"\b(?:the|this|that|my)\s+(?:e-?mail|mail|message)\b", re.IGNORECASE)
# Words of a request as lists of people are read: names (with "Dr." and "O'Neil"), addresses and
# numbers, the connectors, and punctuation that ends a list.
_LIST_TOKEN = re.compile(r"[\w'’\-.@+]*[\w@]\.?|[,&+:;!?()\"“”]")
_CONJUNCTION = re.compile(r"^(?:and|&|\+|plus)$", re.IGNORECASE)
TITLES = frozenset("dr mr mrs ms mx prof st".split())
# Capitalised words that are never a person in a list ("Ana and Bo Friday", "Ana and Bo. Thanks").
_NOT_A_NAME = frozenset(
    "the a an please pls thanks thank also then can could would will hi hey ok okay dear cc bcc re fwd zoom pdf "
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "today tonight tomorrow january february march july september october november december feb mar apr jun jul "
    "aug sep sept oct nov dec".split()
)  # not "Jan", "May", "June", "April" or "August": people are called that



def _names_at(text: str, known: set[str]) -> tuple[list[str], bool]:
    """The names at the start of `text` ("Grace and Tomás that ...": [Grace, Tomás]), and whether
    they take all of it.

    A word is a name when it starts upper case or is a word of a name the plan already looked up
    (people type "text grace"); names end at the first other word or at a full stop.
    """
    names: list[str] = []
    current: list[str] = []
    tokens = _TOKEN.findall(text)
    used = 0
    for token in tokens:
        word = token.rstrip(".")
        if _CONNECTOR.match(word):
            if not current:
                if names and used and tokens[used - 1] == "," and word != ",":
                    used += 1  # the serial comma: "Ana, Bo, and Cy"
                    continue
                break
            names.append(" ".join(current))
            current = []
            used += 1
            continue
        folded = normalize_name(word)
        if not folded or folded in INDIRECT_WORDS or not (word[:1].isupper() or folded in known):
            break
        current.append(word)
        used += 1
        if token.endswith("."):
            break
    if current:
        names.append(" ".join(current))
    return names, used == len(tokens)


def is_literal(token: str) -> bool:
    """An address or a number written in a list of people ("booking@alpenhof.at", "617-555-0187")."""
    return "@" in token or sum(ch.isdigit() for ch in token) >= 3


def _people_runs(text: str, known: set[str]) -> list[tuple[list[str], bool, int]]:
    """Each run of people in `text`: (the people, whether an "and" joins them, the token it starts at).

    A person is one or more words that start upper case or are `known` (the folded words of names
    the plan looked up: people type "text grace"), or an address or number; people are joined by
    commas, "and", "&", "+" or "plus". A run ends at any other word and at a full stop, colon or
    the like.
    """
    tokens = _LIST_TOKEN.findall(text)
    runs: list[tuple[list[str], bool, int]] = []
    members: list[str] = []
    current: list[str] = []
    joined = False  # an "and" among the members
    begun = 0

    def close_run(at: int) -> None:
        nonlocal members, current, joined, begun
        if current:
            members.append(" ".join(current))
        if members:
            runs.append((members, joined, begun))
        members, current, joined, begun = [], [], False, at + 1

    previous = ""
    for at, token in enumerate(tokens):
        word = token.rstrip(".")
        folded = normalize_name(word)
        if folded in TITLES:
            word = token  # "Dr." keeps its full stop
        after, previous = previous, token
        if token == "," or _CONJUNCTION.match(token):
            if not current:
                if members and after == "," and token != ",":
                    joined = True  # the serial comma: "A, B, and C"
                else:
                    close_run(at)  # two connectors in a row, or one before any name
                continue
            members.append(" ".join(current))
            current = []
            joined = joined or token != ","
            continue
        person = is_literal(word) or (
            bool(folded)
            and folded not in INDIRECT_WORDS
            and folded not in _NOT_A_NAME
            and (word[:1].isupper() or folded in known)
        )
        if not person:
            close_run(at)
            continue
        current.append(word)
        if token.endswith(".") and folded not in TITLES and not is_literal(word):
            close_run(at)  # "... and Cy. Then" ends there
    close_run(len(tokens))
    return runs


def said_lists(request: str, known: set[str]) -> list[list[str]]:
    """The lists of people the request says, as written: "Ayşe, Jan, and Nkechi" → [Ayşe, Jan, Nkechi].

    A list is two or more people (see `_people_runs`) with an "and" (or "&", "+", "plus") among them.
    """
    return [members for members, joined, _ in _people_runs(request, known) if len(members) >= 2 and joined]


def said_cc(request: str, known: set[str]) -> tuple[int, list[str]] | None:
    """Where the request's one cc is and who is on it ("..., cc Abby and team@x.dev"); None when
    the request puts nobody on cc by name, or has more than one cc (whose is which is unclear)."""
    spans = cc_spans(request)
    if len(spans) != 1 or (at := request.find(spans[0])) < 0:
        return None
    people = _cc_people(spans[0], known)
    return None if people is None else (at, people)


def _cc_people(span: str, known: set[str]) -> list[str] | None:
    """The people a cc span starts with; None when it does not start with people ("copy of this
    email") or is cut at a title's full stop ("cc Dr. Adeyemi.")."""
    runs = _people_runs(span, known)
    if not runs or runs[0][2] != 0 or any(normalize_name(member) in TITLES for member in runs[0][0]):
        return None
    return runs[0][0]


def said_reply_cc(request: str, known: set[str]) -> list[str] | None:
    """Who the request puts on its reply's cc ("reply saying count me in, keep Shirin in the loop"):
    the people of a cc said after a reply with no other message between; None when no cc is the
    reply's, or more than one is."""
    found: list[list[str]] = []
    for span in cc_spans(request):
        at = request.find(span)
        replies = list(REPLYING.finditer(request, 0, max(at, 0)))
        if at < 0 or not replies:
            continue
        between = _THE_EMAIL.sub(" ", request[replies[-1].end() : at])
        if _NEW_MESSAGE.search(between):
            continue  # "reply ..., and email Bo, cc Cy": the cc is the new email's
        if (people := _cc_people(span, known)) is not None:
            found.append(people)
    return found[0] if len(found) == 1 else None


def asks_for_a_number(request: str) -> bool:
    """Whether the request asks for a phone number itself ("what's Lars's number", "call Ana")."""
    return _WANTS_NUMBER.search(request) is not None


def sends_a_file(request: str) -> str | None:
    """Where the request has an email send a file ("email Grace the offsite agenda", "reply with
    the itinerary attached"), as written; None when it sends none ("email Ana about the budget")."""
    for match in _SENDS_A_FILE.finditer(request):
        if not _ABOUT.search(match.group("between") or ""):
            return match.group(0)
    return None


def texted_names(request: str, known: set[str] | None = None) -> list[str] | None:
    """The people the request's text messages go to, by name; None when some text names nobody.

    `known` holds the folded words of names the plan already looked up. None means "the request
    does not say who by name" ("text them the link", "text my brother", or no text at all).
    """
    known = known or set()
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _SEND_A_TEXT.finditer(request):
        names, whole = _names_at(match.group("names"), known)
        if not names or not whole:
            return None
        found += names
        spans.append(match.span())
    for match in [*_TEXT_VERB.finditer(request), *_MESSAGE_VERB.finditer(request)]:
        if any(start <= match.start() < end for start, end in spans):
            continue
        names, _ = _names_at(request[match.end() :], known)
        if not names:
            return None
        found += names
    return found or None
