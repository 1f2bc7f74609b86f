"""A clause no action carries out is planned again on its own and its actions added."""

from __future__ import annotations

from datetime import datetime

import pytest
from fakes import ScriptedLLM
from pocketagent.agent.dropped_clauses import dropped_clauses
from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.plan.language import parse_plan
from pocketagent.tools import builtin_registry

MONDAY = datetime(2026, 11, 30, 9, 0)
RUN_ON = (
    "pls get this email over to ben and svetlana, please review n i need to get gas at 9 pm tmrw, remind me "
    "and write to giovanni and tess asking to move our 1:1"
)
DROPPED = """1. get_email_address("Ben")
2. get_email_address("Svetlana")
3. forward_email(["$1", "$2"], [], "please review", [])
4. create_reminder("Get gas", "2026-12-01 21:00:00", "", "", 0, False)
5. get_email_address("Giovanni")
6. join()<END_OF_PLAN>"""
CLAUSE = "write to giovanni and tess asking to move our 1:1"
ALONE = """1. get_email_address("Giovanni")
2. get_email_address("Tess")
3. compose_new_email(["$1", "$2"], [], "Our 1:1", "can we move our 1:1?", [])
4. join()<END_OF_PLAN>"""


def actions(text: str):  # type: ignore[no-untyped-def]
    return list(parse_plan(text).tool_actions)


def test_a_clause_no_action_carries_out_is_found() -> None:
    dropped = dropped_clauses(RUN_ON, actions(DROPPED))
    assert [(clause.kind, clause.text) for clause in dropped] == [("email", CLAUSE)]
    assert dropped[0].tools == ("compose_new_email",)


def test_a_plan_that_carries_out_every_clause_has_none_dropped() -> None:
    whole = DROPPED.replace(
        "6. join()", '6. get_email_address("Tess")\n7. compose_new_email(["$5", "$6"], [], "1:1", "move our 1:1?", [])\n8. join()'
    )
    assert dropped_clauses(RUN_ON, actions(whole)) == []


@pytest.mark.parametrize(
    ("request_text", "plan"),
    [
        # "write down ... new note" asks for a note, not an email.
        ('write down "call the bank" — new note, call it Ideas', '1. create_note("Ideas", "call the bank", "Notes")'),
        # An email that carries a clause out shares a word with it (who gets it).
        ("text Ana that I'm late and email Bo the agenda", '1. get_phone_number("Ana")\n2. send_sms(["$1"], "I\'m late")\n'
         '3. get_email_address("Bo")\n4. compose_new_email(["$3"], [], "Agenda", "", [])'),
        # An address for a booking is not a clause asking to book.
        ("Saoirse and booking@alpenhof.at need a summary of the W-2, email it to them", '1. open_and_get_file_path("W-2")\n'
         '2. summarize_pdf("$1")\n3. get_email_address("Saoirse")\n4. compose_new_email(["$3", "booking@alpenhof.at"], [], '
         '"W-2 summary", "$2", [])'),
    ],
)
def test_clauses_the_plan_carries_out_are_not_dropped(request_text: str, plan: str) -> None:
    ended = f"{plan}\n{plan.count(chr(10)) + 2}. join()<END_OF_PLAN>"
    assert dropped_clauses(request_text, actions(ended)) == []


def test_a_clause_that_points_back_is_planned_with_the_one_before_it() -> None:
    request = "show me the way to SFO and text Bo I'm late. reply no thanks and then nat needs a summary of my lease doc, email it to her"
    plan = '1. reply_to_email([], "no thanks", [])\n2. open_and_get_file_path("lease")\n3. summarize_pdf("$2")\n'
    plan += '4. maps_show_directions("", "SFO", "d")\n5. get_phone_number("Bo")\n6. send_sms(["$5"], "I\'m late")\n7. join()'
    (clause,) = dropped_clauses(request, actions(plan))
    assert clause.kind == "email" and clause.own == "email it to her"
    assert clause.text == "reply no thanks and then nat needs a summary of my lease doc, email it to her"
    # Planned together, the clause before is planned again: only the email and what it uses are
    # taken, and calls the plan already has are referred to, not repeated.
    alone = actions(
        '1. reply_to_email([], "no thanks!", [])\n2. open_and_get_file_path("lease")\n3. summarize_pdf("$2")\n'
        '4. get_email_address("Nat")\n5. compose_new_email(["$4"], [], "Lease summary", "$3", [])\n6. join()'
    )
    added = clause.carried_out(alone, actions(plan))
    assert [action.render() for action in added] == [
        '7. get_email_address("Nat")',
        '8. compose_new_email(["$7"], [], "Lease summary", "$3", [])',
    ]


