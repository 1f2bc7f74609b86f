"""Sanity checks for (request, plan) examples, shared by every generator and by `datagen check`.

`check_example` looks at one example and returns the first problem as a `Reason` (or None):
record shape, plan syntax, ids, `$N` references (valid, not forward, acyclic), join last,
tools exist, arity and literal types (`ToolRegistry.validate_action`), value formats, and the
planning conventions of docs/plan-language.md and data/handwritten-README.md:
lookup before messaging unless an address/number is given, one lookup per person, one
`send_sms` for several recipients, `summarize_pdf` / attachments take `$N` from
`open_and_get_file_path`, dates not in the past, end after start.

`DatasetChecker` adds the set-level checks: exact and near-duplicate requests, requests that
leak from a held-out set (the hand-written eval), and leakage between splits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

import networkx as nx

from pocketagent.data.dedup import NearDuplicateIndex
from pocketagent.data.example import Example, tools_of
from pocketagent.errors import PlanParseError, ToolArgumentError, UnknownToolError
from pocketagent.phones import looks_like_phone_number
from pocketagent.plan.language import END_OF_PLAN, JOIN, REFERENCE, Plan, parse_arguments, parse_plan, references_in
from pocketagent.text import fold_accents
from pocketagent.timefmt import NOW_FORMAT
from pocketagent.tools.registry import ToolRegistry


class Reason(str, Enum):
    """Why an example was rejected; the value is the code used in reports and the card."""

    EMPTY_QUERY = "empty_query"
    BAD_NOW = "bad_now"
    PARSE_ERROR = "parse_error"
    BAD_ACTION_IDS = "bad_action_ids"
    MISSING_JOIN = "missing_join"
    JOIN_NOT_LAST = "join_not_last"
    EMPTY_PLAN = "empty_plan"
    BAD_REFERENCE = "bad_reference"
    FORWARD_REFERENCE = "forward_reference"
    CYCLIC_REFERENCE = "cyclic_reference"
    UNKNOWN_TOOL = "unknown_tool"
    BAD_ARGUMENTS = "bad_arguments"
    BAD_DATE = "bad_date_format"
    DATE_IN_PAST = "date_in_past"
    END_BEFORE_START = "end_before_start"
    BAD_VALUE = "bad_value"
    MISSING_LOOKUP = "missing_lookup"
    WRONG_LOOKUP = "wrong_lookup_kind"
    MULTI_PERSON_LOOKUP = "multi_person_lookup"
    NAME_NOT_IN_QUERY = "name_not_in_query"
    SPLIT_SMS = "split_sms"
    SUMMARIZE_WITHOUT_FILE = "summarize_without_file"
    ATTACHMENT_WITHOUT_FILE = "attachment_without_file"
    TOOLS_MISMATCH = "tools_field_mismatch"
    DUPLICATE = "duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    HOLDOUT_LEAK = "holdout_leak"
    SPLIT_LEAK = "split_leak"


@dataclass(frozen=True)
class Rejection:
    """A rejected example, why, and a human-readable detail."""

    example_id: str
    reason: Reason
    detail: str = ""


@dataclass(frozen=True)
class Conventions:
    """Which tool arguments hold what, for the convention checks (positions are 0-based).

    The defaults describe the 16 built-in tools; a user tool set can pass its own (tools
    not named here get only the generic checks).
    """

    email_fields: dict[str, tuple[int, ...]] = field(
        default_factory=lambda: {
            "compose_new_email": (0, 1),
            "reply_to_email": (0,),
            "forward_email": (0, 1),
            "create_calendar_event": (4,),
            "get_zoom_meeting_link": (3,),
        }
    )
    phone_fields: dict[str, tuple[int, ...]] = field(default_factory=lambda: {"send_sms": (0,)})
    attachment_fields: dict[str, int] = field(
        default_factory=lambda: {"compose_new_email": 4, "reply_to_email": 2, "forward_email": 3}
    )
    date_fields: dict[str, tuple[int, ...]] = field(
        default_factory=lambda: {
            "create_calendar_event": (1, 2),
            "get_zoom_meeting_link": (1,),
            "create_reminder": (1,),
        }
    )
    start_end: dict[str, tuple[int, int]] = field(default_factory=lambda: {"create_calendar_event": (1, 2)})
    allowed_values: dict[tuple[str, int], frozenset[object]] = field(
        default_factory=lambda: {
            ("maps_show_directions", 2): frozenset("dwr"),
            ("create_reminder", 4): frozenset({0, 1, 5, 9}),
        }
    )
    email_lookup: str = "get_email_address"
    phone_lookup: str = "get_phone_number"
    file_opener: str = "open_and_get_file_path"
    summarizer: str = "summarize_pdf"
    sms_tool: str = "send_sms"


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_LENIENT_ACTION = re.compile(r"^\s*(\d+)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", re.DOTALL)
_THOUGHT = re.compile(r"^\s*Thought\s*:")
_MULTI_PERSON = re.compile(r"\s(and|&)\s|,")


class CheckFailed(Exception):
    """Internal: carries the first failing reason out of the nested checks."""

    def __init__(self, reason: Reason, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _diagnose_structure(text: str) -> None:
    """Explain why a plan failed strict parsing, with the most specific reason available."""
    actions: list[tuple[int, str, list[int]]] = []
    ended = False
    for raw in text.split("\n"):
        line = raw.replace(END_OF_PLAN, "") if END_OF_PLAN in raw else raw
        ended = ended or END_OF_PLAN in raw
        if not line.strip() or _THOUGHT.match(line):
            continue
        match = _LENIENT_ACTION.match(line)
        if not match:
            raise CheckFailed(Reason.PARSE_ERROR, f"not an action line: {line.strip()[:80]!r}")
        try:
            args = parse_arguments(match.group(3))
        except PlanParseError as error:
            raise CheckFailed(Reason.PARSE_ERROR, str(error)) from None
        refs = [r for a in args for r in references_in(a)]
        actions.append((int(match.group(1)), match.group(2), refs))
    if not actions:
        raise CheckFailed(Reason.EMPTY_PLAN, "no actions")
    ids = [a[0] for a in actions]
    if ids != list(range(1, len(ids) + 1)):
        raise CheckFailed(Reason.BAD_ACTION_IDS, f"action ids {ids} are not 1..{len(ids)}")
    joins = [i for i, tool, _ in actions if tool == JOIN]
    if not joins:
        raise CheckFailed(Reason.MISSING_JOIN, "the plan has no join()")
    if joins[0] != len(actions):
        raise CheckFailed(Reason.JOIN_NOT_LAST, f"join() is action {joins[0]} of {len(actions)}")
    graph: nx.DiGraph[int] = nx.DiGraph()
    graph.add_nodes_from(ids)
    for action_id, _tool, refs in actions:
        for ref in refs:
            if ref < 1 or ref >= len(actions):
                raise CheckFailed(Reason.BAD_REFERENCE, f"${ref} in action {action_id} names no tool action")
            graph.add_edge(ref, action_id)
    if not nx.is_directed_acyclic_graph(graph):
        raise CheckFailed(Reason.CYCLIC_REFERENCE, f"references form a cycle: {nx.find_cycle(graph)}")
    for action_id, _tool, refs in actions:
        if any(ref >= action_id for ref in refs):
            raise CheckFailed(Reason.FORWARD_REFERENCE, f"action {action_id} uses a later result")
    if not ended:
        raise CheckFailed(Reason.MISSING_JOIN, "join() is not followed by <END_OF_PLAN>")


def parse_checked(text: str) -> Plan:
    """Parse a plan, turning any failure into a `CheckFailed` with a specific reason."""
    try:
        plan = parse_plan(text)
    except PlanParseError as error:
        _diagnose_structure(text)
        raise CheckFailed(Reason.PARSE_ERROR, str(error)) from None
    # The parser stops at join(); actions written after it would be silently dropped.
    written = sum(1 for line in text.split("\n") if _LENIENT_ACTION.match(line.replace(END_OF_PLAN, "")))
    if written > len(plan.actions):
        raise CheckFailed(Reason.JOIN_NOT_LAST, f"{written - len(plan.actions)} action(s) after join()")
    return plan


def _ref_target(value: object, plan: Plan) -> str | None:
    """The tool of the action a whole-string `$N` refers to, else None."""
    if isinstance(value, str):
        match = REFERENCE.fullmatch(value.strip())
        if match:
            return plan.action(int(match.group(1) or match.group(2))).tool
    return None


class ExampleChecker:
    """Per-example checks against a tool registry and its conventions."""

    def __init__(self, registry: ToolRegistry, conventions: Conventions | None = None) -> None:
        self.registry = registry
        self.conventions = conventions or Conventions()

    def check(self, example: Example) -> Rejection | None:
        """The first problem with this example, or None if it passes every check."""
        try:
            self._check(example)
        except CheckFailed as failed:
            return Rejection(example.id, failed.reason, failed.detail)
        return None

    def _check(self, example: Example) -> None:
        if not example.query.strip():
            raise CheckFailed(Reason.EMPTY_QUERY, "empty request")
        try:
            now = datetime.strptime(example.now, NOW_FORMAT)
        except ValueError:
            raise CheckFailed(Reason.BAD_NOW, f"now {example.now!r} is not YYYY-MM-DD HH:MM:SS") from None
        plan = parse_checked(example.plan)
        if not plan.tool_actions:
            raise CheckFailed(Reason.EMPTY_PLAN, "the plan calls no tool")
        for action in plan.tool_actions:
            try:
                self.registry.validate_action(action)
            except UnknownToolError as error:
                raise CheckFailed(Reason.UNKNOWN_TOOL, str(error)) from None
            except ToolArgumentError as error:
                raise CheckFailed(Reason.BAD_ARGUMENTS, str(error)) from None
        self._check_values(plan, now)
        self._check_people(plan, example.query)
        self._check_files_and_sms(plan)
        if list(example.tools) != tools_of(plan):
            raise CheckFailed(Reason.TOOLS_MISMATCH, f"tools {list(example.tools)} != plan tools {tools_of(plan)}")

    def _check_values(self, plan: Plan, now: datetime) -> None:
        conv = self.conventions
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for action in plan.tool_actions:
            for position in conv.date_fields.get(action.tool, ()):
                value = action.args[position]
                if value == "" and action.tool == "create_reminder":
                    continue
                if _ref_target(value, plan):
                    continue
                if not isinstance(value, str) or not _DATE.match(value):
                    raise CheckFailed(Reason.BAD_DATE, f"{action.tool}: {value!r} is not YYYY-MM-DD HH:MM:SS")
                try:
                    moment = datetime.strptime(value, NOW_FORMAT)
                except ValueError:
                    raise CheckFailed(Reason.BAD_DATE, f"{action.tool}: {value!r} is not a real date") from None
                if moment < today:
                    raise CheckFailed(Reason.DATE_IN_PAST, f"{action.tool}: {value} is before now ({now})")
            if action.tool in conv.start_end:
                start, end = (action.args[i] for i in conv.start_end[action.tool])
                if (
                    isinstance(start, str)
                    and isinstance(end, str)
                    and _DATE.match(start)
                    and _DATE.match(end)
                    and end <= start
                ):
                    raise CheckFailed(Reason.END_BEFORE_START, f"{action.tool}: end {end} is not after start {start}")
            for (tool, position), allowed in conv.allowed_values.items():
                if action.tool == tool and action.args[position] not in allowed:
                    raise CheckFailed(
                        Reason.BAD_VALUE, f"{tool}: {action.args[position]!r} is not one of {sorted(allowed, key=str)}"
                    )

    def _check_people(self, plan: Plan, query: str) -> None:
        conv = self.conventions
        folded_query = fold_accents(query)
        for action in plan.tool_actions:
            if action.tool in (conv.email_lookup, conv.phone_lookup):
                name = action.args[0]
                if isinstance(name, str) and _MULTI_PERSON.search(name):
                    raise CheckFailed(
                        Reason.MULTI_PERSON_LOOKUP, f"{action.tool}({name!r}) looks up several people at once"
                    )
                if isinstance(name, str) and fold_accents(name) not in folded_query:
                    raise CheckFailed(
                        Reason.NAME_NOT_IN_QUERY, f"{action.tool}({name!r}): the request never says {name!r}"
                    )
            for kind, fields, lookup in (
                ("email", conv.email_fields, conv.email_lookup),
                ("phone", conv.phone_fields, conv.phone_lookup),
            ):
                for position in fields.get(action.tool, ()):
                    values = action.args[position]
                    for value in values if isinstance(values, list) else [values]:
                        self._check_contact(action.tool, kind, lookup, value, plan)

    @staticmethod
    def _check_contact(tool: str, kind: str, lookup: str, value: object, plan: Plan) -> None:
        target = _ref_target(value, plan)
        if target is not None:
            if target != lookup:
                raise CheckFailed(Reason.WRONG_LOOKUP, f"{tool}: {value} comes from {target}, expected {lookup}")
            return
        literal = isinstance(value, str) and ("@" in value if kind == "email" else looks_like_phone_number(value))
        if not literal:
            raise CheckFailed(Reason.MISSING_LOOKUP, f"{tool}: {value!r} is neither an {kind} nor a $N from {lookup}")

    def _check_files_and_sms(self, plan: Plan) -> None:
        conv = self.conventions
        messages: Counter[str] = Counter()
        for action in plan.tool_actions:
            if action.tool == conv.summarizer and _ref_target(action.args[0], plan) != conv.file_opener:
                raise CheckFailed(
                    Reason.SUMMARIZE_WITHOUT_FILE,
                    f"{conv.summarizer}({action.args[0]!r}) must take a $N from {conv.file_opener}",
                )
            if action.tool in conv.attachment_fields:
                attached = action.args[conv.attachment_fields[action.tool]]
                if attached and not isinstance(attached, list):
                    raise CheckFailed(
                        Reason.ATTACHMENT_WITHOUT_FILE,
                        f"{action.tool}: attachments {attached!r} must be a list of $N from {conv.file_opener}",
                    )
                for value in attached if isinstance(attached, list) else []:
                    if _ref_target(value, plan) != conv.file_opener:
                        raise CheckFailed(
                            Reason.ATTACHMENT_WITHOUT_FILE,
                            f"{action.tool}: attachment {value!r} is not a $N from {conv.file_opener}",
                        )
            if action.tool == conv.sms_tool:
                messages[str(action.args[1])] += 1
        repeated = [m for m, n in messages.items() if n > 1]
        if repeated:
            raise CheckFailed(
                Reason.SPLIT_SMS, f"the same text {repeated[0]!r} is sent in several send_sms calls; use one"
            )


@dataclass
class CheckReport:
    """Kept examples and rejections (with counts by reason) of a checked dataset."""

    kept: list[Example] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rejections by reason code, most frequent first (ties by code, so the order is stable)."""
        counter = Counter(r.reason.value for r in self.rejected)
        return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


