"""The Berkeley Function Calling Leaderboard (BFCL) through the PyPI package `bfcl-eval`.

For each BFCL item: its function docs become pocketagent tools, our planner writes a plan
for the item's question, the plan's calls are converted to BFCL's decoded-output form
(a list of ``{function_name: {parameter: value}}``) and **bfcl-eval's own checker** scores
them (``ast_checker`` for simple/multiple/parallel/parallel_multiple, its "no function call"
rule for irrelevance).

bfcl-eval lives in its own virtualenv and runs as a subprocess (`bfcl_checker.py`).
Details and the known losses of the conversion: docs/bfcl.md.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import json
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.errors import BackendError, BfclError, ModelNotFoundError
from pocketagent.evaluation.bfcl_checker import CHECKER_MODEL_NAME, BfclChecker, BfclItem
from pocketagent.llm.base import GenerationOptions, LLMBackend
from pocketagent.plan.grammar import GrammarBuildError, build_grammar
from pocketagent.plan.language import Action, Plan
from pocketagent.tools.registry import SCALAR_KINDS, Parameter, ParamType, Tool, ToolRegistry

DEFAULT_CATEGORIES = ("simple", "multiple", "parallel", "parallel_multiple", "irrelevance")
# FunctionGemma-270M's published 0-shot BFCL accuracy (%), the figures we compare with.
FUNCTIONGEMMA_270M = {
    "simple": 61.6,
    "multiple": 63.5,
    "parallel": 39.0,
    "parallel_multiple": 29.5,
    "irrelevance": 73.7,
}
# BFCL items carry no date; a fixed "today" keeps the prompts reproducible.
BFCL_NOW = datetime(2025, 1, 6, 9, 0, 0)


# --------------------------------------------------------------------------- BFCL functions -> tools

_SCALAR_KIND = {"string": "str", "integer": "int", "float": "float", "number": "float", "boolean": "bool", "any": "str"}
_STRUCTURED = ("dict", "object")  # no literal for these in the plan language: written as JSON text


@dataclass(frozen=True)
class BfclParameter:
    """One BFCL parameter, in the positional order our tool uses."""

    name: str
    schema: Mapping[str, Any]
    required: bool

    @property
    def bfcl_type(self) -> str:
        return str(self.schema.get("type", "string"))

    @property
    def is_array(self) -> bool:
        return self.bfcl_type in ("array", "tuple")


@dataclass(frozen=True)
class BfclFunction:
    """A BFCL function and the tool that stands for it."""

    bfcl_name: str
    parameters: tuple[BfclParameter, ...]
    tool: Tool


@dataclass(frozen=True)
class ToolMapping:
    """The tools for one item and the way back from tool names to BFCL names."""

    registry: ToolRegistry
    functions: dict[str, BfclFunction]  # by tool name


def tool_identifier(bfcl_name: str, taken: Iterable[str] = ()) -> str:
    """A plan-language tool name for a BFCL name: "math.factorial" -> "math_factorial".

    Any non-identifier character becomes "_"; a leading digit gets "f_"; "join" (reserved)
    becomes "join_"; a clash with a name in `taken` gets a numeric suffix.
    """
    name = re.sub(r"\W", "_", bfcl_name, flags=re.ASCII) or "f"
    if name[0].isdigit():
        name = "f_" + name
    if name == "join":
        name = "join_"
    taken = set(taken)
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def param_type_for(schema: Mapping[str, Any], required: bool) -> ParamType:
    """The closest plan-language type for a BFCL parameter schema.

    Scalars map one to one ("any" -> str). Arrays/tuples of scalars become lists; arrays of
    dicts or of arrays become lists of str; a dict becomes str (JSON text, parsed back).
    An optional scalar also accepts None ("not given"); an optional list uses [] for that,
    since the plan language has no "list or None" type.
    """
    bfcl_type = str(schema.get("type", "string"))
    if bfcl_type in ("array", "tuple"):
        items = schema.get("items")
        item_type = str(items.get("type", "string")) if isinstance(items, Mapping) else "string"
        return ParamType((_SCALAR_KIND.get(item_type, "str"),), is_list=True)
    kinds = {_SCALAR_KIND.get(bfcl_type, "str")}
    if not required:
        kinds.add("none")
    return ParamType(tuple(k for k in SCALAR_KINDS if k in kinds))


def _argument_doc(param: BfclParameter) -> str:
    """What the prompt says about a parameter (our prompt shows types, not parameter docs)."""
    schema = param.schema
    notes = []
    if param.bfcl_type in _STRUCTURED:
        keys = schema.get("properties")
        shape = f" with keys {', '.join(keys)}" if isinstance(keys, Mapping) and keys else ""
        notes.append(f"a JSON object{shape}, written as a string")
    items = schema.get("items")
    if param.is_array and isinstance(items, Mapping) and items.get("type") in (*_STRUCTURED, "array", "tuple"):
        notes.append(f"each item a JSON {'object' if items.get('type') in _STRUCTURED else 'array'} as a string")
    if "enum" in schema:
        notes.append("one of " + ", ".join(json.dumps(v) for v in schema["enum"]))
    if "default" in schema and schema["default"] not in (None, ""):
        notes.append(f"default {json.dumps(schema['default'], default=str)}")
    if not param.required:
        notes.append("optional, [] if not given" if param.is_array else "optional, None if not given")
    description = str(schema.get("description", "")).strip().rstrip(".")
    return f"{param.name}: {description}" + (f" ({'; '.join(notes)})" if notes else "")


def _bfcl_parameters(function: Mapping[str, Any]) -> tuple[BfclParameter, ...]:
    """Required parameters first, then optional ones, each group in the doc's order."""
    spec = function.get("parameters") or {}
    properties = spec.get("properties") or {}
    required = set(spec.get("required") or ())
    ordered = [n for n in properties if n in required] + [n for n in properties if n not in required]
    return tuple(BfclParameter(str(n), properties[n] or {}, n in required) for n in ordered)


