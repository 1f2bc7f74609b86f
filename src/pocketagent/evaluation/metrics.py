"""Plan metrics: the paper's success, a strict variant that compares arguments, tool selection
scores and graph edit distance.

`plan_success` is TinyAgent's metric (plan-language.md section 4): each plan becomes a DAG,
one node per tool action (``join()`` is left out on both sides), one edge per ``$N``
reference. A prediction succeeds when the two DAGs are isomorphic with nodes matching on
the tool name *and* on the node's dependency tree (the tool names of everything it
depends on, recursively, as an unordered tree), as TinyAgent's ``node_match`` does.
Arguments do not count.

`strict_success` additionally requires the arguments to agree under one of those
isomorphisms. Each argument is turned into a comparison key by the rules below; two
actions agree when their keys are equal position by position.

Normalization rules of the strict metric (applied to both sides alike):

1. Not applicable: ``None``, a string that is empty or only whitespace/punctuation, and
   ``[]`` are all the same value ("not applicable" in the contract is written with any of
   them).
2. ``$N`` references: a predicted reference is replaced by the reference action its node
   maps to under the isomorphism (predicted ``"$3"`` equals reference ``"$2"`` when node 3
   maps to node 2). A string made only of references (and spaces/punctuation), like
   ``"$2 $4"``, is compared as a multiset of references. A string mixing text and
   references (``"Summary: $2"``) is compared as a sequence of text pieces (normalized
   as in rule 4) and mapped references.
3. Dates: a string that parses as a date/time on both sides is compared as a `datetime`.
   Accepted: ``YYYY-MM-DD[ HH:MM[:SS]]`` (also with ``T`` or ``/``), ``MM/DD/YYYY[ HH:MM[:SS]]``,
   ``MM/DD/YYYY H[:MM] am/pm`` and month names (``November 24, 2026 3:30 PM``,
   ``24 November 2026 15:30``). A date alone means midnight. When ``now`` is given, a bare time
   (``15:30``, ``3:30 pm``, ``3pm``) means that time on ``now``'s day, and ``today``/``tomorrow``
   [at TIME] resolve from ``now``.
4. Other strings: Unicode NFKC, casefolded, apostrophes inside words removed
   (``don't`` = ``dont``), hyphens/underscores/slashes inside words read as spaces,
   punctuation at both ends of every word stripped, whitespace collapsed. Other inner
   punctuation stays (``sid@example.com``, ``3:30``). Accents stay (``Tío`` != ``Tio``).
5. Numbers: ints and floats compare by value (``60 == 60.0``); for a parameter the registry
   types as a number, a numeric string counts as that number (``"60" == 60``). Booleans
   only equal booleans.
6. Lists: for a list parameter of a known tool (the built-ins' recipients, cc, invitees,
   attachments, meeting_invitees) order has no meaning, so lists compare as multisets of
   item keys. For unknown tools (user tools) lists compare in order.
7. Arity: actions with different argument counts never agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import networkx as nx
from networkx.algorithms.isomorphism import DiGraphMatcher

from pocketagent.plan.graph import plan_graph
from pocketagent.plan.language import REFERENCE, Plan, Value
from pocketagent.tools.registry import ParamType, ToolRegistry

# Isomorphisms tried per pair before strict matching gives up. Plans with many identical
# parallel actions have factorially many isomorphisms; argument pre-filtering keeps the real
# count tiny, this only guarantees termination.
MAX_ISOMORPHISMS = 10_000

# Graph edit distance is exponential in the worst case; this bounds it per pair.
DEFAULT_EDIT_DISTANCE_TIMEOUT_S = 1.0


# --------------------------------------------------------------------------- success


def dependency_trees(plan: Plan) -> dict[int, tuple[Any, ...]]:
    """Each tool action's dependency tree in canonical form: ``(tool, sorted(child trees))``.

    Children are the actions it references directly; sorting makes the tree unordered, so two
    nodes have equal trees exactly when their (recursive) dependency structures match by
    tool name, as TinyAgent's ``node_match`` compares them.
    """
    trees: dict[int, tuple[Any, ...]] = {}
    for action in plan.tool_actions:  # dependencies always come earlier, so they are ready
        children = sorted(trees[dep] for dep in action.dependencies if dep in trees)
        trees[action.id] = (action.tool, tuple(children))
    return trees


def _labelled_graph(plan: Plan) -> nx.DiGraph[int]:
    """The plan's DAG without join, nodes carrying `tool`, `args` and `tree` attributes."""
    graph = plan_graph(plan, include_join=False)
    for node_id, tree in dependency_trees(plan).items():
        graph.nodes[node_id]["tree"] = tree
    return graph


