"""Tools from typed Python functions: one source for name, signature, description,
validation, JSON schema, prompt text and grammar.

A tool is a plain function with type hints and a Google-style docstring::

    def get_email_address(ctx: ToolContext, name: str) -> str:
        \"\"\"Looks a contact up by (fuzzy) name and returns an email address.

        Args:
            name: the contact's name as the user said it.
        \"\"\"

A first parameter annotated `ToolContext` is supplied by the executor and is not part
of the tool's positional signature. A parameter annotated `Annotated[str, VERBATIM]` takes
words of the request as they were said (a name, a file name, a place): the planner's grammar
then only lets the model copy a span of the request there (or write "" or a `$N` reference);
`Annotated[str, MOMENT]` marks a "YYYY-MM-DD HH:MM:SS" moment, whose day the grammar takes
from the days the request names (`pocketagent.plan.said_days`).
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from pocketagent.errors import ToolArgumentError, UnknownToolError
from pocketagent.plan.language import REFERENCE, Action, Value
from pocketagent.tools.apps import Apps

if TYPE_CHECKING:
    from pocketagent.llm.base import LLMBackend
    from pocketagent.settings import Settings


@dataclass
class ToolContext:
    """What a running tool may use: the apps (data backends), settings and the LLM for sub-agents.

    For a run of a request, the agent gives each run its own copy with `request` (the user's
    words) and `extras` (`"now"`: the run's reference time, a datetime; `"attempt"`: 0 for
    the first plan, 1, 2, ... for replans) filled in, on top of the extras given here.
    Running a given plan or a single MCP call leaves `request` "".
    """

    apps: Apps = field(default_factory=Apps)
    settings: Settings | None = None
    llm: LLMBackend | None = None
    request: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


# The literal kinds the plan language knows, in the order the grammar and schema use.
SCALAR_KINDS = ("str", "int", "float", "bool", "none")


@dataclass(frozen=True)
class ParamType:
    """An argument type in plan-language terms: a union of scalar kinds, or a list of them."""

    kinds: tuple[str, ...]
    is_list: bool = False

    def describe(self) -> str:
        names = {"str": "str", "int": "int", "float": "float", "bool": "bool", "none": "None"}
        inner = " | ".join(names[k] for k in self.kinds)
        return f"list[{inner}]" if self.is_list else inner

    def json_schema(self) -> dict[str, Any]:
        names = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "none": "null"}
        scalar: dict[str, Any]
        if len(self.kinds) == 1:
            scalar = {"type": names[self.kinds[0]]}
        else:
            scalar = {"type": [names[k] for k in self.kinds]}
        return {"type": "array", "items": scalar} if self.is_list else scalar

    def accepts(self, value: Value) -> bool:
        if self.is_list:
            return isinstance(value, list) and all(_scalar_ok(v, self.kinds) for v in value)
        return _scalar_ok(value, self.kinds)


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and REFERENCE.fullmatch(value.strip()) is not None


def _scalar_ok(value: Any, kinds: tuple[str, ...]) -> bool:
    if _is_reference(value):
        return True  # "$N" stands for any type; it is checked again after substitution.
    if value is None:
        return "none" in kinds
    if isinstance(value, bool):
        return "bool" in kinds
    if isinstance(value, int):
        return "int" in kinds or "float" in kinds
    if isinstance(value, float):
        return "float" in kinds
    if isinstance(value, str):
        return "str" in kinds
    return False


_SCALARS: dict[Any, str] = {str: "str", int: "int", float: "float", bool: "bool", type(None): "none"}


def param_type(annotation: Any) -> ParamType:
    """Map a Python annotation (str, int, list[str], str | None, ...) to a plan-language type."""
    if annotation in _SCALARS:
        return ParamType((_SCALARS[annotation],))
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = typing.get_args(annotation)
        if all(m in _SCALARS for m in members):
            return ParamType(tuple(k for k in SCALAR_KINDS if k in {_SCALARS[m] for m in members}))
    if origin is list:
        (item,) = typing.get_args(annotation) or (str,)
        inner = param_type(item)
        if not inner.is_list:
            return ParamType(inner.kinds, is_list=True)
    raise TypeError(f"unsupported tool parameter type {annotation!r}; use str, int, float, bool, None, lists or unions")


class Verbatim:
    """Marker for `Annotated[str, VERBATIM]`: the argument is copied from the request's words."""

    def __repr__(self) -> str:
        return "VERBATIM"


VERBATIM = Verbatim()


class Moment:
    """Marker for `Annotated[str, MOMENT]`: a "YYYY-MM-DD HH:MM:SS" moment on a day the request names."""

    def __repr__(self) -> str:
        return "MOMENT"


MOMENT = Moment()


