"""The streaming parser must equal the batch parser for every chunking."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocketagent.errors import PlanParseError
from pocketagent.plan import StreamingPlanParser, parse_plan

HANDWRITTEN = Path(__file__).resolve().parents[2] / "data" / "handwritten-dev.jsonl"  # eval only, never trained on
PLANS = [json.loads(line)["plan"] for line in HANDWRITTEN.read_text(encoding="utf-8").splitlines()]
BROKEN = [
    '1. a("x")\n2. b("$5")\n3. join()<END_OF_PLAN>',
    '1. a("x")\n2. b(\n3. join()<END_OF_PLAN>',
    '1. a("x")\nThought: hmm\n',
    '1. a("x")\n2. b(name="y")\n3. join()<END_OF_PLAN>',
    '1. a("x")<END_OF_PLAN>text the stream never reads',
]


def chunked(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(points, points[1:])]


def stream_parse(chunks: list[str]):
    parser = StreamingPlanParser()
    seen = []
    for chunk in chunks:
        seen.extend(parser.feed(chunk))
    return seen, parser.finish()


def outcome(fn):
    try:
        return ("ok", fn())
    except PlanParseError as exc:
        return ("error", str(exc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(PLANS + BROKEN + [p + "\ntrailing text" for p in PLANS[:5]] + [p.replace("\n", "\r\n") for p in PLANS[:5]]),
    st.lists(st.integers(0, 10_000), max_size=30),
)
def test_any_chunking_equals_batch_parse(text, cuts):
    batch = outcome(lambda: parse_plan(text))
    streamed = outcome(lambda: stream_parse(chunked(text, cuts)))
    if batch[0] == "ok":
        assert streamed[0] == "ok", streamed
        seen, plan = streamed[1]
        assert plan == batch[1]
        # Every action, join included, came out of feed() before finish() was needed.
        assert seen == list(plan.actions)
    else:
        assert streamed == batch


BIG = "1" * 4400  # past int()'s 4,300-digit limit
ARGUMENTS = st.lists(
    st.sampled_from(
        ['"x"', '"$1"', '"${2}"', '"$0"', f'"${BIG}"', '"\\ud800"', f"0x{'f' * 4000}", "1e999", "None", "-3",
         '[1, "a"]', "[[1]]", "{}", "k=1", "*x", "(", '"', ""]
    ),
    max_size=3,
).map(", ".join)  # fmt: skip
ACTION_LINES = st.builds(
    "{}. {}({}){}{}".format,
    st.one_of(st.integers(0, 4).map(str), st.just(BIG)),
    st.sampled_from(["a", "join", "b_2"]),
    ARGUMENTS,
    st.sampled_from(["", "", "<END_OF_PLAN>", "<END_OF"]),
    st.text(max_size=4),
)
LINES = st.one_of(ACTION_LINES, st.text(max_size=8).map("Thought:{}".format), st.text(max_size=8))
# Arbitrary text, and lines close to the plan language so that the deep parser paths are reached.
ANY_TEXT = st.one_of(st.text(), st.lists(LINES, max_size=6).map("\n".join))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT, st.lists(st.integers(0, 10_000), max_size=30))
def test_arbitrary_text_raises_only_plan_parse_errors_and_stream_agrees(text, cuts):
    # `outcome` catches only PlanParseError: any other exception fails the test.
    batch = outcome(lambda: parse_plan(text))
    streamed = outcome(lambda: stream_parse(chunked(text, cuts))[1])
    assert streamed == batch


HUGE = 2_000_000  # linear: well under a second; quadratic buffering or patterns: hours


@pytest.mark.parametrize(
    "text",
    [
        " " * HUGE,
        "Thought: a" + " " * HUGE + "x",
        "1." + " " * HUGE,
        "1. a(" + " " * HUGE + "x",
        "Thought: a" + " " * HUGE + "b\n1. a()\n2. join()<END_OF_PLAN>",
        '1. a("x")\n' * (HUGE // 10),  # many lines in one chunk
    ],
    ids=["spaces", "thought-spaces-x", "id-spaces", "open-call", "huge-thought-plan", "many-lines"],
)
@pytest.mark.parametrize("size", [5, HUGE])
def test_huge_text_streams_in_linear_time(text, size):
    batch = outcome(lambda: parse_plan(text))
    streamed = outcome(lambda: stream_parse([text[i : i + size] for i in range(0, len(text), size)])[1])
    assert streamed == batch


def test_one_character_at_a_time_yields_each_action_when_its_line_completes():
    text = '1. get_phone_number("Ana")\n2. send_sms(["$1"], "hi")\n3. join()<END_OF_PLAN>'
    parser = StreamingPlanParser()
    completed_at = {}
    for index, char in enumerate(text):
        for action in parser.feed(char):
            completed_at[action.id] = index
    assert completed_at[1] == text.index("\n")
    assert completed_at[2] == text.index("\n", text.index("\n") + 1)
    assert completed_at[3] == len(text) - 1  # the end marker completes join without a newline
    assert parser.finished


def test_text_after_join_is_ignored_and_finish_is_idempotent_on_complete_plans():
    parser = StreamingPlanParser()
    parser.feed('1. a()\n2. join()<END_OF_PLAN>\n3. b()\n')
    assert parser.feed("more") == []
    assert len(parser.finish().actions) == 2


def test_plan_cut_off_mid_stream_is_an_error():
    parser = StreamingPlanParser()
    parser.feed('1. a("x")\n2. b("y"')
    with pytest.raises(PlanParseError, match="line 2: expected an action"):
        parser.finish()
