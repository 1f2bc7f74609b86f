"""BFCL adapter: BFCL function docs -> tools, plans -> BFCL output, bfcl-eval's real checker, end to end.

The checker tests use bfcl-eval itself, in its private virtualenv (created on first use under
$XDG_CACHE_HOME/pocketagent/bfcl-venv; a few minutes the first time).
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import llama_cpp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llama_cpp import _internals
from typer.testing import CliRunner

from fakes import ScriptedLLM
from pocketagent.agent.build import build_planner
from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.cli import bfcl as bfcl_cli
from pocketagent.errors import BackendError, BfclError, ModelNotFoundError
from pocketagent.evaluation.bfcl import (
    FUNCTIONGEMMA_270M,
    BfclItemResult,
    BfclPlanner,
    build_report,
    build_tools,
    param_type_for,
    plan_to_bfcl_output,
    run_item,
    summary_line,
    tool_identifier,
)
from pocketagent.evaluation.bfcl_checker import (
    CATEGORIES,
    BfclChecker,
    BfclItem,
    default_venv_dir,
    ensure_checker_venv,
    load_items,
    parse_categories,
    question_text,
)
from pocketagent.llm.base import LLMBackend
from pocketagent.plan.language import Action, Plan, parse_plan
from pocketagent.settings import load_settings
from pocketagent.tools.registry import ParamType

# Shaped like BFCL's own items (simple_python_0, simple_python_1, an irrelevance item) plus the
# parameter kinds the plan language cannot express directly.
TRIANGLE = {
    "name": "calculate_triangle_area",
    "description": "Calculate the area of a triangle given its base and height.",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer", "description": "The base of the triangle."},
            "height": {"type": "integer", "description": "The height of the triangle."},
            "unit": {"type": "string", "description": "The unit of measure (defaults to 'units' if not specified)"},
        },
        "required": ["base", "height"],
    },
}
FACTORIAL = {
    "name": "math.factorial",
    "description": "Calculate the factorial of a given number.",
    "parameters": {
        "type": "dict",
        "properties": {"number": {"type": "integer", "description": "The number."}},
        "required": ["number"],
    },
}
BOOKING = {
    "name": "hotel_booking.book",
    "description": "Book a hotel room.",
    "parameters": {
        "type": "dict",
        "properties": {
            "room_type": {
                "type": "string",
                "enum": ["single", "double"],
                "description": "Kind of room.",
                "default": "single",
            },
            "city": {"type": "string", "description": "Where."},
            "guests": {"type": "array", "items": {"type": "string"}, "description": "Guest names."},
            "nights": {"type": "tuple", "items": {"type": "integer"}, "description": "Nights."},
            "preferences": {"type": "dict", "properties": {"floor": {"type": "integer"}}, "description": "Extras."},
            "rooms": {"type": "array", "items": {"type": "dict"}, "description": "Room specs."},
            "price": {"type": "float", "description": "Max price."},
            "breakfast": {"type": "boolean", "description": "With breakfast."},
            "note": {"type": "any", "description": "Anything."},
        },
        "required": ["city", "nights"],
    },
}


# --------------------------------------------------------------------------- names and types


@pytest.mark.parametrize(
    ("bfcl_name", "taken", "expected"),
    [
        ("math.factorial", (), "math_factorial"),
        ("math_toolkit.sum_of_multiples", (), "math_toolkit_sum_of_multiples"),
        ("get-weather v2", (), "get_weather_v2"),
        ("3d.render", (), "f_3d_render"),
        ("join", (), "join_"),
        ("a.b", ("a_b",), "a_b_2"),
        ("a.b", ("a_b", "a_b_2"), "a_b_3"),
    ],
)
def test_tool_identifier_maps_bfcl_names_to_identifiers(bfcl_name, taken, expected):
    assert tool_identifier(bfcl_name, taken) == expected


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=6, unique=True))
def test_tool_identifiers_are_valid_and_distinct(names):
    taken: list[str] = []
    for name in names:
        taken.append(tool_identifier(name, taken))
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", t) and t != "join" for t in taken)
    assert len(set(taken)) == len(taken)


@pytest.mark.parametrize(
    ("schema", "required", "expected"),
    [
        ({"type": "string"}, True, ParamType(("str",))),
        ({"type": "integer"}, True, ParamType(("int",))),
        ({"type": "float"}, True, ParamType(("float",))),
        ({"type": "boolean"}, False, ParamType(("bool", "none"))),
        ({"type": "any"}, True, ParamType(("str",))),
        ({"type": "dict", "properties": {"a": {"type": "integer"}}}, True, ParamType(("str",))),
        ({"type": "integer"}, False, ParamType(("int", "none"))),
        ({"type": "array", "items": {"type": "string"}}, True, ParamType(("str",), is_list=True)),
        ({"type": "tuple", "items": {"type": "integer"}}, True, ParamType(("int",), is_list=True)),
        ({"type": "array", "items": {"type": "dict"}}, False, ParamType(("str",), is_list=True)),
        (
            {"type": "array", "items": {"type": "array", "items": {"type": "float"}}},
            True,
            ParamType(("str",), is_list=True),
        ),
        ({"type": "array"}, True, ParamType(("str",), is_list=True)),
    ],
)
def test_param_types_map_to_the_closest_plan_type(schema, required, expected):
    assert param_type_for(schema, required) == expected


def test_build_tools_orders_required_first_and_documents_arguments():
    mapping = build_tools([TRIANGLE, FACTORIAL, BOOKING])
    assert mapping.registry.names() == ["calculate_triangle_area", "math_factorial", "hotel_booking_book"]
    assert mapping.functions["math_factorial"].bfcl_name == "math.factorial"
    booking = mapping.registry.get("hotel_booking_book")
    assert [p.name for p in booking.parameters] == [
        "city",
        "nights",
        "room_type",
        "guests",
        "preferences",
        "rooms",
        "price",
        "breakfast",
        "note",
    ]
    assert booking.signature_text() == (
        "hotel_booking_book(city: str, nights: list[int], room_type: str | None, guests: list[str], "
        "preferences: str | None, rooms: list[str], price: float | None, breakfast: bool | None, "
        "note: str | None) -> str"
    )
    description = booking.description
    assert description.startswith("Book a hotel room. Arguments: city: Where | nights: Nights | room_type: Kind")
    assert 'one of "single", "double"' in description and 'default "single"' in description
    assert "preferences: Extras (a JSON object with keys floor, written as a string; optional" in description
    assert "rooms: Room specs (each item a JSON object as a string; optional, [] if not given)" in description
    triangle = mapping.registry.get("calculate_triangle_area")
    assert triangle.signature_text() == "calculate_triangle_area(base: int, height: int, unit: str | None) -> str"


def test_build_tools_rejects_a_nameless_function():
    with pytest.raises(BfclError, match="has no name"):
        build_tools([{"description": "x", "parameters": {}}])


def test_build_tools_accepts_a_function_without_parameters():
    mapping = build_tools([{"name": "now.time", "description": "The time."}])
    assert mapping.registry.get("now_time").signature_text() == "now_time() -> str"
    output = plan_to_bfcl_output(parse_plan("1. now_time()\n2. join()<END_OF_PLAN>"), mapping)
    assert output == [{"now.time": {}}]


# --------------------------------------------------------------------------- plan -> BFCL output


def test_plan_to_output_restores_dotted_names_and_parameter_names():
    mapping = build_tools([TRIANGLE, FACTORIAL])
    plan = parse_plan(
        '1. calculate_triangle_area(10, 5, None)\n2. math_factorial(5)\n3. calculate_triangle_area(1, 2, "cm")\n'
        "4. join()<END_OF_PLAN>"
    )
    assert plan_to_bfcl_output(plan, mapping) == [
        {"calculate_triangle_area": {"base": 10, "height": 5}},
        {"math.factorial": {"number": 5}},
        {"calculate_triangle_area": {"base": 1, "height": 2, "unit": "cm"}},
    ]


def test_plan_to_output_drops_unset_optionals_and_parses_structured_values():
    mapping = build_tools([BOOKING])
    plan = parse_plan(
        '1. hotel_booking_book("Paris", [], "double", [], "{\\"floor\\": 3}", ["{\'beds\': 2}", "not json"], '
        "None, False, None)\n2. join()<END_OF_PLAN>"
    )
    assert plan_to_bfcl_output(plan, mapping) == [
        {
            "hotel_booking.book": {
                "city": "Paris",
                "nights": [],  # required: an empty list is a value, not "not given"
                "room_type": "double",
                "preferences": {"floor": 3},
                "rooms": [{"beds": 2}, "not json"],
                "breakfast": False,
            }
        }
    ]


def test_plan_to_output_keeps_unparseable_dict_text_for_the_checker_to_reject():
    mapping = build_tools([BOOKING])
    plan = Plan(
        (Action(1, "hotel_booking_book", ("Rome", [2], None, [], "floor three", [], 99, None, "x")), Action(2, "join"))
    )
    [call] = plan_to_bfcl_output(plan, mapping)
    assert call["hotel_booking.book"]["preferences"] == "floor three"
    assert call["hotel_booking.book"]["price"] == 99 and call["hotel_booking.book"]["note"] == "x"


def test_plan_to_output_of_join_only_plan_is_no_call():
    mapping = build_tools([FACTORIAL])
    assert plan_to_bfcl_output(parse_plan("1. join()<END_OF_PLAN>"), mapping) == []


def test_plan_to_output_passes_unknown_tools_and_extra_arguments_through():
    mapping = build_tools([FACTORIAL])
    plan = Plan((Action(1, "math_factorial", (5, 6)), Action(2, "made_up", ("a",)), Action(3, "join")))
    assert plan_to_bfcl_output(plan, mapping) == [
        {"math.factorial": {"number": 5, "arg2": 6}},
        {"made_up": {"arg1": "a"}},
    ]


scalars = st.one_of(st.integers(-(10**6), 10**6), st.booleans(), st.text(max_size=12).filter(lambda s: "$" not in s))


@given(st.lists(scalars, min_size=3, max_size=3))
@settings(max_examples=50)
def test_rendered_plan_round_trips_to_the_same_bfcl_values(values):
    function = {
        "name": "x.y",
        "parameters": {"properties": {f"p{i}": {"type": "any"} for i in range(3)}, "required": ["p0", "p1", "p2"]},
    }
    mapping = build_tools([function])
    plan = Plan((Action(1, "x_y", tuple(values)), Action(2, "join")))
    assert plan_to_bfcl_output(parse_plan(plan.render()), mapping) == [{"x.y": dict(zip(["p0", "p1", "p2"], values))}]


# --------------------------------------------------------------------------- data files


def _write_lines(path: Path, records: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n", encoding="utf-8")


def test_load_items_reads_questions_functions_and_answers(tmp_path):
    _write_lines(
        tmp_path / "BFCL_v4_simple_python.json",
        [
            {
                "id": "simple_python_0",
                "question": [[{"role": "user", "content": "Area of base 10 height 5?"}]],
                "function": [TRIANGLE],
            },
            {
                "id": "simple_python_1",
                "question": [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "5!"}]],
                "function": [FACTORIAL],
            },
        ],
    )
    _write_lines(
        tmp_path / "possible_answer" / "BFCL_v4_simple_python.json",
        [
            {"id": "simple_python_1", "ground_truth": [{"math.factorial": {"number": [5]}}]},
            {"id": "simple_python_0", "ground_truth": [{"calculate_triangle_area": {"base": [10], "height": [5]}}]},
        ],
    )
    _write_lines(
        tmp_path / "BFCL_v4_irrelevance.json",
        [
            {
                "id": "irrelevance_0",
                "question": [[{"role": "user", "content": "Tell a joke"}]],
                "function": [FACTORIAL],
            },
        ],
    )
    first, second = load_items(tmp_path, "simple")
    assert (first.id, first.category, first.test_category) == ("simple_python_0", "simple", "simple_python")
    assert first.question == "Area of base 10 height 5?" and first.functions == (TRIANGLE,)
    assert second.question == "(system: Be brief.)\n5!"
    assert second.possible_answer == ({"math.factorial": {"number": [5]}},)
    assert [i.id for i in load_items(tmp_path, "simple", limit=1)] == ["simple_python_0"]
    [irrelevant] = load_items(tmp_path, "irrelevance")
    assert irrelevant.possible_answer is None and irrelevant.question == "Tell a joke"


def test_load_items_reports_missing_answers_and_bad_files(tmp_path):
    _write_lines(
        tmp_path / "BFCL_v4_multiple.json",
        [
            {"id": "multiple_0", "question": [[{"role": "user", "content": "q"}]], "function": [FACTORIAL]},
        ],
    )
    _write_lines(tmp_path / "possible_answer" / "BFCL_v4_multiple.json", [{"id": "other", "ground_truth": []}])
    with pytest.raises(BfclError, match="multiple_0 has no possible answer"):
        load_items(tmp_path, "multiple")
    with pytest.raises(BfclError, match="cannot read BFCL data file"):
        load_items(tmp_path, "parallel")
    _write_lines(tmp_path / "BFCL_v4_irrelevance.json", ['{"id": "irrelevance_0", "question": [[{"role": "user"'])
    with pytest.raises(BfclError, match=r"BFCL_v4_irrelevance.json:1: not JSON"):
        load_items(tmp_path, "irrelevance")
    _write_lines(tmp_path / "BFCL_v4_irrelevance.json", [{"id": "irrelevance_0", "question": []}])
    with pytest.raises(BfclError, match="irrelevance_0 is malformed"):
        load_items(tmp_path, "irrelevance")


def test_question_text_uses_the_last_turn_with_earlier_turns_as_context():
    assert question_text([]) == ""
    assert question_text([{"role": "user", "content": "hi"}]) == "hi"
    assert (
        question_text(
            [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]
        )
        == "(user: a)\n(assistant: b)\nc"
    )


def test_parse_categories():
    assert parse_categories("simple, irrelevance,simple") == ["simple", "irrelevance"]
    with pytest.raises(BfclError, match="unknown BFCL category nope; choose from simple, multiple"):
        parse_categories("simple,nope")
    with pytest.raises(BfclError, match=r"\(none given\)"):
        parse_categories(" , ")
    assert set(FUNCTIONGEMMA_270M) <= set(CATEGORIES)


# --------------------------------------------------------------------------- report


def _result(category: str, valid: bool, parse_error: str | None = None, latency: float | None = 1.0) -> BfclItemResult:
    return BfclItemResult(
        f"{category}_x", category, "q", "1. join()<END_OF_PLAN>", [], valid, None, (), parse_error, latency, 10
    )


def test_report_gives_per_category_accuracy_next_to_published_figures():
    results = [
        _result("simple", True),
        _result("simple", False, "bad"),
        _result("irrelevance", True, latency=3.0),
        _result("live_simple", False, latency=None),
    ]
    report = build_report(results, "tiny.gguf", "2026.3.23")
    assert report["n"] == 4
    assert report["categories"]["simple"] == {
        "n": 2,
        "correct": 1,
        "accuracy": 0.5,
        "parse_failure_rate": 0.5,
        "functiongemma_270m_published": 61.6,
    }
    assert report["categories"]["live_simple"]["functiongemma_270m_published"] is None
    assert report["mean_accuracy"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert report["latency_s"] == {"p50": 1.0, "p95": 3.0}
    assert len(report["items"]) == 4 and report["items"][0]["valid"] is True
    assert summary_line(report) == (
        "BFCL 4 items | simple 50.0% (1/2) | irrelevance 100.0% (1/1) | live_simple 0.0% (0/1) | mean 50.0% "
        "| model tiny.gguf"
    )


def test_cli_rejects_unknown_category_before_any_setup(tmp_path):
    import typer

    app = typer.Typer()
    bfcl_cli.register(app, lambda overrides, registry: pytest.fail("must not build a planner"))
    result = CliRunner().invoke(app, ["--categories", "simple,bogus", "--bfcl-venv", str(tmp_path / "venv")])
    assert result.exit_code == 2
    assert "error: unknown BFCL category bogus" in result.output
    assert not (tmp_path / "venv").exists()
    result = CliRunner().invoke(app, ["--report", str(tmp_path / "no" / "r.json"), "--bfcl-venv", str(tmp_path / "v")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_checker_venv_refuses_a_directory_that_is_not_a_venv(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(BfclError, match="is not a virtualenv"):
        ensure_checker_venv(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    with pytest.raises(BfclError, match="is not a virtualenv"):
        ensure_checker_venv(tmp_path / "precious.txt")


# --------------------------------------------------------------------------- grammar: a plan may have no call


class GrammarEngine:
    """llama.cpp's own grammar sampler over the default model's vocabulary (no weights loaded)."""

    def __init__(self, model_path: Path) -> None:
        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True
        self.model = _internals.LlamaModel(path_model=str(model_path), params=params, verbose=False)
        self.vocab = self.model.vocab
        self.eos = llama_cpp.llama_vocab_eos(self.vocab)

    def _allowed(self, sampler: Any, token: int) -> bool:
        data = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(token, 0.0, 0.0))
        array = llama_cpp.llama_token_data_array(data, 1, -1, False)
        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(array))
        return not math.isinf(data[0].logit)

    def accepts(self, grammar: str, text: str) -> bool:
        sampler = llama_cpp.llama_sampler_init_grammar(self.vocab, grammar.encode("utf-8"), b"root")
        if not sampler:
            pytest.fail("the grammar does not compile in llama.cpp")
        try:
            for token in self.model.tokenize(text.encode("utf-8"), add_bos=False, special=False):
                if not self._allowed(sampler, token):
                    return False
                llama_cpp.llama_sampler_accept(sampler, token)
            return self._allowed(sampler, self.eos)
        finally:
            llama_cpp.llama_sampler_free(sampler)


class _NoBackend:
    model_name = "none"


def test_bfcl_planner_grammar_allows_a_plan_without_calls(default_model_path):
    engine = GrammarEngine(default_model_path)
    mapping = build_tools([TRIANGLE, FACTORIAL, BOOKING])
    planner = BfclPlanner(_NoBackend(), mapping.registry, PlannerConfig())  # type: ignore[arg-type]
    grammar = planner.options().grammar
    assert planner.examples == []  # 0-shot
    assert engine.accepts(grammar, "1. join()<END_OF_PLAN>")
    assert engine.accepts(
        grammar,
        '1. math_factorial(5)\n2. hotel_booking_book("Oslo", [1, 2], None, [], None, '
        "[], 80.5, True, None)\n3. join()<END_OF_PLAN>",
    )
    assert not engine.accepts(grammar, '1. math_factorial("five")\n2. join()<END_OF_PLAN>')
    assert not engine.accepts(grammar, "1. calculate_triangle_area(1, None, None)\n2. join()<END_OF_PLAN>")
    no_grammar = BfclPlanner(_NoBackend(), mapping.registry, PlannerConfig(grammar=False))  # type: ignore[arg-type]
    assert no_grammar.options().grammar is None


# --------------------------------------------------------------------------- bfcl-eval's real checker


@pytest.fixture(scope="module")
def checker():
    with BfclChecker(ensure_checker_venv(default_venv_dir())) as running:
        yield running


def _item(category: str, functions: list, answer: list | None, item_id: str = "t") -> BfclItem:
    return BfclItem(item_id, category, "q", tuple(functions), tuple(answer) if answer is not None else None)


@pytest.mark.slow
def test_checker_reads_bfcl_eval_data(checker):
    assert checker.info["bfcl_eval_version"] == "2026.3.23"
    simple = checker.load_items("simple", limit=2)
    assert [i.id for i in simple] == ["simple_python_0", "simple_python_1"]
    assert simple[1].functions[0]["name"] == "math.factorial"
    assert len(checker.load_items("irrelevance", limit=3)) == 3


def test_checker_scores_converted_plans_with_bfcl_evals_ast_checker(checker):
    answer = [{"math.factorial": {"number": [5]}}]
    mapping = build_tools([FACTORIAL])
    right = plan_to_bfcl_output(parse_plan("1. math_factorial(5)\n2. join()<END_OF_PLAN>"), mapping)
    assert checker.check(_item("simple", [FACTORIAL], answer), right).valid
    wrong = checker.check(_item("simple", [FACTORIAL], answer), [{"math.factorial": {"number": 6}}])
    assert not wrong.valid and wrong.error_type == "value_error:others"
    undotted = checker.check(_item("simple", [FACTORIAL], answer), [{"math_factorial": {"number": 5}}])
    assert not undotted.valid and undotted.error_type == "simple_function_checker:wrong_func_name"
    undecodable = checker.check(_item("simple", [FACTORIAL], answer), None, decode_error="line 1: bad")
    assert not undecodable.valid and undecodable.error_type == "ast_decoder:decoder_failed"
    assert "line 1: bad" in undecodable.error[0]
    triangle = [{"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["units", ""]}}]
    omitted = plan_to_bfcl_output(
        parse_plan("1. calculate_triangle_area(10, 5, None)\n2. join()<END_OF_PLAN>"), build_tools([TRIANGLE])
    )
    assert checker.check(_item("simple", [TRIANGLE], triangle), omitted).valid


def test_checker_scores_parallel_and_multiple_with_bfcl_rules(checker):
    answer = [{"math.factorial": {"number": [5]}}, {"math.factorial": {"number": [7]}}]
    reordered = [{"math.factorial": {"number": 7}}, {"math.factorial": {"number": 5}}]
    assert checker.check(_item("parallel", [FACTORIAL], answer), reordered).valid
    assert not checker.check(_item("parallel", [FACTORIAL], answer), reordered[:1]).valid
    multiple = [{"math.factorial": {"number": [5]}}]
    assert checker.check(_item("multiple", [TRIANGLE, FACTORIAL], multiple), [{"math.factorial": {"number": 5}}]).valid


def test_checker_scores_irrelevance_as_no_function_call(checker):
    item = _item("irrelevance", [FACTORIAL], None)
    assert checker.check(item, []).valid
    assert checker.check(item, None, decode_error="no plan").valid  # BFCL: undecodable text is no call
    called = checker.check(item, [{"math.factorial": {"number": 5}}])
    assert not called.valid and called.error_type == "irrelevance_error:decoder_success"


def _scripted_template(backend: LLMBackend) -> Planner:
    return Planner(backend, build_tools([FACTORIAL]).registry, PlannerConfig(max_tokens=64))


def test_run_item_prompts_zero_shot_with_the_items_tools(checker):
    backend = ScriptedLLM("1. math_factorial(5)\n2. join()<END_OF_PLAN>", prompt_tokens=100)
    item = _item("simple", [FACTORIAL], [{"math.factorial": {"number": [5]}}], "simple_python_1")
    result = run_item(
        dataclasses.replace(item, question="Calculate the factorial of 5."), _scripted_template(backend), checker
    )
    assert result.valid and result.output == [{"math.factorial": {"number": 5}}] and result.prompt_tokens == 100
    [(messages, options)] = zip(backend.prompts, backend.options, strict=True)
    assert [m.role for m in messages] == ["system", "user"]  # no example turns: 0-shot
    assert "math_factorial(number: int) -> str" in messages[0].content
    assert messages[-1].content.endswith("Request: Calculate the factorial of 5.")
    assert "Monday 2025-01-06 09:00:00" in messages[-1].content
    assert options.grammar is not None and options.max_tokens == 64


def test_run_item_counts_calls_written_before_a_broken_plan_in_irrelevance(checker):
    irrelevant = _item("irrelevance", [FACTORIAL], None)
    truncated = run_item(irrelevant, _scripted_template(ScriptedLLM("1. math_factorial(5)\n2. math_fac")), checker)
    assert not truncated.valid and truncated.parse_error and truncated.output == [{"math.factorial": {"number": 5}}]
    no_call = run_item(irrelevant, _scripted_template(ScriptedLLM("1. join()<END_OF_PLAN>")), checker)
    assert no_call.valid and no_call.output == [] and no_call.parse_error is None
    garbled = run_item(irrelevant, _scripted_template(ScriptedLLM("I cannot help with that.")), checker)
    assert garbled.valid and garbled.output is None and garbled.parse_error
    simple = _item("simple", [FACTORIAL], [{"math.factorial": {"number": [5]}}])
    broken = run_item(simple, _scripted_template(ScriptedLLM("1. math_factorial(5)\n2. math_fac")), checker)
    assert not broken.valid and broken.output is None and broken.error_type == "ast_decoder:decoder_failed"


def test_run_item_records_backend_errors_and_stops_on_a_missing_model(checker):
    simple = _item("irrelevance", [FACTORIAL], None)
    too_long = run_item(simple, _scripted_template(ScriptedLLM(error=BackendError("prompt too long"))), checker)
    assert (
        not too_long.valid and too_long.error_type == "pocketagent:backend" and too_long.error == ("prompt too long",)
    )
    with pytest.raises(ModelNotFoundError):
        run_item(simple, _scripted_template(ScriptedLLM(error=ModelNotFoundError("no model"))), checker)


# --------------------------------------------------------------------------- end to end, real model


@pytest.mark.model
def test_eval_bfcl_runs_the_real_model_and_bfcl_checker_end_to_end(tmp_path, checker):
    import typer

    def make_planner(overrides, registry):
        return build_planner(load_settings(**{"max_tokens": 96, "n_ctx": 2048, **overrides}), registry)

    app = typer.Typer()
    bfcl_cli.register(app, make_planner)
    report_path = tmp_path / "bfcl.json"
    result = CliRunner().invoke(app, ["--categories", "simple", "--limit", "2", "--report", str(report_path)])
    assert result.exit_code == 0, result.output
    last_line = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"BFCL 2 items \| simple \d+\.\d% \([012]/2\) \| mean \d+\.\d% \| model \S+", last_line)
    report = json.loads(report_path.read_text())
    assert report["bfcl_eval_version"] == "2026.3.23" and report["n"] == 2
    assert [item["id"] for item in report["items"]] == ["simple_python_0", "simple_python_1"]
    for item in report["items"]:
        assert item["plan"]  # the model wrote something
        assert item["valid"] == (item["error_type"] is None)
        # Every decoded call names one of the item's BFCL functions (the grammar guarantees it).
        names = {"simple_python_0": "calculate_triangle_area", "simple_python_1": "math.factorial"}
        assert all(list(call) == [names[item["id"]]] for call in item["output"] or [])
    assert report["categories"]["simple"]["correct"] == sum(item["valid"] for item in report["items"])
    assert datetime.fromisoformat(report["now"]).year == 2025
