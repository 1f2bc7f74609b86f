"""Dataset files: our JSONL, and best-effort import/export of the TinyAgent dataset JSON.

JSONL: one `Example` per line, keys in the order id, query, plan, now, tools; UTF-8, no ASCII
escaping, `\\n` line ends, so equal data gives byte-identical files.

TinyAgent JSON (assumed shape, from the public TinyAgent code's data utilities)::

    {"<example id>": {
        "input": "<user query>",
        "output": [
            {"type": "plan", "raw_input": "<str(list of chat messages)>", "raw_output": "<plan text>",
             "parsed_output": [{"tool_name": "...", "tool_args": {"<param>": value}}, ...],
             "id": "<uuid>", "index": 0},
            {"type": "join" | "replan", "raw_input": "...", "raw_output": "Thought: ...\\nAction: Finish(...)",
             "parsed_output": {"thought": "...", "action": "Finish" | "Replan", "message": "..."},
             "id": "<uuid>", "index": 1}],
        "closest_5_queries": [...]}}

Import takes the first "plan" step: its `raw_output` if it parses (Thought lines dropped), else
rebuilds the plan from `parsed_output`, whose `tool_args` are a list (positional) or an object
(in the registry's parameter order when the tool is known, else in the given order). `now`
comes from a "now" key (which our export writes), else the first date-time in the plan step's
`raw_input`, else the caller's default. `from_tinyagent` is the one reader of this format: both
`datagen import-tinyagent` and the evaluation loader (`pocketagent eval file.json`) use it.
Export writes one plan step and one join step per example.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pocketagent.data.example import DataFormatError, Example, read_examples, write_examples
from pocketagent.errors import PlanParseError, PocketAgentError
from pocketagent.plan.language import JOIN, Action, Plan, parse_plan
from pocketagent.tools.registry import ToolRegistry

_UUID_NAMESPACE = uuid.UUID("6f1d2a7e-4b53-4d8e-9a57-2c0f3b8e1d42")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?")


def write_jsonl(path: Path, examples: Iterable[Example]) -> int:
    """Write examples as JSONL; returns how many were written (see `write_examples`)."""
    return write_examples(path, examples)


def iter_jsonl(path: Path) -> Iterator[Example]:
    """Examples of a JSONL file; raises `DataFormatError` naming the line at fault."""
    return read_examples(path)


def read_jsonl(path: Path) -> list[Example]:
    """All examples of a JSONL file."""
    return list(read_examples(path))


def read_queries(path: Path) -> list[str]:
    """Just the `query` fields of a JSONL file (for held-out leakage checks)."""
    return [example.query for example in iter_jsonl(path)]


# ---- TinyAgent ------------------------------------------------------------------------------


def _messages(example: Example) -> str:
    messages = [
        {"role": "system", "content": f"Current time: {example.now}"},
        {"role": "user", "content": example.query},
    ]
    return str(messages)  # TinyAgent stores raw_input as a Python literal of the message list


def to_tinyagent(examples: Iterable[Example], registry: ToolRegistry) -> dict[str, Any]:
    """Examples in the TinyAgent dataset shape (see the module docstring)."""
    data: dict[str, Any] = {}
    for example in examples:
        plan = parse_plan(example.plan)
        steps = []
        for action in plan.actions:
            if action.is_join:
                steps.append({"tool_name": JOIN, "tool_args": {}})
                continue
            names = [p.name for p in registry.get(action.tool).parameters]
            steps.append({"tool_name": action.tool, "tool_args": dict(zip(names, action.args))})
        key = example.id or f"example-{len(data) + 1}"
        data[key] = {
            "input": example.query,
            "now": example.now,
            "output": [
                {
                    "type": "plan",
                    "raw_input": _messages(example),
                    "raw_output": example.plan,
                    "parsed_output": steps,
                    "id": str(uuid.uuid5(_UUID_NAMESPACE, f"{key}:plan")),
                    "index": 0,
                },
                {
                    "type": "join",
                    "raw_input": _messages(example),
                    "raw_output": "Thought: The plan has been executed.\nAction: Finish(Task completed!)",
                    "parsed_output": {
                        "thought": "The plan has been executed.",
                        "action": "Finish",
                        "message": "Task completed!",
                    },
                    "id": str(uuid.uuid5(_UUID_NAMESPACE, f"{key}:join")),
                    "index": 1,
                },
            ],
            "closest_5_queries": [],
        }
    return data


def _step_args(tool_name: str, tool_args: Any, registry: ToolRegistry) -> tuple[Any, ...]:
    """A parsed_output step's arguments in call order (see the module docstring)."""
    if isinstance(tool_args, list):
        return tuple(tool_args)
    if not isinstance(tool_args, dict):
        raise DataFormatError(f"tool_args of {tool_name} is not a list or an object")
    if tool_name not in registry:
        return tuple(tool_args.values())
    names = [p.name for p in registry.get(tool_name).parameters]
    missing = [n for n in names if n not in tool_args]
    if missing:
        raise DataFormatError(f"{tool_name} step lacks argument(s) {', '.join(missing)}")
    return tuple(tool_args[n] for n in names)


