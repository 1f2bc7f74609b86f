"""Sanity checks: every kind of bad example is rejected with its own reason; good ones pass."""

from __future__ import annotations

import pytest

from pocketagent.data.checks import DatasetChecker, ExampleChecker, Reason, split_leaks
from pocketagent.data.example import Example
from pocketagent.errors import PlanParseError
from pocketagent.plan.language import parse_plan
from pocketagent.tools.builtin import builtin_registry

NOW = "2026-11-23 10:00:00"  # a Monday


def make(query: str, plan: str, now: str = NOW, tools: list[str] | None = None, example_id: str = "x") -> Example:
    """An example whose `tools` field is right for the plan unless given."""
    if tools is None:
        try:
            parsed = parse_plan(plan)
            tools = list(dict.fromkeys(a.tool for a in parsed.tool_actions))
        except PlanParseError:
            tools = []
    return Example(example_id, query, plan, now, tuple(tools))


GOOD = [
    make(
        "email Ana the lease pdf, cc ops@northwind.io",
        '1. get_email_address("Ana")\n2. open_and_get_file_path("lease")\n'
        '3. compose_new_email(["$1"], ["ops@northwind.io"], "Lease", "", ["$2"])\n4. join()<END_OF_PLAN>',
    ),
    make(
        "text Zoë and Jürgen: running late",
        '1. get_phone_number("Zoë")\n2. get_phone_number("Jürgen")\n3. send_sms(["$1", "$2"], "running late")\n'
        "4. join()<END_OF_PLAN>",
    ),
    make(
        "zoom with bob friday 3pm, on my calendar",
        '1. get_email_address("Bob")\n2. get_zoom_meeting_link("Sync", "2026-11-27 15:00:00", 60, ["$1"])\n'
        '3. create_calendar_event("Sync", "2026-11-27 15:00:00", "2026-11-27 16:00:00", "$2", [], "", None)\n'
        "4. join()<END_OF_PLAN>",
    ),
    make(
        "summarize the rfp and text it to 415-555-0142",
        '1. open_and_get_file_path("RFP")\n2. summarize_pdf("$1")\n3. send_sms(["415-555-0142"], "$2")\n'
        "4. join()<END_OF_PLAN>",
    ),
    make(
        "remind me to pay rent, all day dec 1, high priority",
        '1. create_reminder("Pay rent", "2026-12-01 00:00:00", "", "", 1, True)\n2. join()<END_OF_PLAN>',
    ),
    make(
        "walk to the park",
        'Thought: directions only.\n1. maps_show_directions("", "the park", "w")\n2. join()<END_OF_PLAN>',
    ),
]

