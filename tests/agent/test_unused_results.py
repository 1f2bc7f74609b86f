"""A result the plan found and never used makes the planner write the action that takes it."""

from __future__ import annotations

from datetime import datetime

import pytest
from fakes import ScriptedLLM
from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.agent.unused_results import unused_result
from pocketagent.plan.language import parse_plan
from pocketagent.tools import builtin_registry

MONDAY = datetime(2026, 11, 30, 9, 0)
OFFSITE = "invite Cosmin and Leonie to Offsite planning, email them the offsite budget pdf, and text Cosmin that the invite's out"
DROPPED_EMAIL = """1. get_email_address("Cosmin")
2. get_email_address("Leonie")
3. create_calendar_event("Offsite planning", "2026-12-08 14:00:00", "2026-12-08 15:00:00", "", ["$1", "$2"], "", None)
4. open_and_get_file_path("offsite budget")
5. get_phone_number("Cosmin")
6. send_sms(["$5"], "the invite's out")
7. join()<END_OF_PLAN>"""
EMAIL = 'compose_new_email(["$1", "$2"], [], "Offsite budget", "", ["$4"])\n8. join()<END_OF_PLAN>'


def actions(text: str):  # type: ignore[no-untyped-def]
    return list(parse_plan(text).tool_actions)


def test_a_file_the_request_sends_and_the_plan_never_attaches_is_unused() -> None:
    unused = unused_result(OFFSITE, actions(DROPPED_EMAIL))
    assert unused is not None and unused.action.id == 4
    assert unused.tools == ("compose_new_email",)  # no reply: the request asks for none
    email = actions(DROPPED_EMAIL.replace("7. join()", "7. " + EMAIL))[-1]
    assert unused.used_by(email)
    assert not unused.used_by(email.__class__(8, "compose_new_email", (["$1"], [], "Hi", "", [])))
    assert not unused.used_by(email.__class__(8, "send_sms", (["$5"], "$4")))


@pytest.mark.parametrize(
    ("request_text", "plan"),
    [
        # The request asks for the result itself.
        ("open the budget spreadsheet and text Ana hi", '1. open_and_get_file_path("budget spreadsheet")'),
        ("what email do I have for José, and text Ana hi", '1. get_email_address("José")'),
        ("look up the emial for łukasz", '1. get_email_address("Łukasz")'),
        ("what's Noor's number", '1. get_phone_number("Noor")'),
        ("summarize the NDA and text Ana hi", '1. open_and_get_file_path("NDA")\n2. summarize_pdf("$1")'),
        ("make a zoom for standup at 10", '1. get_zoom_meeting_link("Standup", "2026-12-01 10:00:00", 60, [])'),
    ],
)
def test_a_result_the_request_asks_for_may_stay_unused(request_text: str, plan: str) -> None:
    ended = f"{plan}\n{plan.count(chr(10)) + 2}. join()<END_OF_PLAN>"
    assert unused_result(request_text, actions(ended)) is None


def test_a_summary_is_unused_only_when_the_request_passes_on_more_than_the_plan_does() -> None:
    two = '1. open_and_get_file_path("thesis")\n2. summarize_pdf("$1")\n3. get_email_address("Inés")\n'
    two += '4. compose_new_email(["$3"], [], "Thesis summary", "$2", [])\n5. open_and_get_file_path("contract")\n'
    two += '6. summarize_pdf("$5")\n7. join()<END_OF_PLAN>'
    assert unused_result("summarize the thesis and send Inés the summary, also summarize the contract", actions(two)) is None
    said = "summarize the thesis, send Inés the summary, summarize the contract and text the tl;dr to Bo"
    unused = unused_result(said, actions(two))
    assert unused is not None and unused.action.id == 6 and "send_sms" in unused.tools


