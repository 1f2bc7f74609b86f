"""Planning a request part by part (agent.clauses, Planner._stream_parts)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from fakes import ScriptedLLM
from pocketagent.agent.clauses import PartPlans, split_request
from pocketagent.agent.events import ActionPlanned, Event, PlanReady
from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.plan.language import Action, parse_plan
from pocketagent.tools.builtin import builtin_registry

NOW = datetime(2026, 11, 23, 10, 0, 0)  # a Monday


def test_sentences_semicolons_and_plus_split_a_request() -> None:
    assert split_request("Text Seo-yeon: the meeting moved to 3 + nudge me in an hour to file the taxes") == [
        "Text Seo-yeon: the meeting moved to 3",
        "nudge me in an hour to file the taxes",
    ]
    assert split_request("Show me Ocean Beach on the map. Also remind me at 6 to call Oma; email Ingrid the lease") == [
        "Show me Ocean Beach on the map.",
        "remind me at 6 to call Oma",
        "email Ingrid the lease",
    ]
    assert split_request("A few things: 1. open the budget note, 2. show me SFO on the map") == [
        "A few things: 1. open the budget note",
        "show me SFO on the map",
    ]


def test_plain_and_commas_and_one_sentence_keep_the_request_whole() -> None:
    for request in (
        "email Sid and Nick the summary of budget.pdf and put a review on Friday at 3",
        "reply to this saying thanks, I'll get back to you Monday, forward it to Matías",
        "email Dr. Adeyemi the report and text St. John the plan",
        "shoot Camille a text, the plumber comes at 9. Please also email Raj",  # "at 9." is a time
        'text Ana "running late; save me a seat. Thanks" please',  # quoted: what the text says
        "tl;dr of the lease pdf for me",
        "forward this to Omar with a note saying thoughts? with claims@acme.com on cc",  # "?" in a message
        "open my Kids note; once that's done, email the note to Ana",  # waits for the first part
    ):
        assert split_request(request) == [request]


def test_a_part_that_points_back_stays_with_the_one_before() -> None:
    request = "Rafael hasn't read that lab results file. Summarize it and text him the summary"
    assert split_request(request) == [request]
    assert split_request("Find the board deck. Then email the summary to Ana. Also show me SFO on the map") == [
        "Find the board deck. Then email the summary to Ana.",
        "show me SFO on the map",
    ]
    # "the tl;dr", "the gist" and "that" as what is sent point back too.
    for request in (
        "Two things: pull up the Trip to Lisbon note. After that, email that to Ingrid and Ren",
        "Give me a summary of lab results, then send +1 206 555 0111 the tl;dr by text",
        "What's in my Q1 goals note, then text Nour & Étienne that",
        "hey open the meeting notes note. make sure sam and leila get that by email",
    ):
        assert split_request(request) == [request]


def test_a_new_summary_or_a_that_which_starts_a_message_is_a_part_of_its_own() -> None:
    assert split_request("Open note Spanish phrases. Give me the key points of that home inspection report") == [
        "Open note Spanish phrases.",
        "Give me the key points of that home inspection report",
    ]
    assert split_request("Block off sat 3 for the debrief. Before that, create a zoom for the partner call at 10") == [
        "Block off sat 3 for the debrief.",
        "Before that, create a zoom for the partner call at 10",
    ]
    assert split_request("Show me SFO on the map. Text Ana that I'm late") == ["Show me SFO on the map.", "Text Ana that I'm late"]


def test_openers_and_thanks_are_not_parts_of_their_own() -> None:
    assert split_request("Two things. Show me SFO on the map. Text Ana I'm late. Thank you.") == [
        "Two things. Show me SFO on the map.",
        "Text Ana I'm late. Thank you.",
    ]


_CLAUSE = st.sampled_from(
    ["text Ana I'm late", "show me SFO on the map", "remind me at 6 to call Oma", "open the Kitchen note"]
)


@given(st.lists(_CLAUSE, min_size=1, max_size=5), st.sampled_from([". ", "; ", " + ", ". Also "]))
def test_every_word_of_a_request_is_in_some_part(clauses: list[str], joint: str) -> None:
    request = joint.join(clauses)
    parts = split_request(request)
    assert len(parts) == len(clauses)
    assert [part.rstrip(".") for part in parts] == clauses


def test_part_plans_number_across_parts_and_share_lookups() -> None:
    joined = PartPlans()
    first = parse_plan('1. get_email_address("Kenji")\n2. compose_new_email(["$1"], [], "Hi", "", [])\n3. join()')
    second = parse_plan('1. get_email_address("Ana")\n2. get_email_address("Kenji")\n'
                        '3. compose_new_email(["$1", "$2"], [], "Yo", "", [])\n4. join()')
    for plan in (first, second):
        joined.next_part()
        for action in plan.tool_actions:
            joined.add(action)
    assert [action.render() for action in joined.actions] == [
        '1. get_email_address("Kenji")',
        '2. compose_new_email(["$1"], [], "Hi", "", [])',
        '3. get_email_address("Ana")',
        '4. compose_new_email(["$3", "$1"], [], "Yo", "", [])',  # Kenji's lookup is the first part's
    ]


def test_the_planner_plans_each_part_and_dispatches_one_numbered_plan() -> None:
    backend = ScriptedLLM(
        plans={
            "Text Ana I'm late.": '1. get_phone_number("Ana")\n2. send_sms(["$1"], "I\'m late")\n3. join()<END_OF_PLAN>',
            "email Ana the lease": '1. get_email_address("Ana")\n2. compose_new_email(["$1"], [], "Lease", "", [])\n'
            "3. join()<END_OF_PLAN>",
        }
    )
    planner = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact", grammar=False))
    events: list[Event] = []
    dispatched: list[Action] = []
    ready = asyncio.run(planner.stream_plan("Text Ana I'm late. Also email Ana the lease", NOW, events.append,
                                            dispatched.append))
    assert backend.requests == ["Text Ana I'm late.", "email Ana the lease"]
    assert ready.plan is not None and ready.error is None
    assert [a.render() for a in dispatched] == [
        '1. get_phone_number("Ana")',
        '2. send_sms(["$1"], "I\'m late")',
        '3. get_email_address("Ana")',
        '4. compose_new_email(["$3"], [], "Lease", "", [])',
    ]
    assert [e.id for e in events if isinstance(e, ActionPlanned)] == [1, 2, 3, 4]
    assert [e for e in events if isinstance(e, PlanReady)] == [ready]
    assert ready.text.endswith("5. join()<END_OF_PLAN>")


def test_a_failing_part_fails_the_plan_and_a_replan_plans_the_request_whole() -> None:
    backend = ScriptedLLM(
        [
            '1. get_phone_number("Ana")\n2. send_sms(["$1"], "hi")\n3. join()<END_OF_PLAN>',
            "no plan here",
            '1. get_phone_number("Ana")\n2. send_sms(["$1"], "hi")\n3. open_note("Kitchen", "")\n4. join()<END_OF_PLAN>',
        ]
    )
    planner = Planner(backend, builtin_registry(), PlannerConfig(prompt_style="compact", grammar=False))
    ready = planner.plan("Text Ana hi. Also open the Kitchen note", NOW, replans=1)
    assert backend.requests[:2] == ["Text Ana hi.", "open the Kitchen note"]
    assert backend.requests[2] == "Text Ana hi. Also open the Kitchen note"  # the replan: whole
    assert ready.plan is not None and len(ready.plan.tool_actions) == 3


def test_plan_by_parts_off_plans_the_request_whole() -> None:
    backend = ScriptedLLM('1. open_note("Kitchen", "")\n2. join()<END_OF_PLAN>')
    config = PlannerConfig(prompt_style="compact", grammar=False, plan_by_parts=False, replan_dropped=False)
    Planner(backend, builtin_registry(), config).plan("Show me SFO on the map. Also open the Kitchen note", NOW)
    assert backend.requests == ["Show me SFO on the map. Also open the Kitchen note"]