# (expected reason, example) — one planted defect each.
BAD = [
    (Reason.EMPTY_QUERY, make("   ", '1. maps_open_location("Paris")\n2. join()<END_OF_PLAN>')),
    (Reason.BAD_NOW, make("map paris", '1. maps_open_location("Paris")\n2. join()<END_OF_PLAN>', now="monday morning")),
    (Reason.PARSE_ERROR, make("map paris", '1. maps_open_location("Paris"\n2. join()<END_OF_PLAN>')),
    (Reason.PARSE_ERROR, make("map paris", '1. maps_open_location(location="Paris")\n2. join()<END_OF_PLAN>')),
    (Reason.PARSE_ERROR, make("map paris", "open the map of paris please")),
    (Reason.BAD_ACTION_IDS, make("map paris", '1. maps_open_location("Paris")\n3. join()<END_OF_PLAN>')),
    (Reason.MISSING_JOIN, make("map paris", '1. maps_open_location("Paris")<END_OF_PLAN>')),
    (Reason.MISSING_JOIN, make("map paris", '1. maps_open_location("Paris")\n2. maps_open_location("Rome")')),
    (Reason.JOIN_NOT_LAST, make("map paris", '1. join()\n2. maps_open_location("Paris")<END_OF_PLAN>')),
    (Reason.EMPTY_PLAN, make("map paris", "1. join()<END_OF_PLAN>")),
    (Reason.BAD_REFERENCE, make("sum it", '1. summarize_pdf("$0")\n2. join()<END_OF_PLAN>')),
    (
        Reason.BAD_REFERENCE,
        make("sum x", '1. open_and_get_file_path("x")\n2. summarize_pdf("$3")\n3. join()<END_OF_PLAN>'),
    ),
    (
        Reason.FORWARD_REFERENCE,
        make("sum x", '1. summarize_pdf("$2")\n2. open_and_get_file_path("x")\n3. join()<END_OF_PLAN>'),
    ),
    (
        Reason.CYCLIC_REFERENCE,
        make("sum x", '1. summarize_pdf("$2")\n2. open_and_get_file_path("$1")\n3. join()<END_OF_PLAN>'),
    ),
    (Reason.UNKNOWN_TOOL, make("fax it", '1. send_fax("555-0100")\n2. join()<END_OF_PLAN>')),
    (Reason.BAD_ARGUMENTS, make("map paris", '1. maps_open_location("Paris", "France")\n2. join()<END_OF_PLAN>')),
    (Reason.BAD_ARGUMENTS, make("text 555-0100 hi", '1. send_sms("555-0100", "hi")\n2. join()<END_OF_PLAN>')),
    (
        Reason.BAD_DATE,
        make("remind me", '1. create_reminder("Call", "tomorrow 5pm", "", "", 0, False)\n2. join()<END_OF_PLAN>'),
    ),
    (
        Reason.BAD_DATE,
        make(
            "remind me", '1. create_reminder("Call", "2026-02-30 10:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>'
        ),
    ),
    (
        Reason.DATE_IN_PAST,
        make(
            "remind me", '1. create_reminder("Call", "2020-01-01 10:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>'
        ),
    ),
    (
        Reason.END_BEFORE_START,
        make(
            "lunch friday",
            '1. create_calendar_event("Lunch", "2026-11-27 13:00:00", "2026-11-27 12:00:00", "", [], "", None)'
            "\n2. join()<END_OF_PLAN>",
        ),
    ),
    (Reason.BAD_VALUE, make("drive to rome", '1. maps_show_directions("", "Rome", "car")\n2. join()<END_OF_PLAN>')),
    (Reason.BAD_VALUE, make("remind me", '1. create_reminder("Call", "", "", "", 3, False)\n2. join()<END_OF_PLAN>')),
    (
        Reason.MISSING_LOOKUP,
        make("email Ana hi", '1. compose_new_email(["Ana"], [], "Hi", "hi", [])\n2. join()<END_OF_PLAN>'),
    ),
    (Reason.MISSING_LOOKUP, make("text Ana hi", '1. send_sms(["Ana"], "hi")\n2. join()<END_OF_PLAN>')),
    (
        Reason.WRONG_LOOKUP,
        make("text Ana hi", '1. get_email_address("Ana")\n2. send_sms(["$1"], "hi")\n3. join()<END_OF_PLAN>'),
    ),
    (
        Reason.MULTI_PERSON_LOOKUP,
        make(
            "text Ana and Bo hi", '1. get_phone_number("Ana and Bo")\n2. send_sms(["$1"], "hi")\n3. join()<END_OF_PLAN>'
        ),
    ),
    (
        Reason.NAME_NOT_IN_QUERY,
        make("text Ana hi", '1. get_phone_number("Zed")\n2. send_sms(["$1"], "hi")\n3. join()<END_OF_PLAN>'),
    ),
    (
        Reason.SPLIT_SMS,
        make(
            "text Ana and Bo hi",
            '1. get_phone_number("Ana")\n2. get_phone_number("Bo")\n3. send_sms(["$1"], "hi")\n'
            '4. send_sms(["$2"], "hi")\n5. join()<END_OF_PLAN>',
        ),
    ),
    (Reason.SUMMARIZE_WITHOUT_FILE, make("summarize x", '1. summarize_pdf("/home/me/x.pdf")\n2. join()<END_OF_PLAN>')),
    (
        Reason.SUMMARIZE_WITHOUT_FILE,
        make("summarize x", '1. open_note("x", "")\n2. summarize_pdf("$1")\n3. join()<END_OF_PLAN>'),
    ),
    (
        Reason.ATTACHMENT_WITHOUT_FILE,
        make(
            "email the report to a@b.co",
            '1. compose_new_email(["a@b.co"], [], "Report", "", ["report.pdf"])\n2. join()<END_OF_PLAN>',
        ),
    ),
    (
        Reason.TOOLS_MISMATCH,
        make("map paris", '1. maps_open_location("Paris")\n2. join()<END_OF_PLAN>', tools=["maps_show_directions"]),
    ),
]