def test_a_clause_that_is_most_of_the_request_is_not_planned_again() -> None:
    request = "send admissions@tufts.edu a copy of this email"
    assert dropped_clauses(request, actions('1. open_note("Admissions", "")\n2. join()')) == []


def test_a_clause_planned_alone_that_looks_up_a_pronoun_adds_nothing() -> None:
    (clause,) = dropped_clauses(RUN_ON, actions(DROPPED))
    him = actions('1. get_email_address("Him")\n2. compose_new_email(["$1"], [], "1:1", "move our 1:1", [])\n3. join()')
    assert clause.carried_out(him, actions(DROPPED)) == []


def test_a_clause_planned_alone_without_its_action_adds_nothing() -> None:
    (clause,) = dropped_clauses(RUN_ON, actions(DROPPED))
    lookups_only = actions('1. get_email_address("Giovanni")\n2. get_email_address("Tess")\n3. join()')
    assert clause.carried_out(lookups_only, actions(DROPPED)) == []
    # An email that shares no word with the clause is some other email.
    other = actions('1. get_email_address("Ben")\n2. compose_new_email(["$1"], [], "Hi", "hello", [])\n3. join()')
    assert clause.carried_out(other, actions(DROPPED)) == []


def test_the_planner_plans_the_dropped_clause_alone_and_adds_its_actions() -> None:
    backend = ScriptedLLM(plans={RUN_ON: DROPPED, CLAUSE: ALONE})
    ready = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact")).plan(RUN_ON, MONDAY)
    assert ready.error is None and ready.plan is not None
    # (Giovanni's unused address first makes the model write an email after it: the script's
    # answer there takes nothing, so the plan stands until the clause is planned alone.)
    assert backend.requests[-1] == CLAUSE and backend.requests.count(CLAUSE) == 1
    rendered = [action.render() for action in ready.plan.tool_actions]
    assert rendered[:5] == [action.render() for action in actions(DROPPED)]
    # Giovanni's lookup is the plan's own (5), not repeated; Tess is looked up and the email written.
    assert rendered[5:] == [
        '6. get_email_address("Tess")',
        '7. compose_new_email(["$5", "$6"], [], "Our 1:1", "can we move our 1:1?", [])',
    ]


def test_the_planner_keeps_the_plan_when_the_clause_alone_does_not_carry_it_out() -> None:
    backend = ScriptedLLM(plans={RUN_ON: DROPPED, CLAUSE: '1. get_email_address("Tess")\n2. join()<END_OF_PLAN>'})
    ready = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact")).plan(RUN_ON, MONDAY)
    assert ready.plan is not None and backend.requests[-1] == CLAUSE
    assert [a.render() for a in ready.plan.tool_actions] == [a.render() for a in actions(DROPPED)]


def test_replanning_dropped_clauses_can_be_turned_off() -> None:
    backend = ScriptedLLM(plans={RUN_ON: DROPPED, CLAUSE: ALONE})
    config = PlannerConfig(prompt_style="compact", replan_dropped=False)
    ready = Planner(backend, builtin_registry(), config).plan(RUN_ON, MONDAY)
    assert ready.plan is not None and CLAUSE not in backend.requests
    assert len(ready.plan.tool_actions) == 5


def test_of_two_actions_of_its_kind_only_the_one_that_says_the_clause_is_taken() -> None:
    (clause,) = dropped_clauses(RUN_ON, actions(DROPPED))
    two = actions(
        '1. get_email_address("Giovanni")\n2. get_email_address("Tess")\n'
        '3. compose_new_email(["$1", "$2"], [], "Our 1:1", "can we move our 1:1?", [])\n'
        '4. open_and_get_file_path("W-2")\n5. compose_new_email(["$1"], [], "W-2", "", ["$4"])\n6. join()'
    )
    added = clause.carried_out(two, actions(DROPPED))
    assert [action.tool for action in added] == ["get_email_address", "compose_new_email"]
    assert added[-1].args[0] == ["$5", "$6"]
