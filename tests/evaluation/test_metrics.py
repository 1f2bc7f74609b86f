"""Plan metrics on hand-made plan pairs, plus properties over generated plans."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketagent.evaluation.metrics import (
    ToolScore,
    dependency_trees,
    normalize_text,
    overall_tool_score,
    parse_lenient_datetime,
    plan_edit_distance,
    plan_success,
    strict_success,
    tool_selection_scores,
)
from pocketagent.plan.language import Action, Plan, parse_plan, render_value
from pocketagent.tools import builtin_registry

NOW = datetime(2026, 11, 23, 10, 0, 0)


def plan(*lines: str) -> Plan:
    """A plan from action lines (without numbers); join() is appended."""
    numbered = [f"{i}. {line}" for i, line in enumerate(lines, start=1)]
    numbered.append(f"{len(lines) + 1}. join()<END_OF_PLAN>")
    return parse_plan("\n".join(numbered))


def both(pred: Plan, ref: Plan, now: datetime | None = None) -> tuple[bool, bool]:
    return plan_success(pred, ref), strict_success(pred, ref, now=now)


# --------------------------------------------------------------------------- structure


def test_identical_plans_succeed_strictly():
    ref = plan('get_email_address("Sid")', 'compose_new_email(["$1"], [], "Hi", "", [])')
    assert both(ref, ref) == (True, True)


def test_join_only_plans_match_each_other_but_not_a_tool_call():
    empty = plan()
    assert both(empty, empty) == (True, True)
    assert both(empty, plan('maps_open_location("Paris")')) == (False, False)


def test_parallel_lookups_in_other_order_with_references_mapped():
    ref = plan(
        'get_email_address("Ana")',
        'get_email_address("Bo")',
        'compose_new_email(["$1"], ["$2"], "Plan", "", [])',
    )
    pred = plan(
        'get_email_address("Bo")',
        'get_email_address("Ana")',
        'compose_new_email(["$2"], ["$1"], "Plan", "", [])',
    )
    assert both(pred, ref) == (True, True)


def test_reference_mapping_matters_for_strict_only():
    ref = plan(
        'get_email_address("Ana")',
        'get_email_address("Bo")',
        'compose_new_email(["$1"], ["$2"], "Plan", "", [])',
    )
    # Same graph shape and tools, but Bo is now the recipient and Ana in cc.
    pred = plan(
        'get_email_address("Ana")',
        'get_email_address("Bo")',
        'compose_new_email(["$2"], ["$1"], "Plan", "", [])',
    )
    assert both(pred, ref) == (True, False)


def test_renumbered_branches_succeed():
    ref = plan(
        'open_and_get_file_path("RFP")',
        'summarize_pdf("$1")',
        'open_and_get_file_path("technical annex")',
        'summarize_pdf("$3")',
        'get_email_address("Hyun")',
        'compose_new_email(["$5"], [], "Summaries", "$2 $4", [])',
    )
    pred = plan(
        'get_email_address("Hyun")',
        'open_and_get_file_path("technical annex")',
        'open_and_get_file_path("RFP")',
        'summarize_pdf("$3")',
        'summarize_pdf("$2")',
        'compose_new_email(["$1"], [], "summaries", "$5 $4", [])',
    )
    assert both(pred, ref) == (True, True)


def test_swapped_dependencies_fail():
    ref = plan(
        'get_phone_number("Ana")',
        'get_email_address("Ana")',
        'send_sms(["$1"], "hi")',
        'compose_new_email(["$2"], [], "Hi", "", [])',
    )
    swapped = plan(
        'get_phone_number("Ana")',
        'get_email_address("Ana")',
        'send_sms(["$2"], "hi")',
        'compose_new_email(["$1"], [], "Hi", "", [])',
    )
    assert both(swapped, ref) == (False, False)


def test_dependency_on_the_wrong_action_fails():
    ref = plan('open_and_get_file_path("sublease")', 'summarize_pdf("$1")', 'create_note("Sublease", "$2", "Notes")')
    pred = plan('open_and_get_file_path("sublease")', 'summarize_pdf("$1")', 'create_note("Sublease", "$1", "Notes")')
    assert both(pred, ref) == (False, False)


def test_missing_dependency_fails():
    ref = plan('open_and_get_file_path("x")', 'summarize_pdf("$1")')
    pred = plan('open_and_get_file_path("x")', 'summarize_pdf("x.pdf")')
    assert both(pred, ref) == (False, False)


def test_extra_or_missing_action_fails():
    ref = plan('get_email_address("Ana")', 'compose_new_email(["$1"], [], "Hi", "", [])')
    extra = plan(
        'get_email_address("Ana")',
        'get_email_address("Ana")',
        'compose_new_email(["$1"], [], "Hi", "", [])',
    )
    assert both(extra, ref) == (False, False)
    assert both(plan('compose_new_email(["ana@x.org"], [], "Hi", "", [])'), ref) == (False, False)


def test_wrong_tool_fails():
    ref = plan('get_email_address("Ana")', 'compose_new_email(["$1"], [], "Hi", "", [])')
    pred = plan('get_phone_number("Ana")', 'compose_new_email(["$1"], [], "Hi", "", [])')
    assert both(pred, ref) == (False, False)


def test_dependency_trees_are_unordered_and_recursive():
    one = plan(
        'get_email_address("A")', 'open_and_get_file_path("f")', 'compose_new_email(["$1"], [], "s", "", ["$2"])'
    )
    two = plan(
        'open_and_get_file_path("f")', 'get_email_address("A")', 'compose_new_email(["$2"], [], "s", "", ["$1"])'
    )
    assert dependency_trees(one)[3] == dependency_trees(two)[3]
    assert dependency_trees(one)[3] == (
        "compose_new_email",
        (("get_email_address", ()), ("open_and_get_file_path", ())),
    )


# --------------------------------------------------------------------------- arguments


def test_argument_mismatch_fails_only_strict():
    ref = plan('create_note("Parking spot", "level P3, row G", "Notes")')
    assert both(plan('create_note("Parking", "level P3, row G", "Notes")'), ref) == (True, False)
    assert both(plan('create_note("Parking spot", "level P3, row G", "Travel")'), ref) == (True, False)


def test_recipients_are_order_insensitive():
    ref = plan('send_sms(["312-555-0166", "415-555-0100"], "brunch moved to 11")')
    pred = plan('send_sms(["415-555-0100", "312-555-0166"], "Brunch moved to 11.")')
    assert both(pred, ref) == (True, True)


def test_lists_are_multisets_not_sets():
    ref = plan('compose_new_email(["a@x.org", "a@x.org"], [], "Hi", "", [])')
    pred = plan('compose_new_email(["a@x.org"], [], "Hi", "", [])')
    assert both(pred, ref) == (True, False)


def test_unknown_tool_lists_keep_their_order():
    ref = plan('rank_candidates(["ana", "bo"])')
    assert both(plan('rank_candidates(["ana", "bo"])'), ref) == (True, True)
    assert both(plan('rank_candidates(["bo", "ana"])'), ref) == (True, False)


@pytest.mark.parametrize(
    "written",
    [
        "2026-11-24 15:30:00",
        "2026-11-24 15:30",
        "2026-11-24T15:30:00",
        "2026/11/24 15:30",
        "11/24/2026 3:30 PM",
        "11/24/2026 15:30",
        "November 24, 2026 3:30 pm",
        "Nov 24 2026 at 15:30",
        "24 November 2026 15:30",
    ],
)
def test_dates_in_other_formats_are_equal(written):
    ref = plan('get_zoom_meeting_link("Pairing", "2026-11-24 15:30:00", 50, [])')
    pred = plan(f'get_zoom_meeting_link("Pairing", {render_value(written)}, 50, [])')
    assert both(pred, ref) == (True, True)


def test_a_different_date_fails_strict():
    ref = plan('get_zoom_meeting_link("Pairing", "2026-11-24 15:30:00", 50, [])')
    assert both(plan('get_zoom_meeting_link("Pairing", "2026-11-24 16:30:00", 50, [])'), ref) == (True, False)
    assert both(plan('get_zoom_meeting_link("Pairing", "11/25/2026 3:30 PM", 50, [])'), ref) == (True, False)


def test_relative_dates_resolve_only_with_now():
    ref = plan('create_reminder("Call mom", "2026-11-24 15:30:00", "", "", 0, False)')
    pred = plan('create_reminder("Call mom", "tomorrow at 3:30pm", "", "", 0, False)')
    assert strict_success(pred, ref, now=NOW)
    assert not strict_success(pred, ref, now=None)
    today = plan('create_reminder("Call mom", "15:30", "", "", 0, False)')
    assert strict_success(today, plan('create_reminder("Call mom", "2026-11-23 15:30:00", "", "", 0, False)'), now=NOW)


def test_date_only_means_midnight():
    ref = plan('create_reminder("Pay the water bill", "2026-12-01 00:00:00", "", "Bills", 0, True)')
    assert both(plan('create_reminder("pay the water bill", "2026-12-01", "", "bills", 0, True)'), ref) == (True, True)


@pytest.mark.parametrize(
    ("pred_args", "ok"),
    [
        ('"", [], "", None', True),
        ('None, None, None, ""', True),
        ('"", [], "", ""', True),
        ('"  ", [], "", None', True),
        ('"Room 4", [], "", None', False),
        ('"", [], "", "Work"', False),
    ],
)
def test_empty_string_none_and_empty_list_are_not_applicable(pred_args, ok):
    ref = plan('create_calendar_event("Sync", "2026-11-24 10:00:00", "2026-11-24 11:00:00", "", [], "", None)')
    pred = plan(f'create_calendar_event("Sync", "2026-11-24 10:00:00", "2026-11-24 11:00:00", {pred_args})')
    assert both(pred, ref) == (True, ok)


def test_numbers_compare_by_value_but_booleans_stay_booleans():
    ref = plan('get_zoom_meeting_link("Q1 roadmap", "2026-11-27 13:00:00", 60, [])')
    assert strict_success(plan('get_zoom_meeting_link("Q1 roadmap", "2026-11-27 13:00:00", 60.0, [])'), ref)
    assert strict_success(plan('get_zoom_meeting_link("Q1 roadmap", "2026-11-27 13:00:00", "60", [])'), ref)
    assert not strict_success(plan('get_zoom_meeting_link("Q1 roadmap", "2026-11-27 13:00:00", 30, [])'), ref)
    reminder = plan('create_reminder("x", "", "", "", 0, False)')
    assert not strict_success(plan('create_reminder("x", "", "", "", False, 0)'), reminder)


def test_text_with_references_maps_them():
    ref = plan(
        'open_note("Gate codes", "")',
        'get_phone_number("Thuy")',
        'send_sms(["$2"], "Codes: $1")',
    )
    pred = plan(
        'get_phone_number("Thuy")',
        'open_note("gate codes", "")',
        'send_sms(["$1"], "codes $2")',
    )
    assert both(pred, ref) == (True, True)
    wrong_text = plan(
        'get_phone_number("Thuy")',
        'open_note("gate codes", "")',
        'send_sms(["$1"], "door $2")',
    )
    assert both(wrong_text, ref) == (True, False)


def test_attaching_the_wrong_file_fails_strict():
    ref = plan(
        'open_and_get_file_path("NDA")',
        'open_and_get_file_path("budget")',
        'compose_new_email(["zeynep@x.org"], [], "NDA", "", ["$1"])',
        'create_note("Budget", "$2", "Notes")',
    )
    pred = plan(
        'open_and_get_file_path("NDA")',
        'open_and_get_file_path("budget")',
        'compose_new_email(["zeynep@x.org"], [], "NDA", "", ["$2"])',
        'create_note("Budget", "$1", "Notes")',
    )
    assert both(pred, ref) == (True, False)


def test_identical_parallel_actions_with_different_arguments_try_all_mappings():
    names = ["Aylin", "Deniz", "Cem", "Ece", "Mert", "Ufuk"]
    ref = plan(*[f'get_phone_number("{n}")' for n in names], 'send_sms(["$1", "$2", "$3", "$4", "$5", "$6"], "hi")')
    reversed_names = list(reversed(names))
    pred = plan(
        *[f'get_phone_number("{n}")' for n in reversed_names], 'send_sms(["$6", "$5", "$4", "$3", "$2", "$1"], "hi")'
    )
    assert both(pred, ref) == (True, True)


def test_arity_mismatch_fails_strict():
    ref = plan('maps_show_directions("", "Lake Merritt", "d")')
    assert both(plan('maps_show_directions("", "Lake Merritt")'), ref) == (True, False)


# --------------------------------------------------------------------------- normalization


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Budget review!", "  budget   REVIEW ", True),
        ("don't forget", "dont forget", True),
        ("follow-up call", "follow up call", True),
        ("“Quarterly” plan.", "quarterly plan", True),
        ("sid@example.com", "sid.example.com", False),
        ("3:30", "330", False),
        ("Tío Manuel", "Tio Manuel", False),
        ("Straße", "STRASSE", True),
        ("meet at 4", "meet at 5", False),
    ],
)
def test_normalize_text(a, b, same):
    assert (normalize_text(a) == normalize_text(b)) is same


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("2026-11-24 15:30:00", None, datetime(2026, 11, 24, 15, 30)),
        ("12/1/2026", None, datetime(2026, 12, 1)),
        ("12/1/2026 12 am", None, datetime(2026, 12, 1, 0, 0)),
        ("today", NOW, datetime(2026, 11, 23)),
        ("tomorrow 9am", NOW, datetime(2026, 11, 24, 9)),
        ("tomorrow 9am", None, None),
        ("2026-13-01", None, None),
        ("2026-02-30 10:00", None, None),
        ("11/24/2026 25:00", None, None),
        ("Budget review", NOW, None),
        ("5", NOW, None),
        ("", NOW, None),
    ],
)
def test_parse_datetime(text, now, expected):
    assert parse_lenient_datetime(text, now) == expected


@given(st.text(max_size=40))
def test_normalize_text_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text(max_size=40))
def test_parse_datetime_never_raises(text):
    result = parse_lenient_datetime(text, NOW)
    assert result is None or isinstance(result, datetime)


# --------------------------------------------------------------------------- tool selection, edit distance


def test_tool_selection_scores_count_multisets():
    scores = tool_selection_scores(
        [
            (
                ["get_email_address", "get_email_address", "compose_new_email"],
                ["get_email_address", "compose_new_email"],
            ),
            ([], ["send_sms"]),  # parse failure: all reference tools missed
            (["maps_open_location"], ["maps_show_directions"]),
        ]
    )
    assert scores["get_email_address"] == ToolScore(1, 1, 0)
    assert scores["get_email_address"].precision == 0.5
    assert scores["get_email_address"].recall == 1.0
    assert scores["send_sms"].to_dict() == {"precision": None, "recall": 0.0, "support": 1}
    assert scores["maps_open_location"].to_dict() == {"precision": 0.0, "recall": None, "support": 0}
    overall = overall_tool_score(scores)
    assert (overall.true_positives, overall.false_positives, overall.false_negatives) == (2, 2, 2)


def test_edit_distance():
    pytest.importorskip("scipy")  # networkx computes edit distance with scipy
    ref = plan('get_email_address("Ana")', 'compose_new_email(["$1"], [], "Hi", "", [])')
    assert plan_edit_distance(ref, ref) == 0.0
    relabelled = plan('get_phone_number("Ana")', 'compose_new_email(["$1"], [], "Hi", "", [])')
    assert plan_edit_distance(relabelled, ref) == 1.0
    no_lookup = plan('compose_new_email(["ana@x.org"], [], "Hi", "", [])')
    assert plan_edit_distance(no_lookup, ref) == 2.0  # one node and one edge to add


# --------------------------------------------------------------------------- properties

TOOLS = {
    "get_email_address": ("str",),
    "summarize_pdf": ("str",),
    "send_sms": ("list", "str"),
    "create_note": ("str", "str", "str"),
    "compose_new_email": ("list", "list", "str", "str", "list"),
}
WORDS = st.sampled_from(["Ana", "Bo", "report", "budget review", "2026-11-24 10:00:00", ""])


@st.composite
def plans(draw) -> Plan:
    """Random well-formed plans over a few built-in tools, with random `$N` references."""
    actions = []
    for action_id in range(1, draw(st.integers(1, 7)) + 1):
        tool = draw(st.sampled_from(sorted(TOOLS)))

        def scalar(action_id: int = action_id):
            if action_id > 1 and draw(st.booleans()):
                ref = f"${draw(st.integers(1, action_id - 1))}"
                return draw(st.sampled_from([ref, f"Summary: {ref}"]))
            return draw(WORDS)

        args = []
        for kind in TOOLS[tool]:
            args.append([scalar() for _ in range(draw(st.integers(0, 3)))] if kind == "list" else scalar())
        actions.append(Action(action_id, tool, tuple(args)))
    actions.append(Action(len(actions) + 1, "join"))
    return parse_plan(Plan(tuple(actions)).render())


def renumbered(original: Plan, rng) -> Plan:
    """The same plan written in another topological order, list arguments shuffled."""
    remaining = {a.id: set(a.dependencies) for a in original.tool_actions}
    order: list[int] = []
    while remaining:
        ready = sorted(i for i, deps in remaining.items() if not deps)
        chosen = rng.choice(ready)
        order.append(chosen)
        del remaining[chosen]
        for deps in remaining.values():
            deps.discard(chosen)
    new_id = {old: new for new, old in enumerate(order, start=1)}

    def remap(value):
        if isinstance(value, list):
            items = [remap(v) for v in value]
            rng.shuffle(items)
            return items
        if isinstance(value, str):
            import re

            return re.sub(r"\$(\d+)", lambda m: f"${new_id[int(m.group(1))]}", value)
        return value

    actions = [
        Action(new_id[old], original.action(old).tool, tuple(remap(v) for v in original.action(old).args))
        for old in order
    ]
    actions.append(Action(len(actions) + 1, "join"))
    return parse_plan(Plan(tuple(actions)).render())


@settings(max_examples=150, deadline=None)
@given(plans(), st.randoms(use_true_random=False))
def test_any_renumbering_of_a_plan_succeeds_strictly(original, rng):
    other = renumbered(original, rng)
    assert plan_success(other, original)
    assert strict_success(other, original)


@settings(max_examples=100, deadline=None)
@given(plans(), st.data())
def test_changing_one_tool_breaks_success(original, data):
    target = data.draw(st.sampled_from(original.tool_actions))
    replacement = "get_phone_number" if target.tool != "get_phone_number" else "get_email_address"
    actions = tuple(Action(a.id, replacement, a.args) if a.id == target.id else a for a in original.actions)
    assert not plan_success(Plan(actions), original)


def test_builtin_list_parameters_are_the_unordered_ones():
    # The strict metric relies on the registry to know which lists are unordered.
    list_params = {(t.name, p.name) for t in builtin_registry() for p in t.parameters if p.type.is_list}
    assert {name for _, name in list_params} == {"recipients", "cc", "invitees", "attachments", "meeting_invitees"}
