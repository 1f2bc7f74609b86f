"""One dataset example: a user request, its reference plan and the moment it was said.

The JSONL line format (the same for data/*.jsonl, the packaged example bank and eval sets) is::

    {"id": ..., "query": ..., "plan": ..., "now": "YYYY-MM-DD HH:MM:SS", "tools": [...]}

`tools` lists the plan's tools in plan order, deduplicated, `join` excluded. An integer `id` is
read as its decimal text. `read_examples` and `write_examples` are the one reader and writer of
that format: UTF-8, no ASCII escaping, keys in the order above, `\\n` line ends, so equal data
gives byte-identical files. `iter_json_objects` is the one JSON-lines reading loop under them
(also used for other records, e.g. evaluation predictions); `iter_numbered_examples` validates
each object as an `Example` or a subclass of it (e.g. the evaluation's `EvalItem`).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Self, TextIO, TypeVar, overload

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from pocketagent.errors import DataFormatError
from pocketagent.plan.language import Plan

__all__ = [
    "FIELDS",
    "DataFormatError",
    "Example",
    "iter_json_objects",
    "iter_numbered_examples",
    "read_examples",
    "tools_of",
    "write_examples",
]

FIELDS = ("id", "query", "plan", "now", "tools")


def tools_of(plan: Plan) -> list[str]:
    """The plan's tool names in plan order, deduplicated, join excluded."""
    seen: dict[str, None] = {}
    for action in plan.tool_actions:
        seen.setdefault(action.tool, None)
    return list(seen)


class Example(BaseModel):
    """A (request, plan) pair with the time it was made (dates in the plan resolve against `now`).

    Fields may also be given positionally, in the order of `FIELDS`.
    """

    # strict: a number where a string belongs is an error, not silently converted
    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")

    id: str = ""
    query: str
    plan: str
    now: str = ""  # "YYYY-MM-DD HH:MM:SS"; its format is a dataset check (checks.BAD_NOW), not a parse error
    tools: tuple[str, ...] = ()

    def __init__(self, *args: Any, **fields: Any) -> None:
        if len(args) > len(FIELDS):
            raise TypeError(f"Example takes at most {len(FIELDS)} positional arguments")
        fields.update(zip(FIELDS, args))
        super().__init__(**fields)

    @field_validator("id", mode="before")
    @classmethod
    def _integer_id_as_text(cls, value: Any) -> Any:
        # eval sets number their items ("id": 7); bool is an int to Python but not an id
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("tools", mode="before")
    @classmethod
    def _tools_as_tuple(cls, value: Any) -> Any:
        # JSON gives a list; the model keeps an immutable tuple
        return tuple(value) if isinstance(value, list) else value

    @classmethod
    def from_plan(cls, example_id: str, query: str, plan: Plan, now: str) -> Example:
        """Build an example from a Plan object; the plan text is always the canonical rendering."""
        return cls(id=example_id, query=query, plan=plan.render(), now=now, tools=tuple(tools_of(plan)))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in the canonical order."""
        return {"id": self.id, "query": self.query, "plan": self.plan, "now": self.now, "tools": list(self.tools)}

    def to_json_line(self) -> str:
        """The JSONL line (with its newline) this example is written as."""
        return json.dumps(self.to_dict(), ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, record: Any, where: str = "") -> Self:
        """Validate a decoded JSON object and build an example; raises `DataFormatError`."""
        prefix = f"{where}: " if where else ""
        if not isinstance(record, dict):
            raise DataFormatError(f"{prefix}expected a JSON object, got {type(record).__name__}")
        try:
            return cls.model_validate(record)
        except ValidationError as error:
            raise DataFormatError(prefix + _describe(error)) from None


def _describe(error: ValidationError) -> str:
    """The first validation problem as one line: ``field 'now': must be ...``."""
    first = error.errors(include_url=False)[0]
    field = str(first["loc"][0]) if first["loc"] else "record"
    if first["type"] == "missing":
        missing = [str(e["loc"][0]) for e in error.errors() if e["type"] == "missing"]
        return f"missing field(s) {', '.join(missing)}"
    if field == "tools":
        return "field 'tools' must be a list of strings"
    if first["type"] == "string_type":
        return f"field {field!r} must be a string, got {type(first['input']).__name__}"
    if first["type"] == "value_error" and "error" in first.get("ctx", {}):
        # a subclass's own check (e.g. the reference plan must parse): its message as written
        return str(first["ctx"]["error"])
    return f"field {field!r}: {first['msg']}"


def open_text(path: Path) -> TextIO:
    """`path` opened as UTF-8 text (a `.gz` file decompressed); `DataFormatError` saying why not."""
    try:
        return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")
    except FileNotFoundError:
        raise DataFormatError(f"{path}: cannot read: no such file") from None
    except IsADirectoryError:
        raise DataFormatError(f"{path}: cannot read: is a directory, expected a file") from None
    except OSError as error:
        raise DataFormatError(f"{path}: cannot read: {error.strerror or error}") from None


def read_text(path: Path) -> str:
    """The whole text of `path` (as `open_text` opens it); `DataFormatError` for an unreadable file."""
    with open_text(path) as handle:
        try:
            return handle.read()
        except UnicodeDecodeError as error:
            raise DataFormatError(f"{path}: not UTF-8 text (byte {error.start})") from None
        except (EOFError, gzip.BadGzipFile, OSError) as error:
            raise DataFormatError(f"{path}: cannot read: {error}") from None


def iter_json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, JSON object) for each non-blank line of a JSONL (or `.jsonl.gz`) file, streaming.

    Raises `DataFormatError` starting with ``file[:line]:`` for an unreadable file, a line that
    is not JSON or a value that is not an object.
    """
    with open_text(path) as handle:
        number = 0
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DataFormatError(f"{path}:{number}: not valid JSON ({error.msg})") from None
                if not isinstance(record, dict):
                    raise DataFormatError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
                yield number, record
        except UnicodeDecodeError:
            raise DataFormatError(f"{path}:{number + 1}: not UTF-8 text") from None
        except (EOFError, gzip.BadGzipFile) as error:
            raise DataFormatError(f"{path}: not a complete gzip file ({error})") from None


E = TypeVar("E", bound=Example)


@overload
def iter_numbered_examples(path: Path) -> Iterator[tuple[int, Example]]: ...


@overload
def iter_numbered_examples(path: Path, model: type[E]) -> Iterator[tuple[int, E]]: ...


def iter_numbered_examples(path: Path, model: type[Example] = Example) -> Iterator[tuple[int, Example]]:
    """(line number, example) for each non-blank line of a JSONL (or `.jsonl.gz`) file, streaming.

    Each object is validated as `model` (`Example` or a subclass). Raises `DataFormatError`
    naming ``file:line`` for an unreadable file or a bad line.
    """
    for number, record in iter_json_objects(path):
        yield number, model.from_dict(record, where=f"{path}:{number}")


def read_examples(path: Path) -> Iterator[Example]:
    """The examples of a JSONL file, streaming; raises `DataFormatError` with ``file:line``."""
    for _, example in iter_numbered_examples(path):
        yield example


def write_examples(path: Path, examples: Iterable[Example]) -> int:
    """Write examples as JSONL (creating the parent folder); returns how many were written."""
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for example in examples:
            handle.write(example.to_json_line())
            count += 1
    return count
