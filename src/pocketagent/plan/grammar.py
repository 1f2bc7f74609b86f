"""A GBNF grammar (llama.cpp syntax) that only lets a model write valid plans.

Given the tools a planner may call, `build_grammar` returns grammar text that accepts
the plan language (docs/plan-language.md) in its canonical layout::

    Thought: optional, one line
    1. get_email_address("Sid")
    2. compose_new_email(["$1"], [], "Hi", "", [])
    3. join()<END_OF_PLAN>

What the grammar enforces:
- exact tool names and arity, canonical separators (`", "`, one `\\n` between lines);
- the literal type of every argument; a `"$N"` string stands for a value of any type;
- action ids 1, 2, 3... in order, at most `max_actions` actions, then `join()<END_OF_PLAN>`;
- references: in action K, `$N` / `${N}` (inside any string, or as a whole argument)
  only names an action 1..K-1, so every plan the grammar accepts parses.

How: the rules are written once per action position (`step-K`, `call-K`, `string-K`...),
because a context-free grammar cannot otherwise know the current id. The text grows with
`max_actions` (about 2.3 kB per position for the 16 built-in tools, 46 kB at the default
20; llama.cpp parses that in about 3 ms per generation), but llama.cpp's per-token
sampling cost depends on the live parse stacks, not on the grammar's size. Alternatives
never overlap (`float` replaces `int | float`, `str` already covers `"$N"`), so a
position never carries duplicate stacks.

Deliberate strictness (text the parser would take but the grammar does not write):
JSON-canonical string escapes only (`\\uXXXX` only for control characters, as
`json.dumps` writes them), no `<E` inside strings or thoughts (keeps `<END_OF_PLAN>` out
of them) and no run of more than 3 `<`, `$` only as a reference or before a character
that is not a digit, `{` or `$`, and the length limits below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pocketagent.errors import PocketAgentError
from pocketagent.plan.said_days import said_days

END_OF_PLAN = "<END_OF_PLAN>"  # same text as language.END_OF_PLAN; kept literal to stay import-light
MAX_ACTIONS_LIMIT = 99  # ids stay two digits; no planner writes a longer plan
_KINDS = ("str", "int", "float", "bool", "none")
_TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Digits allowed in a number after the first one. Bounded so a small model cannot spin on
# digits until max_tokens; 20 digits hold any int64 and any float's repr().
_MORE_DIGITS = "[0-9]{0,19}"
_MAX_LT_RUN = 3  # longest run of "<" in free text; bounded to keep the grammar finite

# Rules shared by all positions. In strings, "$" never appears in `chr`: it is written by
# the per-position `piece-K` rules, which know which ids may follow it.
_SHARED_RULES = rf"""
chr ::= [^"\\<$\x00-\x1f] | esc
lt-chr ::= "<"{{1,{_MAX_LT_RUN}}} ( [^"\\<$E\x00-\x1f] | esc )
chr-nd ::= [^"\\<${{0-9\x00-\x1f] | esc | lt-chr
esc ::= "\\" ( ["\\bfnrt] | "u00" [01] [0-9a-fA-F] )
int ::= "-"? ( "0" | [1-9] {_MORE_DIGITS} )
clock ::= ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" [0-5] [0-9]
float ::= "-"? ( "0" | [1-9] {_MORE_DIGITS} ) ( "." [0-9] {_MORE_DIGITS} )? ( [eE] [-+]? [0-9]{{1,3}} )?
bool ::= "True" | "False"
none ::= "None"
"""


class GrammarBuildError(PocketAgentError):
    """The tools cannot be turned into a plan grammar (bad name, type or limit)."""


def build_grammar(
    tools: Iterable[Any],
    allow_thoughts: bool = True,
    max_actions: int = 20,
    *,
    min_actions: int = 1,
    max_list_items: int | None = 10,
    max_string_chars: int | None = 256,
    copy_from_request: bool = False,
) -> str:
    """GBNF grammar text (root rule `root`) accepting the plans these tools allow.

    Args:
        tools: objects with `.name` and `.parameters`; each parameter has `.type.kinds`
            (a tuple of "str", "int", "float", "bool", "none") and `.type.is_list`
            (e.g. `pocketagent.tools.Tool`s, or a `ToolRegistry` itself).
        allow_thoughts: allow one `Thought: ...` line before each action (and before join).
        max_actions: most tool actions before `join()` (1..99); the grammar forces `join()`
            after them. The grammar's size grows linearly with it.
        min_actions: fewest tool actions before `join()`; 1 means a plan cannot be only `join()`.
        max_list_items: most items in a list argument (None: unbounded). Small models tend
            to repeat list items forever; the bound makes them close the list.
        max_string_chars: most characters in a string or thought (a reference, an escape or
            a run of "<" with its next character count as one); None for unbounded. With
            the other bounds it makes every plan finite, but the caller must still give the
            model enough `max_tokens` to reach `join()`.
        copy_from_request: verbatim parameters (`Parameter.verbatim`) take only "", a whole
            `"$N"` or a span of the request's words (any letter case). The text then refers to
            the rule `request-span`: append `request_span_rules(request)` before using it
            (`grammar_for_request` does both).

    Raises:
        GrammarBuildError: no tools, a duplicate/invalid/reserved tool name, an unknown
            argument kind, or limits that do not fit together.
    """
    _check_limit("max_actions", max_actions, minimum=1, maximum=MAX_ACTIONS_LIMIT)
    _check_limit("min_actions", min_actions, minimum=0, maximum=max_actions)
    if max_list_items is not None:
        _check_limit("max_list_items", max_list_items, minimum=1)
    if max_string_chars is not None:
        _check_limit("max_string_chars", max_string_chars, minimum=1)

    signatures = _signatures(tools)
    lines = ["root ::= step-1", *_step_rules(allow_thoughts, max_actions, min_actions)]
    for position in range(1, max_actions + 1):
        lines += _position_rules(position, signatures, max_list_items, max_string_chars, copy_from_request)
    text = "\n".join(lines) + _SHARED_RULES
    if allow_thoughts:
        text += _thought_rule(max_string_chars)
    return text


def _check_limit(name: str, value: Any, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GrammarBuildError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise GrammarBuildError(f"{name} must be at most {maximum}, got {value!r}")


# A tool's signature for the grammar: (name, ((kinds, is_list, source), ...)); source is "" (free),
# "span" (verbatim: words of the request) or "moment" (a date on a day the request names).
_Signature = tuple[str, tuple[tuple[tuple[str, ...], bool, str], ...]]


def _signatures(tools: Iterable[Any]) -> list[_Signature]:
    """Validated (name, parameter types) of each tool, duck-typed."""
    signatures: list[_Signature] = []
    seen: set[str] = set()
    for tool in tools:
        name = getattr(tool, "name", None)
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise GrammarBuildError(f"tool name {name!r} is not a valid identifier")
        if name == "join":
            raise GrammarBuildError("'join' is reserved by the plan language and cannot be a tool")
        if name in seen:
            raise GrammarBuildError(f"tool {name!r} is given twice")
        seen.add(name)
        params = getattr(tool, "parameters", None)
        if params is None:
            raise GrammarBuildError(f"tool {name!r} has no .parameters")
        signatures.append((name, tuple(_param_type(name, param) for param in params)))
    if not signatures:
        raise GrammarBuildError("a plan grammar needs at least one tool")
    return signatures


def _param_type(tool_name: str, param: Any) -> tuple[tuple[str, ...], bool, str]:
    ptype = getattr(param, "type", None)
    kinds = getattr(ptype, "kinds", None)
    kinds = tuple(kinds) if isinstance(kinds, (tuple, list)) else ()
    if not kinds or any(kind not in _KINDS for kind in kinds):
        raise GrammarBuildError(
            f"tool {tool_name!r}, parameter {getattr(param, 'name', '?')!r}: type kinds must be a "
            f"non-empty subset of {', '.join(_KINDS)}; got {kinds!r}"
        )
    canonical = tuple(kind for kind in _KINDS if kind in kinds)  # fixed order, no duplicates
    source = ""
    if "str" in canonical and getattr(param, "verbatim", False) is True:
        source = "span"
    elif "str" in canonical and getattr(param, "moment", False) is True:
        source = "moment"
    return canonical, bool(getattr(ptype, "is_list", False)), source


def _step_rules(allow_thoughts: bool, max_actions: int, min_actions: int) -> list[str]:
    """`step-K` writes action K: a call and then step K+1, or (from min_actions+1 on) join.

    One rule per position makes ids 1, 2, 3... in order and the plan finite.
    """
    thought = "thought? " if allow_thoughts else ""
    join = '"join()' + END_OF_PLAN + '"'
    rules = []
    for k in range(1, max_actions + 2):
        options = []
        if k > min_actions:
            options.append(join)
        if k <= max_actions:
            options.append(f'call-{k} "\\n" step-{k + 1}')
        choice = options[0] if len(options) == 1 else "( " + " | ".join(options) + " )"
        rules.append(f'step-{k} ::= {thought}"{k}. " {choice}')
    return rules


def _position_rules(
    k: int, signatures: list[_Signature], max_items: int | None, max_chars: int | None, copy_from_request: bool
) -> list[str]:
    """The calls of action `k`, whose references may name actions 1..k-1 only."""
    ids = _ids_below(k)
    type_rules: dict[str, str] = {}
    call_rules: dict[str, str] = {}
    for name, params in signatures:
        args = [
            _type_rule(k, kinds, is_list, type_rules, max_items, ids is not None, source if copy_from_request else "")
            for kinds, is_list, source in params
        ]
        # Rule names allow letters, digits and "-"; the "t-" prefix keeps tools apart from our rules.
        call_rules[f"t-{name.replace('_', '-')}-{k}"] = (
            f'"{name}(" ' + ' ", " '.join(args) + ' ")"' if args else f'"{name}()"'
        )
    rules = [f"call-{k} ::= " + " | ".join(call_rules)]
    rules += [f"{rule} ::= {body}" for rule, body in {**call_rules, **type_rules}.items()]

    repeat = "*" if max_chars is None else f"{{0,{max_chars}}}"
    ref = None if ids is None else f'( {ids} | "{{" {ids} "}}" )'
    rules.append(f'string-{k} ::= "\\"" piece-{k}{repeat} ( "<"{{1,{_MAX_LT_RUN}}} | tail-{k} )? "\\""')
    if ref is None:  # action 1: "$" can only be plain text
        rules.append(f'piece-{k} ::= chr | lt-chr | "$" chr-nd')
        rules.append(f'tail-{k} ::= "$"')
    else:
        # After `$N` comes a non-digit (or the end), or the parser would read a longer id;
        # `${N}` may be followed by anything.
        rules.append(f'piece-{k} ::= chr | lt-chr | "$" ( "{{" {ids} "}}" | {ids}? chr-nd )')
        rules.append(f'tail-{k} ::= "$" {ids}?')
        if any("ref-" in body for body in type_rules.values()):
            rules.append(f'ref-{k} ::= "\\"$" {ref} "\\""')
    return rules


def _ids_below(k: int) -> str | None:
    """GBNF alternatives matching exactly the ids 1..k-1 (None for k == 1)."""
    top = k - 1
    if top < 1:
        return None
    if top <= 9:
        return f"[1-{top}]"
    tens, ones = divmod(top, 10)
    alternatives = ["[1-9]"]
    if tens > 1:
        alternatives.append(f"[1-{tens - 1}] [0-9]")
    alternatives.append(f'"{tens}" [0-{ones}]')
    return "( " + " | ".join(alternatives) + " )"


def _type_rule(
    k: int,
    kinds: tuple[str, ...],
    is_list: bool,
    type_rules: dict[str, str],
    max_items: int | None,
    has_refs: bool,
    source: str = "",
) -> str:
    """Name of the rule (in position k) for one parameter type, created on first use."""
    if source:
        scalar = _said_rule(k, kinds, type_rules, has_refs, source)
    else:
        scalar = f"string-{k}" if kinds == ("str",) else f"a-{'-'.join(kinds)}-{k}"
        if scalar not in type_rules and kinds != ("str",):
            type_rules[scalar] = " | ".join(_scalar_alternatives(k, kinds, has_refs))
    if not is_list:
        return scalar
    listed = f"a-list-{'-'.join(kinds)}-{k}" if not source else f"a-list-{source}-{k}"
    if listed not in type_rules:
        more = "*" if max_items is None else f"{{0,{max_items - 1}}}"
        type_rules[listed] = f'"[" ( {scalar} ( ", " {scalar} ){more} )? "]"'
    return listed


def _said_rule(k: int, kinds: tuple[str, ...], type_rules: dict[str, str], has_refs: bool, source: str) -> str:
    """A string from the request: "", a span of its words ("span") or a moment on one of its days
    ("moment"), or (after action 1) a whole `"$N"`; a span may also be results, `"$2 $4"`."""
    said = f"{source}-{k}"
    if source == "span":
        body = '"\\"" request-span? "\\""'
        if has_refs:
            ids = _ids_below(k)
            body += f' | ref-{k} | "\\"$" {ids} ( " $" {ids} ){{1,9}} "\\""'
    else:
        body = '"\\"" ( request-day " " clock )? "\\""' + (f" | ref-{k}" if has_refs else "")
    type_rules.setdefault(said, body)
    others = [kind for kind in kinds if kind != "str"]
    if not others:
        return said
    rule = f"a-{source}-{'-'.join(others)}-{k}"
    type_rules.setdefault(rule, " | ".join([said, *_scalar_alternatives(k, tuple(others), has_refs=False)]))
    return rule


def _scalar_alternatives(k: int, kinds: tuple[str, ...], has_refs: bool) -> list[str]:
    """Non-overlapping alternatives for a union of kinds (overlap would double parse stacks)."""
    alternatives = []
    if "str" in kinds:
        alternatives.append(f"string-{k}")  # also covers "$N"
    elif has_refs:
        alternatives.append(f"ref-{k}")  # "$N" stands for a value of any type
    if "float" in kinds:
        alternatives.append("float")  # Python and the registry accept an int for a float
    elif "int" in kinds:
        alternatives.append("int")
    alternatives += [kind for kind in ("bool", "none") if kind in kinds]
    return alternatives


def _thought_rule(max_chars: int | None) -> str:
    """One `Thought: ...` line: free text without control characters, same "<E" rule as strings."""
    repeat = "+" if max_chars is None else f"{{1,{max_chars}}}"
    return (
        f'thought ::= "Thought: " thought-chr{repeat} "<"{{0,{_MAX_LT_RUN}}} "\\n"\n'
        f'thought-chr ::= [^\\x00-\\x1f<] | "<"{{1,{_MAX_LT_RUN}}} [^\\x00-\\x1f<E]\n'
    )


# Punctuation that ends a span at a word's edge ("at 1 Market St," -> "1 Market St").
_LEADING_PUNCT = "\"'“‘(["
_TRAILING_PUNCT = ",.;:!?\"'”’)]"
# Characters a span cannot hold: they would need escapes, could start a reference or `<END`.
_SPAN_BREAKERS = re.compile(r'["\\<$\x00-\x1f]')


def request_span_rules(request: str) -> str:
    """GBNF rules for `request-span`: any run of the request's words (first letters in either case).

    A span starts and ends at word edges; punctuation at its outer edges is left out
    ("St," gives "St", '"call' gives "call") while punctuation inside it stays ("re: water").
    Characters a plan string would have to escape (quotes, backslashes, `$`, `<`) never get
    into a span. Linear in the request's length: per word, one rule for a span going on
    there (`rm-i`) and, when the word has leading punctuation, one for a span starting there.
    """
    words = request.split()
    rules: list[str] = []
    starts: list[str] = []
    goes_on: str | None = None  # the rule of the word after this one, if a span can go on there
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        middle = _span_alternatives(word, goes_on)
        lead = word.lstrip(_LEADING_PUNCT)
        start = middle if lead == word else _span_alternatives(lead, goes_on)
        if middle:
            rules.append(f"rm-{i} ::= {middle}")
        if start and start == middle:
            starts.append(f"rm-{i}")
        elif start:
            rules.append(f"rs-{i} ::= {start}")
            starts.append(f"rs-{i}")
        goes_on = f"rm-{i}" if middle else None
    if not starts:  # nothing to copy from: any short text
        return "request-span ::= chr{1,64}\n"
    return "\n".join([f"request-span ::= {' | '.join(reversed(starts))}", *reversed(rules)]) + "\n"


def _span_alternatives(text: str, next_rule: str | None) -> str:
    """`text` ending the span (without trailing punctuation) and/or going on to `next_rule`."""
    ending = text.rstrip(_TRAILING_PUNCT)
    can_end = bool(ending) and not _SPAN_BREAKERS.search(ending)
    can_go_on = next_rule is not None and bool(text) and not _SPAN_BREAKERS.search(text)
    if can_end and can_go_on and ending == text:
        return f'{_any_case(text)} ( " " {next_rule} )?'
    options = []
    if can_end:
        options.append(_any_case(ending))
    if can_go_on:
        options.append(f'{_any_case(text)} " " {next_rule}')
    return " | ".join(options)


def _any_case(text: str) -> str:
    """GBNF matching `text` as said or with its first letter's case changed ("sid" -> [sS] "id").

    Only the first letter: the model may capitalise a name the user typed in lower case, but
    not write "ItiNerAry".
    """
    first, rest = text[:1], text[1:]
    lower, upper = first.lower(), first.upper()
    head = f"[{lower}{upper}]" if lower != upper and len(lower) == 1 and len(upper) == 1 else f'"{first}"'
    return f'{head} "{rest}"' if rest else head


def request_day_rules(days: Iterable[date] | None) -> str:
    """GBNF rule `request-day`: one of `days` as "YYYY-MM-DD", or any valid-looking date for None."""
    chosen = sorted(set(days or ()))
    if not chosen:
        return 'request-day ::= [0-9] [0-9] [0-9] [0-9] "-" ( "0" [1-9] | "1" [0-2] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] )\n'
    return "request-day ::= " + " | ".join(f'"{day.isoformat()}"' for day in chosen) + "\n"


def grammar_for_request(grammar: str, request: str, now: datetime | None = None) -> str:
    """A grammar built with `copy_from_request=True`, completed with the request's spans and days.

    Any other grammar comes back unchanged. With no request, verbatim arguments take short free
    text; without `now` (or when the request's days cannot all be told), dates take any day.
    """
    if "request-span" in grammar:
        grammar += request_span_rules(request)
    if "request-day" in grammar:
        grammar += request_day_rules(said_days(request, now) if now is not None else None)
    return grammar


def continuation_grammar(
    grammar: str, position: int, tools: Iterable[str], *, or_join: bool = False, then: Iterable[str] = ()
) -> str | None:
    """`grammar` made to continue a plan at action `position` with a call to one of `tools`.

    The caller prefills the plan so far and `"{position}. "`; after the forced call the plan
    goes on as usual (more actions or `join()`). With `or_join` the plan may also end there
    (used when an action was taken out and the model writes what comes instead); with `then`
    the action after it is also forced, a call to one of those. None when the grammar has no
    such call there.
    """
    calls = [f"t-{name.replace('_', '-')}-{position}" for name in tools]
    calls = [rule for rule in calls if f"\n{rule} ::= " in grammar]
    root = "root ::= step-1\n"
    if not calls or not grammar.startswith(root) or f"\nstep-{position + 1} ::= " not in grammar:
        return None
    forced = f'( {" | ".join(calls)} ) "\\n" step-{position + 1}'
    after = [f"t-{name.replace('_', '-')}-{position + 1}" for name in then]
    after = [rule for rule in after if f"\n{rule} ::= " in grammar]
    if after and f"\nstep-{position + 2} ::= " in grammar:
        forced = f'( {" | ".join(calls)} ) "\\n{position + 1}. " ( {" | ".join(after)} ) "\\n" step-{position + 2}'
    if or_join:
        forced = f'( "join(){END_OF_PLAN}" | {forced} )'
    return f"root ::= {forced}\n" + grammar[len(root) :]