def _plan_from_steps(steps: Any, registry: ToolRegistry) -> Plan:
    if not isinstance(steps, list) or not steps:
        raise DataFormatError("parsed_output is not a list of steps")
    actions: list[Action] = []
    for step in steps:
        if not isinstance(step, dict) or not isinstance(step.get("tool_name"), str):
            raise DataFormatError("a parsed_output step has no tool_name")
        tool_name = step["tool_name"]
        if tool_name == JOIN:
            break
        actions.append(
            Action(len(actions) + 1, tool_name, _step_args(tool_name, step.get("tool_args") or {}, registry))
        )
    actions.append(Action(len(actions) + 1, JOIN))
    plan = Plan(tuple(actions))
    try:
        plan.render()  # an argument JSON can hold but the plan language cannot write (an object)
    except TypeError as error:
        raise DataFormatError(str(error)) from None
    return plan


def _strip_thoughts(plan: Plan) -> Plan:
    return Plan(tuple(Action(a.id, a.tool, a.args) for a in plan.actions))


def from_tinyagent(
    data: Any, registry: ToolRegistry, default_now: str = ""
) -> tuple[list[Example], list[tuple[str, str]]]:
    """Examples from TinyAgent-shaped data, plus (key, problem) for entries that could not be read.

    `registry` orders keyword `tool_args` (`builtin_registry()` for TinyAgent's own tools);
    `default_now` is the request time of entries that name none ("" leaves it empty).
    """
    if not isinstance(data, dict):
        raise DataFormatError("TinyAgent data must be a JSON object keyed by example id")
    examples: list[Example] = []
    problems: list[tuple[str, str]] = []
    for key, value in data.items():
        try:
            examples.append(_one_from_tinyagent(str(key), value, registry, default_now))
        except (DataFormatError, PlanParseError, PocketAgentError) as error:
            problems.append((str(key), str(error)))
    return examples, problems


def _one_from_tinyagent(key: str, value: Any, registry: ToolRegistry, default_now: str) -> Example:
    if not isinstance(value, dict) or not isinstance(value.get("input"), str) or not value["input"].strip():
        raise DataFormatError("entry has no non-empty string 'input'")
    steps = value.get("output")
    if not isinstance(steps, list):
        raise DataFormatError("entry has no 'output' list of steps")
    plan_step = next((s for s in steps if isinstance(s, dict) and s.get("type") == "plan"), None)
    if plan_step is None:
        raise DataFormatError('entry has no plan step ("type": "plan") in \'output\'')
    raw = plan_step.get("raw_output")
    try:
        if not isinstance(raw, str):
            raise PlanParseError("no raw_output text")
        plan = _strip_thoughts(parse_plan(raw))
    except PlanParseError as first_error:
        try:
            plan = _plan_from_steps(plan_step.get("parsed_output"), registry)
        except (DataFormatError, PocketAgentError) as second_error:
            raise DataFormatError(f"plan unreadable: {first_error}; parsed_output: {second_error}") from None
    return Example.from_plan(key, value["input"], plan, tinyagent_now(value, plan_step) or default_now)


def tinyagent_now(entry: dict[str, Any], plan_step: dict[str, Any]) -> str | None:
    """The request time of a TinyAgent entry: its "now" key (our export writes it), else the
    first date-time in the plan step's prompt (`raw_input`), as "YYYY-MM-DD HH:MM:SS"; None if neither."""
    now = entry.get("now")
    if isinstance(now, str) and now:
        return now
    found = _DATETIME.search(str(plan_step.get("raw_input", "")))
    if found is None:
        return None
    text = found.group(0).replace("T", " ")
    return text + ":00" if len(text) == 16 else text


def export_tinyagent(path: Path, examples: Iterable[Example], registry: ToolRegistry) -> int:
    """Write examples as TinyAgent JSON; returns the count."""
    data = to_tinyagent(examples, registry)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return len(data)


def import_tinyagent(
    path: Path, registry: ToolRegistry, default_now: str
) -> tuple[list[Example], list[tuple[str, str]]]:
    """Read a TinyAgent JSON file; see `from_tinyagent`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DataFormatError(f"cannot read {path}: {error.strerror or error}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{path}: not valid JSON ({error})") from None
    return from_tinyagent(data, registry, default_now)
