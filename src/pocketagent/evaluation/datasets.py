"""Evaluation inputs: reference items and stored predictions.

Reference sets (`load_items`) come in two formats, told apart by content:

- JSONL, one object per line: ``id`` (optional; default: the 1-based line number), ``query``,
  ``plan`` (plan-language text), optional ``now`` (``"YYYY-MM-DD HH:MM:SS"``, the time the
  request is made) and optional ``tools`` (list of tool names). Other keys are ignored.
  Blank lines are skipped.
- TinyAgent's dataset JSON (best effort, from its ``data_utils`` serialization): one object
  keyed by item id, each value ``{"input": query, "output": [step, ...]}`` where the step with
  ``"type": "plan"`` holds the plan text in ``raw_output`` (and the same plan as
  ``parsed_output``: ``[{"tool_name", "tool_args"}, ...]``); ``join``/``replan`` steps are
  ignored. If ``raw_output`` does not parse, the plan is rebuilt from ``parsed_output``.

Predictions (`load_predictions`) are JSONL: ``id`` (default: line number) and ``plan`` (plan
text, or null when the model produced none), optional ``error``, ``latency_s``,
``prompt_tokens``. A prediction whose text does not parse is kept with its parse error: it
is a parse failure to score, not a bad file.

Every problem with a file raises `EvalFileError` with a ``file[:line]: message`` text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pocketagent.data.formats import tinyagent_now
from pocketagent.errors import PlanParseError, PocketAgentError
from pocketagent.plan.language import JOIN, Plan, parse_plan, render_value
from pocketagent.timefmt import NOW_FORMAT


class EvalFileError(PocketAgentError):
    """An evaluation input (dataset, predictions, report) is missing or malformed.

    The message starts with ``file[:line]:``.
    """


@dataclass(frozen=True)
class EvalItem:
    """One request with its reference plan."""

    id: str
    query: str
    plan: Plan
    plan_text: str
    now: datetime | None = None
    tools: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Prediction:
    """A stored planner output for one item; `plan` is None when there is no parsable plan."""

    id: str
    text: str
    plan: Plan | None
    error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None


def parse_now(text: str) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM:SS``; raises ValueError with a readable message."""
    try:
        return datetime.strptime(text.strip(), NOW_FORMAT)
    except ValueError:
        raise ValueError(f"'now' must be 'YYYY-MM-DD HH:MM:SS', got {text!r}") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise EvalFileError(f"{path}: is a directory, expected a file") from None
    except UnicodeDecodeError as exc:
        raise EvalFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _json_lines(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; bad JSON or non-objects raise."""
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{path}:{line_no}: invalid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(record, dict):
            raise EvalFileError(f"{path}:{line_no}: expected a JSON object, got {type(record).__name__}")
        yield line_no, record


def _item_id(record: dict[str, Any], default: str, where: str) -> str:
    value = record.get("id", default)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
        raise EvalFileError(f"{where}: 'id' must be a non-empty string or an integer, got {value!r}")
    return str(value)


def _check_unique(seen: dict[str, str], item_id: str, where: str) -> None:
    if item_id in seen:
        raise EvalFileError(f"{where}: duplicate id {item_id!r} (first at {seen[item_id]})")
    seen[item_id] = where


def _reference_plan(text: Any, where: str) -> Plan:
    if not isinstance(text, str) or not text.strip():
        raise EvalFileError(f"{where}: 'plan' must be a non-empty plan text")
    try:
        return parse_plan(text)
    except PlanParseError as exc:
        raise EvalFileError(f"{where}: reference plan does not parse: {exc}") from None


def _optional_now(record: dict[str, Any], where: str) -> datetime | None:
    value = record.get("now")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EvalFileError(f"{where}: 'now' must be a string 'YYYY-MM-DD HH:MM:SS', got {value!r}")
    try:
        return parse_now(value)
    except ValueError as exc:
        raise EvalFileError(f"{where}: {exc}") from None


def _optional_tools(record: dict[str, Any], where: str) -> tuple[str, ...] | None:
    value = record.get("tools")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise EvalFileError(f"{where}: 'tools' must be a list of tool names")
    return tuple(value)


def load_jsonl_items(path: str | Path) -> list[EvalItem]:
    """Reference items from a JSONL file (format in the module docstring)."""
    path = Path(path)
    return _jsonl_items(path, _read_text(path))


def _jsonl_items(path: Path, text: str) -> list[EvalItem]:
    items: list[EvalItem] = []
    seen: dict[str, str] = {}
    for line_no, record in _json_lines(path, text):
        where = f"{path}:{line_no}"
        item_id = _item_id(record, str(line_no), where)
        _check_unique(seen, item_id, where)
        query = record.get("query")
        if not isinstance(query, str) or not query.strip():
            raise EvalFileError(f"{where}: 'query' must be a non-empty string")
        plan_text = record.get("plan")
        plan = _reference_plan(plan_text, where)
        items.append(
            EvalItem(
                id=item_id,
                query=query,
                plan=plan,
                plan_text=str(plan_text),  # a non-empty string: _reference_plan checked it
                now=_optional_now(record, where),
                tools=_optional_tools(record, where),
            )
        )
    if not items:
        raise EvalFileError(f"{path}: no items")
    return items


def _plan_from_parsed_output(steps: Any, where: str) -> str:
    """Render TinyAgent's ``parsed_output`` steps as plan text (positional or keyword args)."""
    if not isinstance(steps, list) or not steps:
        raise EvalFileError(f"{where}: planner step has no usable 'raw_output' or 'parsed_output'")
    lines: list[str] = []
    for step in steps:
        if not isinstance(step, dict) or not isinstance(step.get("tool_name"), str):
            raise EvalFileError(f"{where}: 'parsed_output' steps must be objects with a 'tool_name'")
        if step["tool_name"] == JOIN:
            break
        args = step.get("tool_args") or []
        values = list(args.values()) if isinstance(args, dict) else args
        if not isinstance(values, list):
            raise EvalFileError(f"{where}: 'tool_args' must be a list or an object")
        try:
            rendered = ", ".join(render_value(v) for v in values)
        except TypeError as exc:
            raise EvalFileError(f"{where}: {exc}") from None
        lines.append(f"{len(lines) + 1}. {step['tool_name']}({rendered})")
    lines.append(f"{len(lines) + 1}. join()<END_OF_PLAN>")
    return "\n".join(lines)


def _tinyagent_item(path: Path, key: str, entry: Any) -> EvalItem:
    where = f"{path}: item {key!r}"
    if not isinstance(entry, dict):
        raise EvalFileError(f"{where}: expected an object with 'input' and 'output'")
    query = entry.get("input")
    if not isinstance(query, str) or not query.strip():
        raise EvalFileError(f"{where}: 'input' must be a non-empty string")
    steps = entry.get("output")
    if not isinstance(steps, list):
        raise EvalFileError(f"{where}: 'output' must be a list of steps")
    planner = next((s for s in steps if isinstance(s, dict) and s.get("type") == "plan"), None)
    if planner is None:
        raise EvalFileError(f'{where}: no planner step ("type": "plan") in \'output\'')
    # the same request time as `datagen import-tinyagent` gives (one reading of TinyAgent's format)
    now_text = tinyagent_now(entry, planner)
    try:
        now = parse_now(now_text) if now_text else None
    except ValueError as exc:
        raise EvalFileError(f"{where}: {exc}") from None
    raw = planner.get("raw_output")
    if isinstance(raw, str) and raw.strip():
        try:
            return EvalItem(id=key, query=query, plan=parse_plan(raw), plan_text=raw, now=now)
        except PlanParseError:
            pass  # TinyAgent raw outputs sometimes omit join(); parsed_output is the fallback
    text = _plan_from_parsed_output(planner.get("parsed_output"), where)
    return EvalItem(id=key, query=query, plan=_reference_plan(text, where), plan_text=text, now=now)


def load_tinyagent_items(path: str | Path) -> list[EvalItem]:
    """Reference items from a TinyAgent dataset JSON file (best effort; see module docstring)."""
    path = Path(path)
    return _tinyagent_items(path, _read_text(path))


def _tinyagent_items(path: Path, text: str) -> list[EvalItem]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalFileError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise EvalFileError(f"{path}: expected a JSON object keyed by item id")
    items = [_tinyagent_item(path, str(key), entry) for key, entry in data.items()]
    if not items:
        raise EvalFileError(f"{path}: no items")
    return items


def _looks_like_tinyagent(text: str) -> Any:
    """The parsed document if the whole file is one TinyAgent-shaped JSON object, else None."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict) and data and all(isinstance(v, dict) and "input" in v for v in data.values()):
        return data
    return None


def load_items(path: str | Path) -> list[EvalItem]:
    """Reference items from JSONL or a TinyAgent dataset JSON, detected by content."""
    path = Path(path)
    text = _read_text(path)
    if _looks_like_tinyagent(text) is not None:
        return _tinyagent_items(path, text)
    return _jsonl_items(path, text)


def load_predictions(path: str | Path) -> dict[str, Prediction]:
    """Predictions by id from a JSONL file (format in the module docstring); may be empty."""
    path = Path(path)
    predictions: dict[str, Prediction] = {}
    seen: dict[str, str] = {}
    for line_no, record in _json_lines(path, _read_text(path)):
        where = f"{path}:{line_no}"
        pred_id = _item_id(record, str(line_no), where)
        _check_unique(seen, pred_id, where)
        predictions[pred_id] = _prediction(pred_id, record, where)
    return predictions


def _prediction(pred_id: str, record: dict[str, Any], where: str) -> Prediction:
    text = record.get("plan")
    if text is not None and not isinstance(text, str):
        raise EvalFileError(f"{where}: 'plan' must be plan text or null")
    error = record.get("error")
    if error is not None and not isinstance(error, str):
        raise EvalFileError(f"{where}: 'error' must be a string or null")
    latency = record.get("latency_s")
    if latency is not None and (isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency < 0):
        raise EvalFileError(f"{where}: 'latency_s' must be a non-negative number")
    tokens = record.get("prompt_tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0):
        raise EvalFileError(f"{where}: 'prompt_tokens' must be a non-negative integer")
    plan: Plan | None = None
    if text is None or not text.strip():
        error = error or "no plan"
    else:
        try:
            plan = parse_plan(text)
        except PlanParseError as exc:
            error = f"plan does not parse: {exc}"
    return Prediction(
        id=pred_id,
        text=text or "",
        plan=plan,
        error=error,
        latency_s=float(latency) if latency is not None else None,
        prompt_tokens=tokens,
    )