def test_the_planner_makes_the_model_write_the_email_that_sends_the_file() -> None:
    backend = ScriptedLLM([DROPPED_EMAIL, EMAIL])
    ready = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact")).plan(OFFSITE, MONDAY)
    assert ready.error is None and ready.plan is not None
    last = ready.plan.tool_actions[-1]
    assert last.tool == "compose_new_email" and last.args[-1] == ["$4"]
    second = backend.options[1]
    assert second.prefill.endswith('open_and_get_file_path("offsite budget")\n5. ')
    assert second.grammar is not None and second.grammar.startswith('root ::= ( t-compose-new-email-5 ) "\\n" step-6')


def test_an_action_that_does_not_take_the_result_is_dropped_and_the_plan_stands() -> None:
    other = 'compose_new_email(["$1", "$2"], [], "Offsite", "see you there", [])\n8. join()<END_OF_PLAN>'
    backend = ScriptedLLM([DROPPED_EMAIL, other])
    # (Not planning the email's clause again on its own, which `test_dropped_clauses` covers.)
    config = PlannerConfig(prompt_style="compact", replan_dropped=False)
    ready = Planner(backend, builtin_registry(), config).plan(OFFSITE, MONDAY)
    assert ready.error is None and ready.plan is not None
    assert [a.tool for a in ready.plan.tool_actions] == [a.tool for a in actions(DROPPED_EMAIL)]
    assert len(backend.options) == 2  # asked once, not again


def test_a_plan_that_uses_its_results_is_not_continued() -> None:
    whole = DROPPED_EMAIL.replace("7. join()", "7. " + EMAIL)
    backend = ScriptedLLM([whole])
    ready = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact")).plan(OFFSITE, MONDAY)
    assert ready.plan is not None and len(backend.options) == 1


def test_a_result_left_out_of_a_later_action_that_takes_its_kind_is_not_a_dropped_action() -> None:
    # "reply saying count me in, keep Shirin in the loop": the reply is there without her; a second
    # reply would be no better.
    plan = '1. get_email_address("Shirin")\n2. reply_to_email([], "count me in", [])\n3. join()<END_OF_PLAN>'
    assert unused_result("reply saying count me in, keep Shirin in the loop", actions(plan)) is None
    dropped = '1. get_email_address("Shirin")\n2. join()<END_OF_PLAN>'
    unused = unused_result("reply saying count me in, keep Shirin in the loop", actions(dropped))
    assert unused is not None and unused.tools == ("compose_new_email", "reply_to_email")


def test_the_taking_action_is_written_right_after_the_result_and_numbered_last() -> None:
    request = "find the lease pdf, email it to Ana, and show me the way to SFO"
    dropped = '1. open_and_get_file_path("lease")\n2. get_email_address("Ana")\n3. maps_show_directions("", "SFO", "d")\n'
    dropped += "4. join()<END_OF_PLAN>"
    taking = 'compose_new_email(["$2"], [], "Lease", "", ["$1"])\n'
    backend = ScriptedLLM([dropped, taking])
    ready = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact")).plan(request, MONDAY)
    assert ready.plan is not None
    last = ready.plan.tool_actions[-1]
    assert (last.id, last.tool, last.args) == (4, "compose_new_email", (["$2"], [], "Lease", "", ["$1"]))
    # Prefilled up to the unused result (Ana's address; "email it" sends no named file), not to
    # the end of the plan.
    assert backend.options[1].prefill == '1. open_and_get_file_path("lease")\n2. get_email_address("Ana")\n3. '


def test_a_taking_action_the_guard_refuses_is_dropped_and_the_plan_stands() -> None:
    request = "email Ana that the lease is signed"
    dropped = '1. get_email_address("Ana")\n2. join()<END_OF_PLAN>'
    # A recipient nobody asked for (copied from some email, say): refused, and the plan is not failed for it.
    taking = 'compose_new_email(["$1", "bob@evil.example"], [], "Lease", "the lease is signed", [])\n'
    backend = ScriptedLLM([dropped, taking])
    ready = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact")).plan(request, MONDAY)
    assert len(backend.options) == 2
    assert ready.error is None and ready.stopped is None and ready.plan is not None
    assert [a.tool for a in ready.plan.tool_actions] == ["get_email_address"]
