"""A request's day that no action uses makes the planner write the dated action it left out."""

from __future__ import annotations

from datetime import datetime

from fakes import ScriptedLLM
from pocketagent.agent.plan_guard import dated_tools, unplaced_day
from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.plan.language import parse_plan
from pocketagent.tools import builtin_registry

HEADLINE = "email Sid and Nick the summary of budget.pdf and put a review on Friday at 3"
MONDAY = datetime(2026, 11, 30, 9, 0)
EMAIL_ONLY = """1. open_and_get_file_path("budget.pdf")
2. summarize_pdf("$1")
3. get_email_address("Sid")
4. get_email_address("Nick")
5. compose_new_email(["$3", "$4"], [], "Budget summary", "$2", [])
6. join()<END_OF_PLAN>"""
EVENT = 'create_calendar_event("Review", "2026-12-04 15:00:00", "2026-12-04 16:00:00", "", [], "", None)\n7. join()<END_OF_PLAN>'


def actions(text: str):  # type: ignore[no-untyped-def]
    return list(parse_plan(text).tool_actions)


def test_a_day_no_action_uses_is_unplaced() -> None:
    registry = builtin_registry()
    assert unplaced_day(HEADLINE, actions(EMAIL_ONLY), registry)
    with_event = EMAIL_ONLY.replace("6. join()", "6. " + EVENT.replace("\n7. join()", "\n7. join()"))
    assert not unplaced_day(HEADLINE, actions(with_event), registry)


def test_a_day_said_inside_a_message_or_no_day_at_all_is_placed() -> None:
    registry = builtin_registry()
    reply = '1. reply_to_email([], "I\'ll call you tomorrow", [])\n2. join()<END_OF_PLAN>'
    assert not unplaced_day("reply to the sender, i'll call you tomorrow", actions(reply), registry)
    assert not unplaced_day("email Sid the budget", actions(EMAIL_ONLY), registry)
    assert not unplaced_day("remind me at 5 to call", actions(EMAIL_ONLY), registry)  # a clock time is not a day


def test_dated_tools_are_the_ones_taking_a_moment() -> None:
    assert sorted(dated_tools(builtin_registry())) == ["create_calendar_event", "create_reminder", "get_zoom_meeting_link"]


def test_the_planner_continues_a_plan_that_dropped_the_dated_clause() -> None:
    backend = ScriptedLLM([EMAIL_ONLY, EVENT])
    planner = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact"))
    ready = planner.plan(HEADLINE, MONDAY)
    assert ready.error is None and ready.plan is not None
    assert [a.tool for a in ready.plan.tool_actions][-2:] == ["compose_new_email", "create_calendar_event"]
    assert ready.plan.tool_actions[-1].args[1] == "2026-12-04 15:00:00"
    first, second = backend.options
    assert first.prefill == "" and second.prefill.endswith('"$2", [])\n6. ') and second.prefill.startswith("1. open_and")
    # The continuation must write a dated call first: its grammar starts there.
    assert second.grammar is not None and second.grammar.startswith(
        'root ::= ( t-create-calendar-event-6 | t-create-reminder-6 | t-get-zoom-meeting-link-6 ) "\\n" step-7'
    )


def test_a_plan_that_places_its_day_is_not_continued() -> None:
    plan = EMAIL_ONLY.replace("6. join()", "6. " + EVENT)
    backend = ScriptedLLM([plan])
    ready = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact")).plan(HEADLINE, MONDAY)
    assert ready.plan is not None and len(backend.options) == 1


def test_without_a_grammar_there_is_no_continuation() -> None:
    backend = ScriptedLLM([EMAIL_ONLY])
    ready = Planner(backend, builtin_registry(), PlannerConfig(grammar=False)).plan(HEADLINE, MONDAY)
    assert ready.plan is not None and len(ready.plan.tool_actions) == 5 and len(backend.options) == 1


def test_a_skipped_phone_lookup_makes_the_model_write_the_text_in_its_place() -> None:
    request = "email Grace and Tomás the news and text Grace that I sent it"
    texts_both = """1. get_email_address("Grace")
2. get_email_address("Tomás")
3. compose_new_email(["$1", "$2"], [], "Agenda", "", [])
4. get_phone_number("Grace")
5. get_phone_number("Tomás")
6. send_sms(["$4", "$5"], "I sent it")
7. join()<END_OF_PLAN>"""
    backend = ScriptedLLM([texts_both, 'send_sms(["$4"], "I sent it")\n6. join()<END_OF_PLAN>'])
    planner = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact"))
    ready = planner.plan(request, MONDAY)
    assert ready.error is None and ready.plan is not None
    assert [a.render() for a in ready.plan.tool_actions][-2:] == [
        '4. get_phone_number("Grace")',
        '5. send_sms(["$4"], "I sent it")',
    ]
    first, second = backend.options
    assert second.prefill.endswith('get_phone_number("Grace")\n5. ')
    assert second.grammar is not None and second.grammar.startswith('root ::= ( t-send-sms-5 ) "\\n" step-6')


def test_the_planner_inserts_the_lookup_of_a_bare_recipient_and_goes_on() -> None:
    request = "email Svetlana the deadline and remind me tomorrow at 9 to pay rent"
    bare = """1. compose_new_email(["Svetlana"], [], "Deadline", "", [])
2. create_reminder("Pay rent", "2026-12-01 09:00:00", "", "", 0, False)
3. join()<END_OF_PLAN>"""
    rest = 'create_reminder("Pay rent", "2026-12-01 09:00:00", "", "", 0, False)\n4. join()<END_OF_PLAN>'
    backend = ScriptedLLM([bare, rest])
    planner = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact"))
    ready = planner.plan(request, MONDAY)
    assert ready.error is None and ready.plan is not None
    assert [a.render() for a in ready.plan.tool_actions] == [
        '1. get_email_address("Svetlana")',
        '2. compose_new_email(["$1"], [], "Deadline", "", [])',
        '3. create_reminder("Pay rent", "2026-12-01 09:00:00", "", "", 0, False)',
    ]
    # The model goes on after the inserted lookup and the rewritten email, free to write any tool or the end.
    second = backend.options[1]
    assert second.prefill.endswith('compose_new_email(["$1"], [], "Deadline", "", [])\n3. ')
    assert second.grammar is not None and "join" in second.grammar.split("\n")[0]