@pytest.mark.parametrize("example", GOOD, ids=lambda e: e.query[:30])
def test_good_examples_pass(example: Example) -> None:
    assert ExampleChecker(builtin_registry()).check(example) is None


@pytest.mark.parametrize(("reason", "example"), BAD, ids=[f"{r.value}-{i}" for i, (r, _) in enumerate(BAD)])
def test_planted_defect_is_rejected_with_its_reason(reason: Reason, example: Example) -> None:
    rejection = ExampleChecker(builtin_registry()).check(example)
    assert rejection is not None, "a bad example passed"
    assert rejection.reason is reason, rejection.detail
    assert rejection.detail


def test_duplicates_near_duplicates_and_holdout_leaks_are_rejected() -> None:
    plan = '1. maps_open_location("Ferry Building")\n2. join()<END_OF_PLAN>'
    checker = DatasetChecker(builtin_registry(), holdout_queries=["Show me the Alcatraz ferry pier on a map please"])
    first = make("show me the Ferry Building on the map", plan, example_id="a")
    exact = make("Show me the Ferry Building on the map!", plan, example_id="b")
    near = make("show me the Ferry Building on the maps", plan, example_id="c")
    leak = make(
        "show me the alcatraz ferry pier on a map, please", plan.replace("Ferry Building", "Alcatraz ferry pier")
    )
    different = make("where is the Ferry Building", plan, example_id="d")
    report = checker.run([first, exact, near, leak, different])
    assert [e.id for e in report.kept] == ["a", "d"]
    assert [r.reason for r in report.rejected] == [Reason.DUPLICATE, Reason.NEAR_DUPLICATE, Reason.HOLDOUT_LEAK]
    assert report.counts() == {"duplicate": 1, "holdout_leak": 1, "near_duplicate": 1}


def test_split_leaks_found_across_splits_but_not_within_one() -> None:
    plan = '1. maps_open_location("Paris")\n2. join()<END_OF_PLAN>'
    splits = {
        "train": [make("map paris", plan, example_id="t1"), make("map paris", plan, example_id="t2")],
        "val": [make("where is rome", plan, example_id="v1")],
        "test": [make("Map Paris.", plan, example_id="s1")],
    }
    leaks = split_leaks(splits)
    assert [(r.example_id, r.reason) for r in leaks] == [("s1", Reason.SPLIT_LEAK)]
    assert "train" in leaks[0].detail


def test_every_reason_is_planted_somewhere() -> None:
    planted = {reason for reason, _ in BAD} | {
        Reason.DUPLICATE,
        Reason.NEAR_DUPLICATE,
        Reason.HOLDOUT_LEAK,
        Reason.SPLIT_LEAK,
    }
    assert planted == set(Reason)


@pytest.mark.parametrize(
    ("query_name", "plan_name"),
    [("Lukasz", "Łukasz"), ("Łukasz", "Lukasz"), ("Søren", "Soren"), ("Strauss", "Strauß"), ("ZOË", "Zoe")],
)
def test_names_match_the_request_across_letters_nfkd_does_not_decompose(query_name: str, plan_name: str) -> None:
    # The checker folds names as the contacts backend does (text.fold_accents): "Łukasz" is "Lukasz".
    example = make(
        f"text {query_name}: running late",
        f'1. get_phone_number("{plan_name}")\n2. send_sms(["$1"], "running late")\n3. join()<END_OF_PLAN>',
    )
    assert ExampleChecker(builtin_registry()).check(example) is None
