"""Plan language: parse, render, round trip, references, errors."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocketagent.errors import PlanParseError
from pocketagent.plan import Action, Plan, execution_levels, parse_plan, plan_graph, references_in
from pocketagent.plan.language import replace_references, whole_reference

HANDWRITTEN = Path(__file__).resolve().parents[2] / "data" / "handwritten-dev.jsonl"  # eval only, never trained on

EXAMPLE = """Thought: I need Sid's address first.
1. get_email_address("Sid")
2. create_calendar_event("Budget review", "2026-11-27 15:00:00", "2026-11-27 16:00:00", "", ["$1"], "", None)
3. join()<END_OF_PLAN>"""


def test_parse_spec_example():
    plan = parse_plan(EXAMPLE)
    assert [a.tool for a in plan.actions] == ["get_email_address", "create_calendar_event", "join"]
    assert plan.actions[0].thought == "I need Sid's address first."
    assert plan.actions[1].args[4] == ["$1"]
    assert plan.actions[1].args[6] is None
    assert plan.actions[1].dependencies == (1,)
    assert plan.render() == EXAMPLE


def test_handwritten_plans_round_trip():
    lines = HANDWRITTEN.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40
    for line in lines:
        item = json.loads(line)
        assert parse_plan(item["plan"]).render() == item["plan"]


def test_references_several_per_string_and_braces():
    assert references_in("Summary: $2 and ${3}0 and $10") == [2, 3, 10]
    assert references_in(["$1", "x", "$2$3"]) == [1, 2, 3]
    assert references_in(5) == []
    plan = parse_plan('1. a()\n2. b()\n3. c("$1 then ${2}", ["$1"])\n4. join()<END_OF_PLAN>')
    assert plan.action(3).dependencies == (1, 2)


def test_graph_and_levels():
    plan = parse_plan(
        '1. get_email_address("A")\n2. get_email_address("B")\n'
        '3. compose_new_email(["$1", "$2"], [], "s", "", [])\n4. join()<END_OF_PLAN>'
    )
    graph = plan_graph(plan)
    assert set(graph.edges) == {(1, 3), (2, 3)}
    assert graph.nodes[3]["tool"] == "compose_new_email"
    assert execution_levels(plan) == [[1, 2], [3]]
    with_join = plan_graph(plan, include_join=True)
    assert (3, 4) in with_join.edges and with_join.nodes[4]["tool"] == "join"


def test_tolerates_blank_lines_crlf_and_text_after_join():
    plan = parse_plan('\n1. a("x")\r\n\n2. join()<END_OF_PLAN>\nanything here is ignored')
    assert [a.tool for a in plan.actions] == ["a", "join"]


def test_join_without_marker_at_end_of_text_is_accepted():
    assert parse_plan('1. a()\n2. join()').actions[-1].is_join


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('1. a("$2")\n2. join()<END_OF_PLAN>', "later"),
        ('1. a("$0")\n2. join()<END_OF_PLAN>', "no action"),
        ('1. a("x")\n3. b()\n4. join()<END_OF_PLAN>', "out of order"),
        ('1. a(name="x")\n2. join()<END_OF_PLAN>', "keyword"),
        ('1. a(os.system("rm -rf /"))\n2. join()<END_OF_PLAN>', "literals"),
        ('1. a(__import__("os"))\n2. join()<END_OF_PLAN>', "literals"),
        ('1. a({"k": 1})\n2. join()<END_OF_PLAN>', "dict"),
        ('1. a([[1]])\n2. join()<END_OF_PLAN>', "nested"),
        ('1. a("unterminated)\n2. join()<END_OF_PLAN>', "literals"),
        ('1. a("x")', "without join"),
        ("", "empty plan"),
        ("hello there", "expected an action"),
        ('1. a("x")<END_OF_PLAN>', "must follow join"),
        ('1. join("x")<END_OF_PLAN>', "no arguments"),
        ('1. a(*["x"])\n2. join()<END_OF_PLAN>', "starred"),
        # Past Python's int() limit of 4,300 digits: a parse error, not ValueError.
        ("1" * 5000 + ". a()\n2. join()<END_OF_PLAN>", "action id has 5000 digits"),
        ('1. a()\n2. b("$' + "1" * 5000 + '")\n3. join()<END_OF_PLAN>', "too many digits"),
        ('1. a()\n2. b(["${' + "9" * 5000 + '}"])\n3. join()<END_OF_PLAN>', "too many digits"),
        # A hex literal has no digit limit, but its decimal rendering would.
        ("1. a(0x" + "f" * 4000 + ")\n2. join()<END_OF_PLAN>", "too large"),
        # Lone surrogates cannot be encoded anywhere a tool would write them (or --json print them).
        ('1. a("\\ud800")\n2. join()<END_OF_PLAN>', "lone surrogate"),
        ('1. a(["ok", "x\\udfff"])\n2. join()<END_OF_PLAN>', "lone surrogate"),
    ],
)
def test_parse_errors_are_clear(text, message):
    with pytest.raises(PlanParseError, match=message):
        parse_plan(text)


def test_parse_error_names_the_line():
    with pytest.raises(PlanParseError, match="line 2"):
        parse_plan('1. a()\n2. b(\n3. join()<END_OF_PLAN>')


# Two million characters: linear parsing takes well under a second, a pattern that backtracks
# quadratically (like the old `Thought:` one) takes hours, so a regression hangs the suite.
HUGE = 2_000_000


@pytest.mark.parametrize(
    "text",
    [
        " " * HUGE,
        "Thought:" + " " * HUGE + "x",
        "Thought: a" + " " * HUGE + "x",
        "1." + " " * HUGE,
        "1." + " " * HUGE + "x",
        " " * HUGE + "1" * HUGE + "x",
        "1. a(" + " " * HUGE + "x",
        "1. a(" + ")" + " " * HUGE + "x",
        "1. a" + " " * HUGE + "(",
        '1. a("' + "$" * HUGE + '")',
    ],
    ids=["spaces", "thought-spaces-x", "thought-a-spaces-x", "id-spaces", "id-spaces-x", "spaces-digits",
         "open-call", "close-call-spaces", "name-spaces", "dollars"],
)
def test_huge_lines_fail_in_linear_time(text):
    with pytest.raises(PlanParseError):
        parse_plan(text)


def test_huge_thought_parses_and_is_stripped():
    plan = parse_plan("Thought: \t a" + " " * HUGE + "b   \n1. a()\n2. join()<END_OF_PLAN>")
    assert plan.actions[0].thought == "a" + " " * HUGE + "b"


# --- property-based round trip -------------------------------------------------------------

text_values = st.text(st.characters(exclude_categories=("Cs",)), max_size=20).filter(
    lambda s: "<END_OF_PLAN>" not in s
)
scalars = st.one_of(
    text_values,
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4))
tool_names = st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True).filter(lambda n: n != "join")
thoughts = st.one_of(
    st.none(),
    st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda t: t and "<END_OF_PLAN>" not in t),
)


@st.composite
def plans(draw) -> Plan:
    count = draw(st.integers(0, 6))
    actions = []
    for index in range(1, count + 1):
        args = draw(st.lists(values, max_size=4))
        if index > 1 and draw(st.booleans()):
            ref = draw(st.integers(1, index - 1))
            args.append(draw(st.sampled_from([f"${ref}", f"${{{ref}}}", f"see ${ref} now", [f"${ref}", "x"]])))
        args = [_strip_refs(a) if not (isinstance(a, str) and "$" in a and index > 1) else a for a in args]
        actions.append(Action(index, draw(tool_names), tuple(args), draw(thoughts)))
    actions.append(Action(count + 1, "join", (), draw(thoughts)))
    return Plan(tuple(actions))


def _strip_refs(value):
    # Random text may contain "$3"-like sequences; keep generated references valid.
    if isinstance(value, str):
        return value.replace("$", "¤")
    if isinstance(value, list):
        return [_strip_refs(v) for v in value]
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_render_parse_round_trip(plan):
    text = plan.render()
    parsed = parse_plan(text)
    assert parsed == plan
    assert parsed.render() == text


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["${}", "${{{}}}"]), st.sampled_from(["", " ", "\t"]))
def test_a_value_that_is_only_a_reference_names_its_action(n: int, form: str, space: str) -> None:
    assert whole_reference(f"{space}{form.format(n)}{space}") == n


@pytest.mark.parametrize("value", ["$1 and $2", "see $3", "$", "", "3", 3, None, ["$1"]])
def test_anything_else_is_not_a_whole_reference(value: object) -> None:
    assert whole_reference(value) is None


_TEXT_WITH_REFS = st.lists(
    st.one_of(st.integers(1, 30).map(lambda n: f"${n}"), st.integers(1, 30).map(lambda n: f"${{{n}}}"),
              st.text(alphabet="ab $,{}", max_size=5)),
    max_size=6,
).map("".join)


@given(st.one_of(_TEXT_WITH_REFS, st.lists(st.one_of(_TEXT_WITH_REFS, st.integers()), max_size=4)), st.integers(0, 5))
def test_replace_references_shifts_every_reference_and_nothing_else(value, shift: int) -> None:
    shifted = replace_references(value, lambda n: f"${n + shift}")
    assert references_in(shifted) == [n + shift for n in references_in(value)]
    # Replacing each reference by a text without "$" leaves no reference behind.
    assert references_in(replace_references(value, lambda n: "x")) == []
    if isinstance(value, list):
        assert [item for item in shifted if not isinstance(item, str)] == [i for i in value if not isinstance(i, str)]