def _split_markers(annotation: Any) -> tuple[Any, bool, bool]:
    """(the annotation without `Annotated[...]`, whether it was marked VERBATIM, whether MOMENT)."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        return base, any(isinstance(m, Verbatim) for m in metadata), any(isinstance(m, Moment) for m in metadata)
    return annotation, False, False


@dataclass(frozen=True)
class Parameter:
    name: str
    type: ParamType
    description: str = ""
    verbatim: bool = False  # copied from the request's words (see VERBATIM)
    moment: bool = False  # a date and time on a day the request names (see MOMENT)


_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters)\s*:\s*$")
_SECTION_HEADER = re.compile(r"^\s*(Returns|Raises|Examples?|Yields|Notes?)\s*:\s*$")
_ARG_LINE = re.compile(r"^\s*(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {arg: description})."""
    doc = inspect.cleandoc(doc or "")
    description_lines: list[str] = []
    args: dict[str, str] = {}
    section = "description"
    current: str | None = None
    arg_indent: int | None = None  # indentation of "name: ..." lines; deeper lines continue them
    for line in doc.splitlines():
        indent = len(line) - len(line.lstrip())
        if _ARGS_HEADER.match(line):
            section, current, arg_indent = "args", None, None
        elif _SECTION_HEADER.match(line):
            section, current = "other", None
        elif section == "description":
            description_lines.append(line)
        elif section == "args" and line.strip():
            match = _ARG_LINE.match(line)
            if match and (arg_indent is None or indent <= arg_indent):
                arg_indent = indent
                current = match.group(1)
                args[current] = match.group(2).strip()
            elif current:
                args[current] = f"{args[current]} {line.strip()}"
    paragraphs = "\n".join(description_lines).strip().split("\n\n")
    description = " ".join(paragraphs[0].split()) if paragraphs and paragraphs[0] else ""
    return description, args


@dataclass(frozen=True)
class Tool:
    """A callable tool with everything derived from its function."""

    name: str
    func: Callable[..., Any]
    parameters: tuple[Parameter, ...]
    description: str
    takes_context: bool = False
    timeout_s: float | None = None
    side_effect: bool = False

    @classmethod
    def from_function(
        cls,
        func: Callable[..., Any],
        name: str | None = None,
        timeout_s: float | None = None,
        side_effect: bool = False,
    ) -> Tool:
        """Build a Tool from a typed function with a docstring."""
        hints = typing.get_type_hints(func, include_extras=True)
        signature = inspect.signature(func)
        description, arg_docs = parse_docstring(func.__doc__)
        params: list[Parameter] = []
        takes_context = False
        for index, p in enumerate(signature.parameters.values()):
            annotation, verbatim, moment = _split_markers(hints.get(p.name, str))
            if index == 0 and annotation is ToolContext:
                takes_context = True
                continue
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                raise TypeError(f"tool {func.__name__}: parameter {p.name} must be positional")
            params.append(Parameter(p.name, param_type(annotation), arg_docs.get(p.name, ""), verbatim, moment))
        return cls(
            name=name or func.__name__,
            func=func,
            parameters=tuple(params),
            description=description,
            takes_context=takes_context,
            timeout_s=timeout_s,
            side_effect=side_effect,
        )

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    def signature_text(self) -> str:
        """`name(a: str, b: list[str]) -> str`, as shown to the model."""
        params = ", ".join(f"{p.name}: {p.type.describe()}" for p in self.parameters)
        return f"{self.name}({params}) -> str"

    def prompt_text(self, with_parameters: bool = False) -> str:
        """The tool's description block for the system prompt.

        Parameter docs double the prompt (and CPU prompt time), so they are opt-in.
        """
        lines = [f"{self.signature_text()}", f"  {self.description}"]
        if with_parameters:
            lines += [f"  - {p.name}: {p.description}" for p in self.parameters if p.description]
        return "\n".join(lines)

    def json_schema(self) -> dict[str, Any]:
        """An OpenAI-style function schema (parameters are positional in plans, in this order)."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": {
                "type": "object",
                "properties": {
                    p.name: {**p.type.json_schema(), "description": p.description} for p in self.parameters
                },
                "required": [p.name for p in self.parameters],
                "additionalProperties": False,
            },
        }

    def validate(self, args: tuple[Value, ...] | list[Value]) -> None:
        """Check arity and literal types; raise `ToolArgumentError` with a fixable message.

        A `"$N"` string stands for any type (it is checked again after substitution).
        """
        if len(args) != len(self.parameters):
            raise ToolArgumentError(
                f"{self.name} takes {len(self.parameters)} arguments ({self.signature_text()}), "
                f"got {len(args)}"
            )
        for param, value in zip(self.parameters, args):
            if not param.type.accepts(value):
                raise ToolArgumentError(
                    f"{self.name}: argument {param.name!r} must be {param.type.describe()}, got {value!r}"
                )


class ToolRegistry:
    """An ordered set of tools by name. Order is stable so prompts stay cacheable."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> Tool:
        if tool.name == "join":
            raise ValueError("'join' is reserved by the plan language")
        self._tools[tool.name] = tool
        return tool

    def register(
        self,
        func: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        timeout_s: float | None = None,
        side_effect: bool = False,
    ) -> Any:
        """Register a typed function as a tool; usable as `@registry.register` or called directly."""

        def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
            self.add(Tool.from_function(f, name=name, timeout_s=timeout_s, side_effect=side_effect))
            return f

        return decorate(func) if func is not None else decorate

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownToolError(name, list(self._tools)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return list(self._tools)

    def subset(self, names: Iterable[str]) -> ToolRegistry:
        """A registry with only these tools, keeping this registry's order."""
        wanted = set(names)
        return ToolRegistry(t for t in self._tools.values() if t.name in wanted)

    def validate_action(self, action: Action) -> Tool:
        """The tool for an action, after checking it exists and its arguments fit."""
        if action.is_join:
            raise ToolArgumentError("join() is not a tool call")
        tool = self.get(action.tool)
        tool.validate(action.args)
        return tool
