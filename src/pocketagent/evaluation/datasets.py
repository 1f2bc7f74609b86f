"""Evaluation inputs: reference items and stored predictions.

Reference sets (`load_items`) come in two formats, told apart by content:

- JSONL, the dataset example format (`pocketagent.data.example`, read by its one reader):
  ``id`` (optional; default: the 1-based line number; an integer is read as its text),
  ``query``, ``plan`` (plan-language text), optional ``now`` (``"YYYY-MM-DD HH:MM:SS"``, the
  time the request is made) and optional ``tools`` (list of tool names). Other keys are
  ignored. Blank lines are skipped. The query must be non-empty and the plan must parse.
- TinyAgent's dataset JSON, read by `pocketagent.data.formats.from_tinyagent` (the same reader
  as `datagen import-tinyagent`, with the builtin registry; format in that module). Every entry
  must be readable; the request time is the one TinyAgent records, else none.

Each item is an `EvalItem`: an `Example` (``plan`` is the reference plan *text*) that adds the
parsed reference plan (`reference`) and the request time as a datetime (`when`).

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
from typing import Any, Self

from pydantic import PrivateAttr, model_validator

from pocketagent.data.example import Example, iter_json_objects, iter_numbered_examples, read_text
from pocketagent.data.formats import from_tinyagent
from pocketagent.errors import DataFormatError, PlanParseError, PocketAgentError
from pocketagent.plan.language import Plan, parse_plan
from pocketagent.timefmt import NOW_FORMAT
from pocketagent.tools import builtin_registry


class EvalFileError(PocketAgentError):
    """An evaluation input (dataset, predictions, report) is missing or malformed.

    The message starts with ``file[:line]:``.
    """


def parse_now(text: str) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM:SS``; raises ValueError with a readable message."""
    try:
        return datetime.strptime(text.strip(), NOW_FORMAT)
    except ValueError:
        raise ValueError(f"'now' must be 'YYYY-MM-DD HH:MM:SS', got {text!r}") from None


class EvalItem(Example):
    """One request with its reference plan: an `Example` whose query is non-empty, whose plan
    parses (`reference`) and whose `now`, when given, is a time (`when`; None when not given)."""

    _reference: Plan = PrivateAttr()
    _when: datetime | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_and_parse(self) -> Self:
        # ValueError messages become the `DataFormatError` text (after `file:line:`)
        if not self.query.strip():
            raise ValueError("'query' must be a non-empty string")
        if not self.plan.strip():
            raise ValueError("'plan' must be a non-empty plan text")
        try:
            self._reference = parse_plan(self.plan)
        except PlanParseError as error:
            raise ValueError(f"reference plan does not parse: {error}") from None
        self._when = parse_now(self.now) if self.now else None
        return self

    @property
    def reference(self) -> Plan:
        """The reference plan, parsed."""
        return self._reference

    @property
    def when(self) -> datetime | None:
        """The time the request is made, or None when the item does not say."""
        return self._when

    def at(self, when: datetime) -> EvalItem:
        """This item with its request time set to `when`."""
        return EvalItem(**{**self.to_dict(), "now": when.strftime(NOW_FORMAT)})


@dataclass(frozen=True)
class Prediction:
    """A stored planner output for one item; `plan` is None when there is no parsable plan."""

    id: str
    text: str
    plan: Plan | None
    error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None


def _read_text(path: Path) -> str:
    """`data.example.read_text` with its errors as `EvalFileError`."""
    try:
        return read_text(path)
    except DataFormatError as error:
        raise EvalFileError(str(error)) from None


def _json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """`iter_json_objects` with its errors as `EvalFileError`."""
    try:
        yield from iter_json_objects(path)
    except DataFormatError as error:
        raise EvalFileError(str(error)) from None


def _item_id(record: dict[str, Any], default: str, where: str) -> str:
    value = record.get("id", default)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
        raise EvalFileError(f"{where}: 'id' must be a non-empty string or an integer, got {value!r}")
    return str(value)


def _check_unique(seen: dict[str, str], item_id: str, where: str) -> None:
    if item_id in seen:
        raise EvalFileError(f"{where}: duplicate id {item_id!r} (first at {seen[item_id]})")
    seen[item_id] = where


def load_jsonl_items(path: str | Path) -> list[EvalItem]:
    """Reference items from a JSONL file (format in the module docstring)."""
    path = Path(path)
    items: list[EvalItem] = []
    seen: dict[str, str] = {}
    try:
        for line_no, item in iter_numbered_examples(path, EvalItem):
            if not item.id:
                item = item.model_copy(update={"id": str(line_no)})
            _check_unique(seen, item.id, f"{path}:{line_no}")
            items.append(item)
    except DataFormatError as error:
        raise EvalFileError(str(error)) from None
    if not items:
        raise EvalFileError(f"{path}: no items")
    return items


def _tinyagent_items(path: Path, data: Any) -> list[EvalItem]:
    try:
        examples, problems = from_tinyagent(data, builtin_registry())
    except DataFormatError as error:
        raise EvalFileError(f"{path}: {error}") from None
    if problems:
        key, problem = problems[0]
        raise EvalFileError(f"{path}: item {key!r}: {problem}")
    try:
        items = [EvalItem.from_dict(example.to_dict(), where=f"{path}: item {example.id!r}") for example in examples]
    except DataFormatError as error:
        raise EvalFileError(str(error)) from None
    if not items:
        raise EvalFileError(f"{path}: no items")
    return items


def load_tinyagent_items(path: str | Path) -> list[EvalItem]:
    """Reference items from a TinyAgent dataset JSON file (see the module docstring)."""
    path = Path(path)
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalFileError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    return _tinyagent_items(path, data)


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
    """Reference items from JSONL or a TinyAgent dataset JSON, detected by content (a `.jsonl` or
    `.jsonl.gz` file is JSONL and read once)."""
    path = Path(path)
    if not path.name.endswith((".jsonl", ".jsonl.gz")):  # only a whole-file JSON can be TinyAgent's
        data = _looks_like_tinyagent(_read_text(path))  # also turns a missing or non-UTF-8 file into EvalFileError
        if data is not None:
            return _tinyagent_items(path, data)
    return load_jsonl_items(path)


def load_predictions(path: str | Path) -> dict[str, Prediction]:
    """Predictions by id from a JSONL file (format in the module docstring); may be empty."""
    path = Path(path)
    predictions: dict[str, Prediction] = {}
    seen: dict[str, str] = {}
    for line_no, record in _json_objects(path):
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