def _unavailable(*args: Any) -> str:
    raise BfclError("BFCL tools are only planned, never run")


def build_tools(functions: Iterable[Mapping[str, Any]]) -> ToolMapping:
    """Tools (and the way back) for one item's BFCL function docs."""
    mapping: dict[str, BfclFunction] = {}
    registry = ToolRegistry()
    for function in functions:
        bfcl_name = str(function.get("name", ""))
        if not bfcl_name:
            raise BfclError(f"a BFCL function doc has no name: {json.dumps(function)[:200]}")
        name = tool_identifier(bfcl_name, mapping)
        params = _bfcl_parameters(function)
        description = " ".join(str(function.get("description", "")).split())
        if params:
            description += " Arguments: " + " | ".join(_argument_doc(p) for p in params)
        tool = Tool(
            name=name,
            func=_unavailable,
            parameters=tuple(Parameter(p.name, param_type_for(p.schema, p.required)) for p in params),
            description=description,
        )
        registry.add(tool)
        mapping[name] = BfclFunction(bfcl_name, params, tool)
    return ToolMapping(registry, mapping)


# --------------------------------------------------------------------------- plan -> BFCL output


def _structured(value: Any) -> Any:
    """JSON (or Python literal) text of a dict/list back to the object; anything else unchanged."""
    if not isinstance(value, str):
        return value
    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(parsed, (dict, list)):
            return parsed
    return value


def bfcl_value(value: Any, param: BfclParameter) -> Any:
    """A plan argument as the BFCL value for this parameter (undoing `param_type_for`'s losses)."""
    if param.bfcl_type in _STRUCTURED:
        return _structured(value)
    items = param.schema.get("items")
    nested = isinstance(items, Mapping) and items.get("type") in (*_STRUCTURED, "array", "tuple")
    if param.is_array and isinstance(value, list) and nested:
        return [_structured(v) for v in value]
    return value


def plan_to_bfcl_output(plan: Plan, mapping: ToolMapping) -> list[dict[str, dict[str, Any]]]:
    """The plan's tool calls in BFCL's decoded form: ``[{bfcl_name: {param: value}}, ...]``.

    Positional arguments get their parameter names back; an optional argument written as
    None (or [] for an optional list) is "not given" and dropped. A call to a tool that is
    not in `mapping` (possible without the grammar) keeps its name, and arguments beyond a
    tool's parameters are named ``arg<N>``: the checker then fails them, as it should.
    """
    output: list[dict[str, dict[str, Any]]] = []
    for action in plan.tool_actions:
        function = mapping.functions.get(action.tool)
        params = function.parameters if function else ()
        arguments: dict[str, Any] = {}
        for index, value in enumerate(action.args):
            if index >= len(params):
                arguments[f"arg{index + 1}"] = value
                continue
            param = params[index]
            if not param.required and (value is None or (param.is_array and value == [])):
                continue
            arguments[param.name] = bfcl_value(value, param)
        output.append({function.bfcl_name if function else action.tool: arguments})
    return output


# --------------------------------------------------------------------------- the planner


class BfclPlanner(Planner):
    """Our planner, 0-shot, with a grammar that also allows a plan without calls (`1. join()`).

    BFCL lets a model answer without calling anything (that is what irrelevance items
    expect), so the grammar is built with ``min_actions=0`` in every category.
    """

    def __init__(self, backend: LLMBackend, registry: ToolRegistry, config: PlannerConfig) -> None:
        super().__init__(backend, registry, config, examples=())
        self._no_call_grammar = build_grammar(list(registry), min_actions=0) if config.grammar else None

    def options(self) -> GenerationOptions:
        return dataclasses.replace(super().options(), grammar=self._no_call_grammar)


