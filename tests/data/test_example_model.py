"""The one Example model and its JSONL reader/writer (issue #12)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pocketagent.data.example import DataFormatError, Example, read_examples, write_examples
from pocketagent.data.formats import from_tinyagent, to_tinyagent
from pocketagent.evaluation.datasets import load_items
from pocketagent.tools.builtin import builtin_registry

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = [ROOT / "data/handwritten-check.jsonl", ROOT / "data/handwritten-dev.jsonl"]
BANK = ROOT / "src/pocketagent/toolrag/data/bank.jsonl.gz"

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
examples = st.builds(
    Example,
    id=text,
    query=text,
    plan=text,
    now=st.sampled_from(["", "2026-03-11 09:00:00"]),
    tools=st.lists(text, max_size=3).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(examples, max_size=5))
def test_write_then_read_gives_equal_examples(tmp_path_factory: pytest.TempPathFactory, items: list[Example]) -> None:
    path = tmp_path_factory.mktemp("rt") / "d.jsonl"
    assert write_examples(path, items) == len(items)
    assert list(read_examples(path)) == items


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_committed_jsonl_loads(path: Path) -> None:
    loaded = list(read_examples(path))
    assert len(loaded) == sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def test_a_file_we_wrote_rewrites_byte_identically(tmp_path: Path) -> None:
    # handwritten-check.jsonl is in our canonical form (handwritten-dev.jsonl is hand-edited: load only)
    path = ROOT / "data/handwritten-check.jsonl"
    write_examples(tmp_path / path.name, read_examples(path))
    assert (tmp_path / path.name).read_bytes() == path.read_bytes()


def test_packaged_bank_loads_and_rewrites_identically() -> None:
    loaded = list(read_examples(BANK))
    assert loaded
    assert "".join(e.to_json_line() for e in loaded).encode() == gzip.decompress(BANK.read_bytes())


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"query": "q", "plan": 1}', "field 'plan' must be a string, got int"),
        ('{"id": true, "query": "q", "plan": "p"}', "field 'id' must be a string, got bool"),
        ('{"query": "q"', "not valid JSON"),
    ],
)
def test_a_bad_line_is_a_typed_error_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"query": "q", "plan": "p"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as caught:
        list(read_examples(path))
    assert str(caught.value) == f"{path}:3: {message}" or str(caught.value).startswith(f"{path}:3: {message}")
    assert "\n" not in str(caught.value)


def test_examples_are_positional_or_keyword_and_frozen() -> None:
    example = Example("a", "q", "p", "2026-03-11 09:00:00", ("t",))
    assert example == Example(id="a", query="q", plan="p", now="2026-03-11 09:00:00", tools=["t"])
    with pytest.raises(ValidationError, match="frozen"):
        example.query = "other"  # type: ignore[misc]


def test_tinyagent_round_trip_keeps_now_in_datagen_and_eval(tmp_path: Path) -> None:
    original = Example.from_plan(
        "x1",
        "show me Paris",
        __import__("pocketagent.plan.language", fromlist=["parse_plan"]).parse_plan(
            '1. maps_open_location("Paris")\n2. join()<END_OF_PLAN>'
        ),
        "2026-05-04 17:30:00",
    )
    data = to_tinyagent([original], builtin_registry())
    back, problems = from_tinyagent(data, builtin_registry(), default_now="2000-01-01 00:00:00")
    assert problems == [] and back == [original]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    [item] = load_items(path)
    assert item.when is not None and item.when.strftime("%Y-%m-%d %H:%M:%S") == original.now
    assert (item.plan, item.now, item.tools) == (original.plan, original.now, original.tools)


def test_an_integer_id_is_read_as_its_text_but_a_bool_is_not() -> None:
    assert Example.from_dict({"id": 7, "query": "q", "plan": "p"}).id == "7"
    assert Example(id=0, query="q", plan="p").id == "0"
    with pytest.raises(DataFormatError, match="field 'id' must be a string, got bool"):
        Example.from_dict({"id": False, "query": "q", "plan": "p"})
