"""The plan language: `Plan` / `Action`, parsing plan text and rendering it back.

Syntax (docs/plan-language.md, LLMCompiler style)::

    Thought: optional reasoning line
    1. get_email_address("Sid")
    2. compose_new_email(["$1"], [], "Hi", "", [])
    3. join()<END_OF_PLAN>

Arguments are positional Python literals, parsed with `ast` (never `eval`).
`$N` / `${N}` inside strings and list items are references to earlier actions.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Union

from pocketagent.errors import PlanParseError

END_OF_PLAN = "<END_OF_PLAN>"
JOIN = "join"

Scalar = Union[str, int, float, bool, None]
Value = Union[Scalar, list[Scalar]]

# `$N` or `${N}`; the braces let a reference sit directly before digits ("${1}0").
REFERENCE = re.compile(r"\$(?:\{(\d+)\}|(\d+))")
# Every pattern here must run in linear time on any line: model output and plan files can hold
# a line of 200k spaces. A lazy group followed by `\s*$` (the old Thought pattern) backtracks
# over the spaces once per character, i.e. quadratically; the thought is stripped in Python instead.
_ACTION_LINE = re.compile(r"^\s*(\d+)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", re.DOTALL)
_THOUGHT_LINE = re.compile(r"\s*Thought\s*:(.*)", re.DOTALL)
# Lone surrogates ("\ud800" escapes) are not text: no file, terminal or HTTP body can encode them.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Integers whose decimal form Python refuses to print (over sys.int_max_str_digits, 4,300 digits;
# 14,000 bits is about 4,215) would crash rendering the plan; no tool argument is that large.
_MAX_INT_BITS = 14_000


def references_in(value: Value) -> list[int]:
    """All action ids referenced (`$N`) inside a literal value, in order of appearance."""
    if isinstance(value, str):
        return [int(a or b) for a, b in REFERENCE.findall(value)]
    if isinstance(value, list):
        return [ref for item in value for ref in references_in(item)]
    return []


def replace_references(value: Value, replacement: Callable[[int], str]) -> Value:
    """`value` with each `$N` inside it (in a string, or a list's strings) replaced by `replacement(N)`."""

    def replaced(item: str) -> str:
        return REFERENCE.sub(lambda m: replacement(int(m.group(1) or m.group(2))), item)

    if isinstance(value, list):
        return [replaced(item) if isinstance(item, str) else item for item in value]
    return replaced(value) if isinstance(value, str) else value


def whole_reference(value: object) -> int | None:
    """The action id when `value` is nothing but one reference ("$N" or "${N}", spaces around it
    allowed), else None: the argument *is* that action's result."""
    whole = REFERENCE.fullmatch(value.strip()) if isinstance(value, str) else None
    return int(whole.group(1) or whole.group(2)) if whole else None


@dataclass(frozen=True)
class Action:
    """One numbered tool call of a plan."""

    id: int
    tool: str
    args: tuple[Value, ...] = ()
    thought: str | None = None

    @cached_property
    def dependencies(self) -> tuple[int, ...]:
        """Sorted ids of the actions whose results this action uses."""
        return tuple(sorted({ref for arg in self.args for ref in references_in(arg)}))

    @property
    def is_join(self) -> bool:
        return self.tool == JOIN

    @property
    def call(self) -> str:
        """The call without its number: the same text for the same call anywhere in a plan."""
        return f"{self.tool}({', '.join(render_value(a) for a in self.args)})"

    def render(self) -> str:
        """Canonical one-line text of the call (without the thought line)."""
        call = f"{self.id}. {self.call}"
        return call + END_OF_PLAN if self.is_join else call


@dataclass(frozen=True)
class Plan:
    """A complete plan: tool actions in order, ending with `join()`."""

    actions: tuple[Action, ...] = field(default_factory=tuple)

    @property
    def tool_actions(self) -> tuple[Action, ...]:
        """The actions that call tools (everything but `join`)."""
        return tuple(a for a in self.actions if not a.is_join)

    def action(self, action_id: int) -> Action:
        """The action with this id (ids are 1-based and contiguous)."""
        return self.actions[action_id - 1]

    def render(self) -> str:
        """Canonical plan text; `parse_plan(plan.render()) == plan`."""
        lines: list[str] = []
        for action in self.actions:
            if action.thought is not None:
                lines.append(f"Thought: {action.thought}")
            lines.append(action.render())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def render_value(value: Value) -> str:
    """Render one literal the way the plan language writes it (double-quoted strings)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are a subset of Python's, so the result parses back exactly.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    raise TypeError(f"cannot render {type(value).__name__} in a plan")


def _literal(node: ast.expr, line_no: int, line: str, in_list: bool = False) -> Value:
    if isinstance(node, ast.List) and not in_list:
        return [_literal(item, line_no, line, in_list=True) for item in node.elts]  # type: ignore[misc]
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise PlanParseError(
            "arguments must be literals (strings, numbers, True/False/None, lists)", line_no, line
        ) from None
    if isinstance(value, str) and _SURROGATE.search(value):
        raise PlanParseError("strings must be valid Unicode text (found a lone surrogate escape)", line_no, line)
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        raise PlanParseError(f"integer of {value.bit_length()} bits is too large for an argument", line_no, line)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    kind = "nested lists" if isinstance(value, list) else type(value).__name__
    raise PlanParseError(f"{kind} are not allowed as arguments", line_no, line)


def parse_arguments(text: str, line_no: int = 0, line: str | None = None) -> tuple[Value, ...]:
    """Parse the text between a call's parentheses into positional literal values."""
    if not text.strip():
        return ()
    try:
        with warnings.catch_warnings():
            # Python warns on stderr about text such as "9abc" ("invalid decimal literal") before
            # failing: the user sees our clear error instead.
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(f"f({text})", mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise PlanParseError("arguments are not valid literals", line_no, line) from None
    call = tree.body
    if not isinstance(call, ast.Call) or call.keywords:
        raise PlanParseError("keyword arguments are not allowed; write them positionally", line_no, line)
    if any(isinstance(arg, ast.Starred) for arg in call.args):
        raise PlanParseError("starred arguments are not allowed", line_no, line)
    return tuple(_literal(arg, line_no, line or text) for arg in call.args)


class LineParser:
    """Turns plan lines into actions one at a time, checking ids and references.

    Shared by the batch parser and the streaming parser so they cannot disagree.
    """

    def __init__(self) -> None:
        self.actions: list[Action] = []
        self._thought: str | None = None
        self.finished = False
        self._line_no = 0

    def feed_line(self, raw: str) -> Action | None:
        """Consume one line (without its newline); return the action it completes, if any."""
        self._line_no += 1
        if self.finished:
            return None  # Anything after join() is not part of the plan.
        line = raw.rstrip("\r")
        ended = END_OF_PLAN in line
        if ended:
            line = line[: line.index(END_OF_PLAN)]
        if not line.strip():
            if ended:
                self._end_without_join()
            return None
        thought = _THOUGHT_LINE.match(line)
        if thought:
            self._thought = thought.group(1).strip()
            if ended:
                self._end_without_join()
            return None
        action = self._parse_action(line)
        if ended and not action.is_join:
            # The line up to the marker: text after it is not shown, as the streaming parser never sees it.
            raise PlanParseError("<END_OF_PLAN> must follow join()", self._line_no, line + END_OF_PLAN)
        return action

    def _end_without_join(self) -> None:
        raise PlanParseError("plan ended without join()", self._line_no)

    def _parse_action(self, line: str) -> Action:
        match = _ACTION_LINE.match(line)
        if not match:
            raise PlanParseError('expected an action like `1. tool_name("arg", ...)`', self._line_no, line)
        tool, arg_text = match.group(2), match.group(3)
        try:
            action_id = int(match.group(1))
        except ValueError:  # more digits than int() converts (sys.int_max_str_digits, 4,300)
            raise PlanParseError(
                f"action id has {len(match.group(1))} digits; ids count actions from 1", self._line_no, line
            ) from None
        expected = len(self.actions) + 1
        if action_id != expected:
            raise PlanParseError(f"action id {action_id} out of order; expected {expected}", self._line_no, line)
        args = parse_arguments(arg_text, self._line_no, line)
        action = Action(action_id, tool, args, self._thought)
        self._thought = None
        try:
            dependencies = action.dependencies
        except ValueError:  # int() of a `$N` with more digits than sys.int_max_str_digits
            raise PlanParseError("a $N reference has too many digits to name an action", self._line_no, line) from None
        for ref in dependencies:
            if ref < 1 or ref >= action_id:
                raise PlanParseError(
                    f"${ref} refers to {'a later' if ref >= action_id else 'no'} action; "
                    f"action {action_id} can only use $1..${action_id - 1}",
                    self._line_no,
                    line,
                )
        if action.is_join:
            if args:
                raise PlanParseError("join() takes no arguments", self._line_no, line)
            self.finished = True
        self.actions.append(action)
        return action

    def finish(self) -> Plan:
        """The completed plan; raises if the text never reached `join()`."""
        if not self.finished:
            if self.actions:
                raise PlanParseError(f"plan ended without join() after action {len(self.actions)}")
            raise PlanParseError("empty plan: no actions and no join()")
        return Plan(tuple(self.actions))


def parse_plan(text: str) -> Plan:
    """Parse a whole plan text. Raises `PlanParseError` with the line at fault."""
    parser = LineParser()
    for line in text.split("\n"):
        parser.feed_line(line)
        if parser.finished:
            break
    return parser.finish()
