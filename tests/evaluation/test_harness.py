"""Loading eval sets and predictions, running a planner callable, scoring stored predictions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketagent.errors import BackendError, PlanParseError
from pocketagent.evaluation.datasets import (
    EvalFileError,
    load_items,
    load_jsonl_items,
    load_predictions,
    load_tinyagent_items,
)
from pocketagent.evaluation.harness import PlanOutcome, evaluate, score
from pocketagent.plan.language import parse_plan

HANDWRITTEN_DEV = Path(__file__).resolve().parents[2] / "data" / "handwritten-dev.jsonl"  # eval only, never trained on

SMS_PLAN = '1. get_phone_number("Rosalind")\n2. send_sms(["$1"], "the keys are under the mat")\n3. join()<END_OF_PLAN>'
MAP_PLAN = '1. maps_open_location("Machu Picchu")\n2. join()<END_OF_PLAN>'


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def two_items(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "ref.jsonl",
        [
            {
                "id": "sms",
                "query": "text rosalind the keys are under the mat",
                "plan": SMS_PLAN,
                "now": "2026-11-23 10:00:00",
            },
            {"id": "map", "query": "show me machu picchu", "plan": MAP_PLAN, "tools": ["maps_open_location"]},
        ],
    )


# --------------------------------------------------------------------------- the hand-written set


@pytest.mark.skipif(not HANDWRITTEN_DEV.exists(), reason="shared hand-written set not present")
def test_handwritten_references_score_perfectly_against_themselves(tmp_path):
    items = load_items(HANDWRITTEN_DEV)
    assert len(items) == 40
    assert all(item.when == datetime(2026, 11, 23, 10, 0, 0) for item in items)
    preds = write_jsonl(tmp_path / "pred.jsonl", [{"id": i.id, "plan": i.plan} for i in items])
    report = score(items, load_predictions(preds))
    assert report["n"] == 40
    assert report["success_rate"] == 1.0
    assert report["strict_success_rate"] == 1.0
    assert report["parse_failure_rate"] == 0.0
    assert all(s["precision"] == 1.0 and s["recall"] == 1.0 for s in report["per_tool"].values())


# --------------------------------------------------------------------------- JSONL datasets


def test_jsonl_items_are_loaded(two_items):
    items = load_items(two_items)
    assert [i.id for i in items] == ["sms", "map"]
    assert items[0].reference == parse_plan(SMS_PLAN)
    assert items[0].plan == SMS_PLAN
    assert items[0].when == datetime(2026, 11, 23, 10, 0, 0)
    assert items[1].when is None
    assert items[1].tools == ("maps_open_location",)


def test_ids_default_to_line_numbers(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"query": "a", "plan": MAP_PLAN}, "", {"query": "b", "plan": MAP_PLAN}])
    assert [i.id for i in load_jsonl_items(path)] == ["1", "3"]


def test_integer_ids_are_read_as_text_and_compared_with_defaults(tmp_path):
    path = write_jsonl(
        tmp_path / "d.jsonl", [{"id": 7, "query": "a", "plan": MAP_PLAN}, {"query": "b", "plan": MAP_PLAN}]
    )
    assert [i.id for i in load_items(path)] == ["7", "2"]
    clash = write_jsonl(
        tmp_path / "c.jsonl", [{"id": 2, "query": "a", "plan": MAP_PLAN}, {"query": "b", "plan": MAP_PLAN}]
    )
    with pytest.raises(EvalFileError, match=rf"^{clash}:2: duplicate id '2' \(first at {clash}:1\)"):
        load_items(clash)


def test_an_item_at_a_default_time_keeps_its_plan(two_items):
    item = load_items(two_items)[1]
    moved = item.at(datetime(2026, 1, 2, 3, 4, 5))
    assert (moved.when, moved.now) == (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02 03:04:05")
    assert (moved.id, moved.query, moved.plan, moved.reference) == (item.id, item.query, item.plan, item.reference)


@pytest.mark.parametrize(
    ("second_line", "message"),
    [
        ('{"query": "x", "plan": ', ":2: not valid JSON"),
        ("[1, 2]", ":2: expected a JSON object, got list"),
        ('{"plan": "1. join()<END_OF_PLAN>"}', ":2: missing field(s) query"),
        ('{"query": " ", "plan": "1. join()<END_OF_PLAN>"}', ":2: 'query' must be a non-empty string"),
        ('{"query": "x"}', ":2: missing field(s) plan"),
        ('{"query": "x", "plan": ""}', ":2: 'plan' must be a non-empty plan text"),
        ('{"query": "x", "plan": "1. foo(\\"a\\")"}', ":2: reference plan does not parse: plan ended without join()"),
        (
            '{"query": "x", "plan": "1. join()<END_OF_PLAN>", "now": "tomorrow"}',
            ":2: 'now' must be 'YYYY-MM-DD HH:MM:SS'",
        ),
        ('{"query": "x", "plan": "1. join()<END_OF_PLAN>", "tools": "send_sms"}', ":2: field 'tools' must be a list"),
        ('{"id": "a", "query": "x", "plan": "1. join()<END_OF_PLAN>"}', ":2: duplicate id 'a'"),
        ('{"id": ["a"], "query": "x", "plan": "1. join()<END_OF_PLAN>"}', ":2: field 'id' must be a string"),
    ],
)
def test_bad_jsonl_lines_name_file_and_line(tmp_path, second_line, message):
    path = write_jsonl(
        tmp_path / "bad.jsonl", ['{"id": "a", "query": "x", "plan": "1. join()<END_OF_PLAN>"}', second_line]
    )
    with pytest.raises(EvalFileError) as caught:
        load_items(path)
    assert str(caught.value).startswith(f"{path}:2: ")
    assert message in str(caught.value)


def test_unusable_files_are_clear_errors(tmp_path):
    with pytest.raises(EvalFileError, match="no such file"):
        load_items(tmp_path / "missing.jsonl")
    with pytest.raises(EvalFileError, match="is a directory"):
        load_items(tmp_path)
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(EvalFileError, match="no items"):
        load_items(tmp_path / "empty.jsonl")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"query": "caf\xe9"}\n')
    with pytest.raises(EvalFileError, match="not UTF-8"):
        load_items(tmp_path / "latin1.jsonl")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet='{}[]":,. 0123abcquerylanidow$\\', max_size=40), max_size=4))
def test_any_text_loads_or_fails_with_a_file_error(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "d.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        items = load_items(path)
    except EvalFileError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert items


# --------------------------------------------------------------------------- TinyAgent JSON


def tinyagent_entry(query: str, raw_output: str, parsed_output: list) -> dict:
    return {
        "input": query,
        "output": [
            {
                "type": "plan",
                "raw_input": "...prompt...",
                "raw_output": raw_output,
                "parsed_output": parsed_output,
                "id": "8a0f4f2e-1111-4c4c-9d9d-000000000001",
                "index": 0,
            },
            {
                "type": "join",
                "raw_input": "...",
                "raw_output": "Thought: done.\nAction: Finish(Sent.)",
                "parsed_output": {"thought": "done.", "action": "Finish", "message": "Sent."},
                "id": "8a0f4f2e-1111-4c4c-9d9d-000000000002",
                "index": 1,
            },
        ],
        "closest_5_queries": [],
    }


def test_tinyagent_dataset_is_loaded(tmp_path):
    data = {
        "q1": tinyagent_entry(
            "Text Rosalind that the keys are under the mat",
            'Thought: I need the number first.\n1. get_phone_number("Rosalind")\n'
            '2. send_sms(["$1"], "the keys are under the mat")\nThought: done\n3. join()<END_OF_PLAN>',
            [],
        ),
        # raw_output without join(): the plan is rebuilt from parsed_output (keyword args).
        "q2": tinyagent_entry(
            "Show me Machu Picchu",
            '1. maps_open_location("Machu Picchu")',
            [
                {"tool_name": "maps_open_location", "tool_args": {"location": "Machu Picchu"}},
                {"tool_name": "join", "tool_args": {}},
            ],
        ),
    }
    path = tmp_path / "tinyagent.json"
    path.write_text(json.dumps(data, indent=4))
    items = load_items(path)
    assert [i.id for i in items] == ["q1", "q2"]
    assert items[0].query == "Text Rosalind that the keys are under the mat"
    assert [a.tool for a in items[0].reference.tool_actions] == ["get_phone_number", "send_sms"]
    assert "Thought" not in items[0].plan  # the canonical rendering, as `datagen import-tinyagent` writes it
    assert items[1].reference == parse_plan(MAP_PLAN)
    assert items[0].when is None  # neither a "now" key nor a date-time in the prompt
    assert load_tinyagent_items(path) == items


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"input": "x", "output": []}, "no plan step"),
        ({"input": "x"}, "no 'output' list"),
        ({"input": "", "output": []}, "no non-empty string 'input'"),
        ({"input": "x", "output": [{"type": "plan", "raw_output": "garbage"}]}, "plan unreadable"),
        (
            {"input": "x", "now": "soon", "output": [{"type": "plan", "raw_output": MAP_PLAN}]},
            "'now' must be 'YYYY-MM-DD HH:MM:SS'",
        ),
        (
            {
                "input": "x",
                "output": [
                    {"type": "plan", "raw_output": "", "parsed_output": [{"tool_name": "a", "tool_args": [{"k": 1}]}]}
                ],
            },
            "cannot render dict",
        ),
    ],
)
def test_bad_tinyagent_items_name_the_item(tmp_path, entry, message):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"k1": entry}))
    with pytest.raises(EvalFileError) as caught:
        load_tinyagent_items(path)
    assert str(caught.value).startswith(f"{path}: item 'k1': ")
    assert message in str(caught.value)


def test_tinyagent_parsed_output_arguments_as_object_or_list(tmp_path):
    """Keyword args follow the registry's parameter order for known tools, the given order otherwise;
    a list is positional; the request time comes from the prompt when there is no "now" key."""
    create = {"title": "Standup", "start_date": "2026-01-05 09:00:00", "end_date": "2026-01-05 09:15:00"}
    create.update({"location": "", "invitees": [], "notes": "", "calendar": None})
    shuffled = dict(reversed(list(create.items())))
    data = {
        "known": tinyagent_entry(
            "standup monday 9", "", [{"tool_name": "create_calendar_event", "tool_args": shuffled}]
        ),
        "unknown": tinyagent_entry("fax it", "", [{"tool_name": "send_fax", "tool_args": {"to": "x", "pages": 2}}]),
        "listed": tinyagent_entry("show paris", "", [{"tool_name": "maps_open_location", "tool_args": ["Paris"]}]),
    }
    data["known"]["output"][0]["raw_input"] = "[{'role': 'system', 'content': 'Today is 2026-01-02 08:00.'}]"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    known, unknown, listed = load_items(path)
    assert known.reference.tool_actions[0].args == tuple(create.values())
    assert known.when == datetime(2026, 1, 2, 8, 0, 0)
    assert unknown.plan == '1. send_fax("x", 2)\n2. join()<END_OF_PLAN>'
    assert listed.plan == '1. maps_open_location("Paris")\n2. join()<END_OF_PLAN>'


# --------------------------------------------------------------------------- scoring predictions


def test_score_counts_missing_and_unparsable_predictions(two_items, tmp_path):
    preds_path = write_jsonl(
        tmp_path / "pred.jsonl",
        [
            {
                "id": "sms",
                "plan": '1. get_phone_number("Rosalind")\n2. send_sms(["$1"], "keys under the mat")',
                "latency_s": 1.5,
            },
            {"id": "stray", "plan": MAP_PLAN},
        ],
    )
    report = score(load_items(two_items), load_predictions(preds_path))
    assert report["n"] == 2
    assert report["parse_failure_rate"] == 1.0
    assert report["success_rate"] == 0.0
    assert report["unmatched_predictions"] == 1
    sms, mapped = report["items"]
    assert sms["parse_failure"] and sms["error"].startswith("plan does not parse: ")
    assert "join()" in sms["error"]
    assert sms["latency_s"] == 1.5
    assert mapped["error"] == "no prediction"
    assert report["per_tool"]["maps_open_location"]["recall"] == 0.0


def test_score_success_strict_and_failures(two_items, tmp_path):
    preds_path = write_jsonl(
        tmp_path / "pred.jsonl",
        [
            {
                "id": "sms",
                "plan": '1. get_phone_number("rosalind")\n2. send_sms(["$1"], "keys?")\n3. join()<END_OF_PLAN>',
                "prompt_tokens": 800,
            },
            {
                "id": "map",
                "plan": '1. maps_show_directions("", "Machu Picchu", "d")\n2. join()<END_OF_PLAN>',
                "prompt_tokens": 600,
            },
        ],
    )
    report = score(load_items(two_items), load_predictions(preds_path), model="m")
    assert report["success_rate"] == 0.5
    assert report["strict_success_rate"] == 0.0
    assert report["parse_failure_rate"] == 0.0
    assert report["prompt_tokens_mean"] == 700
    assert report["model"] == "m"
    sms, mapped = report["items"]
    assert (sms["success"], sms["strict_success"]) == (True, False)
    assert mapped["predicted_tools"] == ["maps_show_directions"]
    if mapped["edit_distance"] is not None:  # needs scipy
        assert mapped["edit_distance"] == 1.0


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "a", "plan": 3}, "'plan' must be plan text or null"),
        ({"id": "a", "plan": MAP_PLAN, "latency_s": -1}, "'latency_s' must be a non-negative number"),
        ({"id": "a", "plan": MAP_PLAN, "prompt_tokens": "9"}, "'prompt_tokens' must be a non-negative integer"),
    ],
)
def test_bad_prediction_lines(tmp_path, record, message):
    path = write_jsonl(tmp_path / "p.jsonl", [record])
    with pytest.raises(EvalFileError, match=f"^{path}:1: {message}"):
        load_predictions(path)


def test_null_plan_keeps_the_recorded_error(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "plan": None, "error": "model timed out"}, {"plan": None}])
    preds = load_predictions(path)
    assert preds["a"].plan is None and preds["a"].error == "model timed out"
    assert preds["2"].error == "no plan"


# --------------------------------------------------------------------------- running a planner


class CannedPlanner:
    """A deterministic plan_fn: canned outcomes by query, recording the calls it gets."""

    def __init__(self, outcomes: dict):
        self.outcomes = outcomes
        self.calls: list[tuple[str, datetime | None]] = []

    def __call__(self, query: str, now: datetime | None) -> PlanOutcome:
        self.calls.append((query, now))
        outcome = self.outcomes[query]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_evaluate_runs_every_item_and_reports(two_items):
    items = load_items(two_items)
    planner = CannedPlanner(
        {
            items[0].query: PlanOutcome(SMS_PLAN, parse_plan(SMS_PLAN), None, 2.0, 900),
            # plan and error both None: the harness parses the text itself
            items[1].query: PlanOutcome(MAP_PLAN, None, None, 1.0, 700),
        }
    )
    seen = []
    report = evaluate(items, planner, progress=lambda done, total, r: seen.append((done, total, r.id)), model="tiny")
    assert planner.calls == [(items[0].query, datetime(2026, 11, 23, 10, 0, 0)), (items[1].query, None)]
    assert seen == [(1, 2, "sms"), (2, 2, "map")]
    assert report["success_rate"] == 1.0 and report["strict_success_rate"] == 1.0
    assert report["latency_s"] == {"p50": 1.5, "p95": 1.95, "mean": 1.5}
    assert report["prompt_tokens_mean"] == 800
    assert report["items"][1]["predicted"] == MAP_PLAN


def test_planner_errors_are_item_failures_but_backend_errors_stop(two_items):
    items = load_items(two_items)
    planner = CannedPlanner(
        {
            items[0].query: PlanParseError("expected an action", 1, "blah"),
            items[1].query: PlanOutcome("1. maps_open_location(", None, None, 0.5, 10),
        }
    )
    report = evaluate(items, planner)
    assert report["parse_failure_rate"] == 1.0
    assert report["items"][0]["error"].startswith("line 1: expected an action")
    assert report["items"][1]["error"].startswith("plan does not parse: ")
    broken = CannedPlanner({items[0].query: BackendError("model file missing"), items[1].query: None})
    with pytest.raises(BackendError):
        evaluate(items, broken)