class DatasetChecker:
    """Per-example checks plus exact/near-duplicate removal and held-out leakage, in one pass."""

    def __init__(
        self,
        registry: ToolRegistry,
        conventions: Conventions | None = None,
        holdout_queries: Iterable[str] = (),
        near_duplicate_threshold: float = 0.8,
    ) -> None:
        self.examples = ExampleChecker(registry, conventions)
        self.seen = NearDuplicateIndex(near_duplicate_threshold)
        self.holdout = NearDuplicateIndex(near_duplicate_threshold)
        for query in holdout_queries:
            self.holdout.add(query)

    def admit(self, example: Example, prechecked: bool = False) -> Rejection | None:
        """Check one example against everything admitted so far; remember it when it passes."""
        if not prechecked:
            rejection = self.examples.check(example)
            if rejection is not None:
                return rejection
        return self.admit_text(example.id, example.query)

    def admit_text(self, example_id: str, query: str) -> Rejection | None:
        """Only the set-level checks (duplicates, leakage) for a query already checked alone."""
        prepared = self.seen.prepare(query)  # both indexes share settings, so hash once
        leak = self.holdout.find(prepared)
        if leak is not None:
            return Rejection(example_id, Reason.HOLDOUT_LEAK, f"{leak.kind} of held-out request #{leak.index}")
        match = self.seen.find(prepared)
        if match is not None:
            reason = Reason.DUPLICATE if match.kind == "exact" else Reason.NEAR_DUPLICATE
            return Rejection(example_id, reason, f"{match.kind} of example #{match.index}")
        self.seen.add(prepared)
        return None

    def run(self, examples: Iterable[Example]) -> CheckReport:
        """Check a whole dataset in order; the first of two duplicates is kept."""
        report = CheckReport()
        for example in examples:
            rejection = self.admit(example)
            if rejection is None:
                report.kept.append(example)
            else:
                report.rejected.append(rejection)
        return report


def split_leaks(splits: dict[str, list[Example]], threshold: float = 0.8) -> list[Rejection]:
    """Requests of a later split equal or near-equal to one of an earlier split (order of `splits`)."""
    index = NearDuplicateIndex(threshold)
    owner: list[tuple[str, str]] = []
    leaks: list[Rejection] = []
    for split, examples in splits.items():
        prepared = [index.prepare(example.query) for example in examples]
        for example, item in zip(examples, prepared):
            match = index.find(item)
            if match is not None:
                other_split, other_id = owner[match.index]
                leaks.append(
                    Rejection(example.id, Reason.SPLIT_LEAK, f"{match.kind} of {other_split} example {other_id}")
                )
        # Added after the whole split is scanned: duplicates inside one split are not leaks.
        for example, item in zip(examples, prepared):
            index.add(item)
            owner.append((split, example.id))
    return leaks