# --------------------------------------------------------------------------- running and reporting


@dataclass(frozen=True)
class BfclItemResult:
    """What the planner wrote for one item and bfcl-eval's verdict."""

    id: str
    category: str
    question: str
    plan: str
    output: list[dict[str, Any]] | None
    valid: bool
    error_type: str | None
    error: tuple[str, ...]
    parse_error: str | None
    latency_s: float | None
    prompt_tokens: int | None


def run_item(item: BfclItem, template: Planner, checker: BfclChecker, now: datetime = BFCL_NOW) -> BfclItemResult:
    """Plan one item with `template`'s backend and config, then score it with bfcl-eval.

    A plan that does not parse is an undecodable output, as in BFCL: a failure in the AST
    categories. For (ir)relevance, BFCL counts undecodable text as "no function call"; but
    calls the model had completed before its plan broke (typically at the token limit) are
    calls, so those are what gets scored there. A pipeline error on our side (prompt too
    long for the context, tools we cannot express) is a failure in every category.
    """

    def failed(kind: str, message: str) -> BfclItemResult:
        return BfclItemResult(
            item.id, item.category, item.question, "", None, False, f"pocketagent:{kind}", (message,), None, None, None
        )

    try:
        mapping = build_tools(item.functions)
        planner = BfclPlanner(template.backend, mapping.registry, template.config)
    except (GrammarBuildError, BfclError) as exc:
        return failed("tools", str(exc))
    completed: list[Action] = []
    try:
        ready = asyncio.run(planner.stream_plan(item.question, now, lambda event: None, completed.append))
    except ModelNotFoundError:
        raise
    except BackendError as exc:
        return failed("backend", str(exc))
    if ready.plan is not None:
        output: list[dict[str, Any]] | None = plan_to_bfcl_output(ready.plan, mapping)
    elif "relevance" in item.test_category and completed:
        output = plan_to_bfcl_output(Plan(tuple(completed)), mapping)
    else:
        output = None
    verdict = checker.check(item, output, decode_error=ready.error)
    return BfclItemResult(
        id=item.id,
        category=item.category,
        question=item.question,
        plan=ready.text,
        output=output,
        valid=verdict.valid,
        error_type=verdict.error_type,
        error=verdict.error,
        parse_error=ready.error,
        latency_s=ready.stats.plan_s,
        prompt_tokens=ready.stats.prompt_tokens,
    )


def build_report(results: Sequence[BfclItemResult], model: str, bfcl_eval_version: str) -> dict[str, Any]:
    """Per-category accuracy (0..1) next to FunctionGemma-270M's figures, plus every item."""
    categories: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r.category for r in results):
        group = [r for r in results if r.category == name]
        correct = sum(r.valid for r in group)
        categories[name] = {
            "n": len(group),
            "correct": correct,
            "accuracy": correct / len(group),
            "parse_failure_rate": sum(r.parse_error is not None for r in group) / len(group),
            "functiongemma_270m_published": FUNCTIONGEMMA_270M.get(name),
        }
    latencies = sorted(r.latency_s for r in results if r.latency_s is not None)
    accuracies = [c["accuracy"] for c in categories.values()]
    return {
        "benchmark": "bfcl",
        "bfcl_eval_version": bfcl_eval_version,
        "checker_model_name": CHECKER_MODEL_NAME,
        "model": model,
        "now": BFCL_NOW.isoformat(sep=" "),
        "n": len(results),
        "categories": categories,
        # BFCL's own summaries average categories without weighting them by size.
        "mean_accuracy": statistics.fmean(accuracies) if accuracies else None,
        "latency_s": {
            "p50": _quantile(latencies, 0.5),
            "p95": _quantile(latencies, 0.95),
        },
        "items": [dataclasses.asdict(r) for r in results],
    }


def _quantile(sorted_values: Sequence[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


def summary_line(report: Mapping[str, Any]) -> str:
    """One line: each category's accuracy with counts, the mean, the model."""
    parts = [f"{name} {c['accuracy'] * 100:.1f}% ({c['correct']}/{c['n']})" for name, c in report["categories"].items()]
    mean = report.get("mean_accuracy")
    parts.append(f"mean {mean * 100:.1f}%" if mean is not None else "mean n/a")
    return f"BFCL {report['n']} items | " + " | ".join(parts) + f" | model {report['model']}"


def summary_json(report: Mapping[str, Any]) -> str:
    """The report without its items, as one line of JSON."""
    return json.dumps({k: v for k, v in report.items() if k != "items"}, ensure_ascii=False)