def _same_tool_and_tree(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return bool(a["tool"] == b["tool"] and a["tree"] == b["tree"])


def plan_success(pred: Plan, ref: Plan) -> bool:
    """TinyAgent's success: the plans' DAGs (join excluded) are isomorphic with matching tools
    and dependency trees. Arguments are ignored."""
    if sorted(a.tool for a in pred.tool_actions) != sorted(a.tool for a in ref.tool_actions):
        return False  # cheap necessary condition
    return nx.is_isomorphic(_labelled_graph(pred), _labelled_graph(ref), node_match=_same_tool_and_tree)


# --------------------------------------------------------------------------- strict


@lru_cache(maxsize=1)
def _builtin_registry() -> ToolRegistry:
    # Imported lazily: only the strict metric needs the tool signatures.
    from pocketagent.tools import builtin_registry

    return builtin_registry()


_APOSTROPHES = re.compile(r"['\u2019\u2018`\u02bc]")
_WORD_JOINERS = re.compile(r"[-_/\u2010-\u2015]")


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def normalize_text(text: str) -> str:
    """Rule 4: NFKC, casefold, drop inner apostrophes, split on hyphens/underscores/slashes,
    strip punctuation at both ends of every word, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _APOSTROPHES.sub("", text)
    text = _WORD_JOINERS.sub(" ", text)
    words = []
    for word in text.split():
        start, end = 0, len(word)
        while start < end and _is_punctuation(word[start]):
            start += 1
        while end > start and _is_punctuation(word[end - 1]):
            end -= 1
        if start < end:
            words.append(word[start:end])
    return " ".join(words)


_ISO_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+(.+))?$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?$")
_RELATIVE_DAY = re.compile(r"^(today|tomorrow)(?:\s*(?:at\s+)?(.+))?$")
_MONTH_FORMATS = (
    "%B %d %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
)


def _parse_time(text: str) -> tuple[int, int, int] | None:
    """(hour, minute, second) from ``15:30``, ``15:30:00``, ``3:30 pm``, ``3pm``; None if not a time."""
    match = _TIME.match(text.strip().casefold())
    if not match:
        return None
    hour, minute, second, meridiem = match.groups()
    if minute is None and meridiem is None:
        return None  # a lone number is not a time
    h, m, s = int(hour), int(minute or 0), int(second or 0)
    if meridiem:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if meridiem.startswith("p") else 0)
    if h > 23 or m > 59 or s > 59:
        return None
    return h, m, s


def _month_name_date(text: str) -> datetime | None:
    """``November 24, 2026[,] [at] 3:30 PM`` or ``24 Nov 2026 15:30``."""
    words = text.replace(",", " ").split()
    if len(words) < 3:
        return None
    day_part, time_part = " ".join(words[:3]), " ".join(w for w in words[3:] if w != "at")
    for fmt in _MONTH_FORMATS:
        try:
            day = datetime.strptime(day_part, fmt)
        except ValueError:
            continue
        if not time_part:
            return day
        clock = _parse_time(time_part)
        return day.replace(hour=clock[0], minute=clock[1], second=clock[2]) if clock else None
    return None


def parse_lenient_datetime(text: str, now: datetime | None = None) -> datetime | None:
    """Rule 3: the datetime a date-like string means, or None if it is not one.

    Lenient, for comparing plan arguments: ISO and US dates, month names and (given `now`)
    relative days all count. Tool input is parsed strictly by `backends.dates.parse_tool_datetime`.
    """
    text = " ".join(text.strip().split())
    try:
        match = _ISO_DATE.match(text)
        if match:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
            return datetime(y, mo, d, h, mi, s)
        match = _US_DATE.match(text)
        if match:
            mo, d, y = int(match.group(1)), int(match.group(2)), int(match.group(3))
            day = datetime(y, mo, d)
            if match.group(4) is None:
                return day
            clock = _parse_time(match.group(4))
            return day.replace(hour=clock[0], minute=clock[1], second=clock[2]) if clock else None
    except ValueError:  # month 13, day 31 of a short month...
        return None
    named = _month_name_date(text)
    if named is not None or now is None:
        return named
    lowered = text.casefold()
    match = _RELATIVE_DAY.match(lowered)
    if match:
        base = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if match.group(1) == "tomorrow":
            base += timedelta(days=1)
        if match.group(2) is None:
            return base
        clock = _parse_time(match.group(2))
        return base.replace(hour=clock[0], minute=clock[1], second=clock[2]) if clock else None
    clock = _parse_time(lowered)
    if clock:
        return now.replace(hour=clock[0], minute=clock[1], second=clock[2], microsecond=0)
    return None


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_EMPTY_KEY: tuple[Any, ...] = ("empty",)

RefMapper = Callable[[int], "int | None"]


def _wildcard(_ref: int) -> int | None:
    """Every reference looks the same: used to pre-filter node pairs before a mapping exists."""
    return None


def _identity(ref: int) -> int:
    return ref


@dataclass(frozen=True)
class ArgumentKeys:
    """Turns arguments into comparison keys by the module's normalization rules.

    `registry` gives the parameter types (which lists are unordered, which parameters are
    numeric); tools it does not know fall back to order-sensitive lists and no coercion.
    """

    registry: ToolRegistry
    now: datetime | None = None

    def action_key(self, tool: str, args: Sequence[Value], refs: RefMapper) -> tuple[Any, ...]:
        """Key of a whole call: equal keys mean the calls agree."""
        params = self.registry.get(tool).parameters if tool in self.registry else ()
        keys = []
        for index, value in enumerate(args):
            param_type = params[index].type if index < len(params) else None
            keys.append(self.value_key(value, param_type, refs))
        return (len(args), tuple(keys))

    def value_key(self, value: Value, param_type: ParamType | None, refs: RefMapper) -> Any:
        """Key of one argument; `refs` maps a predicted reference id to the reference plan's id."""
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            return _EMPTY_KEY
        if isinstance(value, list):
            items = [self._scalar_key(item, param_type, refs) for item in value]
            if param_type is not None and param_type.is_list:
                return ("bag", frozenset(Counter(items).items()))
            return ("seq", tuple(items))
        return self._scalar_key(value, param_type, refs)

    def _scalar_key(self, value: Any, param_type: ParamType | None, refs: RefMapper) -> Any:
        if value is None:
            return _EMPTY_KEY
        if isinstance(value, bool):
            return ("bool", value)
        if isinstance(value, (int, float)):
            return ("num", float(value))
        if isinstance(value, list):  # nested lists cannot be parsed; kept total for safety
            return ("seq", tuple(self._scalar_key(v, None, refs) for v in value))
        return self._string_key(str(value), param_type, refs)

    def _string_key(self, text: str, param_type: ParamType | None, refs: RefMapper) -> Any:
        numeric = param_type is not None and bool({"int", "float"} & set(param_type.kinds))
        if numeric and _NUMBER.match(text.strip()):
            return ("num", float(text))
        pieces = REFERENCE.split(text)  # text, ref, ref-braced, text, ...
        texts = [normalize_text(pieces[i]) for i in range(0, len(pieces), 3)]
        ids = [int(pieces[i] or pieces[i + 1]) for i in range(1, len(pieces), 3)]
        if ids and not any(texts):
            return ("refs", frozenset(Counter(refs(i) for i in ids).items()))
        if not ids:
            when = parse_lenient_datetime(text, self.now)
            if when is not None:
                return ("date", when)
            return ("text", texts[0]) if texts[0] else _EMPTY_KEY
        mixed: list[Any] = [texts[0]]
        for ref_id, after in zip(ids, texts[1:]):
            mixed += [("ref", refs(ref_id)), after]
        return ("mixed", tuple(mixed))


def strict_success(
    pred: Plan,
    ref: Plan,
    now: datetime | None = None,
    registry: ToolRegistry | None = None,
) -> bool:
    """`plan_success` and, under at least one isomorphism, every action's arguments agree.

    `now` resolves relative dates (rule 3); `registry` gives parameter types (default: the
    16 built-in tools).
    """
    if not plan_success(pred, ref):
        return False
    keys = ArgumentKeys(registry if registry is not None else _builtin_registry(), now)
    pred_graph, ref_graph = _labelled_graph(pred), _labelled_graph(ref)
    # A node pair can only match if its arguments agree with references left unresolved;
    # this prunes almost every wrong mapping before whole mappings are tried.
    for graph in (pred_graph, ref_graph):
        for node_id, data in graph.nodes(data=True):
            data["loose"] = keys.action_key(data["tool"], data["args"], _wildcard)

    def loose_match(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        return _same_tool_and_tree(a, b) and a["loose"] == b["loose"]

    ref_keys = {
        node_id: keys.action_key(data["tool"], data["args"], _identity) for node_id, data in ref_graph.nodes(data=True)
    }
    matcher = DiGraphMatcher(pred_graph, ref_graph, node_match=loose_match)
    for tried, mapping in enumerate(matcher.isomorphisms_iter()):
        if tried >= MAX_ISOMORPHISMS:
            break
        if all(
            keys.action_key(data["tool"], data["args"], mapping.get) == ref_keys[mapping[node_id]]
            for node_id, data in pred_graph.nodes(data=True)
        ):
            return True
    return False


# --------------------------------------------------------------------------- tool selection


@dataclass(frozen=True)
class ToolScore:
    """Tool-selection counts for one tool over a dataset (multisets of names per item)."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float | None:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.support if self.support else None

    @property
    def support(self) -> int:
        """How many times the reference plans call the tool."""
        return self.true_positives + self.false_negatives

    def to_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "support": self.support}


def tool_selection_scores(pairs: Iterable[tuple[Sequence[str], Sequence[str]]]) -> dict[str, ToolScore]:
    """Per-tool counts from (predicted tool names, reference tool names) per item.

    Each item's names are multisets: calling a tool twice where the reference calls it once
    is one true positive and one false positive. An item without a predicted plan passes
    an empty prediction, so all its reference tools are false negatives. Precision/recall
    are None where undefined (never predicted / never in a reference).
    """
    totals: dict[str, list[int]] = {}
    for predicted, reference in pairs:
        pred_counts, ref_counts = Counter(predicted), Counter(reference)
        for tool in pred_counts.keys() | ref_counts.keys():
            hit = min(pred_counts[tool], ref_counts[tool])
            row = totals.setdefault(tool, [0, 0, 0])
            row[0] += hit
            row[1] += pred_counts[tool] - hit
            row[2] += ref_counts[tool] - hit
    return {tool: ToolScore(*totals[tool]) for tool in sorted(totals)}


def overall_tool_score(scores: Mapping[str, ToolScore]) -> ToolScore:
    """Micro-averaged counts over all tools."""
    return ToolScore(
        sum(s.true_positives for s in scores.values()),
        sum(s.false_positives for s in scores.values()),
        sum(s.false_negatives for s in scores.values()),
    )


def tool_names(plan: Plan | None) -> list[str]:
    """Tool names of a plan's actions in plan order (join excluded); [] for no plan."""
    return [a.tool for a in plan.tool_actions] if plan is not None else []


# --------------------------------------------------------------------------- edit distance


def plan_edit_distance(
    pred: Plan, ref: Plan, timeout_s: float | None = DEFAULT_EDIT_DISTANCE_TIMEOUT_S
) -> float | None:
    """Graph edit distance between the plans' DAGs (join excluded), nodes matching on tool name.

    Each node or edge insertion/deletion costs 1; relabelling a node costs 1. With a
    timeout the result is the best found so far (an upper bound) and None if none was found.
    networkx computes it with scipy; without scipy installed the result is None.
    """
    pred_graph, ref_graph = plan_graph(pred), plan_graph(ref)
    try:
        distance = nx.graph_edit_distance(
            pred_graph,
            ref_graph,
            node_match=lambda a, b: a["tool"] == b["tool"],
            timeout=timeout_s,
        )
    except ImportError:  # scipy is optional; the metric is a diagnostic, not a score
        return None
    return float(distance) if distance is not None else None
