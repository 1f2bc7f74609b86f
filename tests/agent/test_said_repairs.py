"""Arguments the request states outright are put right before an action runs (agent.said_repairs)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from pocketagent.agent.plan_guard import PlanGuard, Verdict
from pocketagent.agent.said_repairs import (
    SaidRepairs,
    cc_spans,
    quoted_phrases,
    said_all_day,
    said_durations,
    said_times,
)
from pocketagent.plan.language import parse_plan
from pocketagent.tools.builtin import builtin_registry

NOW = datetime(2026, 11, 30, 9, 0, 0)


def _guarded(request: str, plan_text: str) -> list[tuple[str, tuple]]:
    """(verdict, args) of each action of the plan, checked in order by a fresh guard."""
    guard = PlanGuard(request, NOW, builtin_registry())
    results = []
    for action in parse_plan(plan_text).tool_actions:
        check = guard.check(action)
        results.append((check.verdict, (check.action or action).args))
    return results


def test_durations_read_off_the_request() -> None:
    assert said_durations("zoom with Bo on Dec 3 at 11, 30 minutes") == {30}
    assert said_durations("a two hour workshop") == {120}
    assert said_durations("an hour and a half with the team") == {90}
    assert said_durations("a 45-min call") == {45}
    assert said_durations("1.5 hours") == {90}
    # A time from now and an offset are not lengths.
    assert said_durations("remind me in 30 minutes") == set()
    assert said_durations("ping me 10 minutes before the call") == set()
    assert said_durations("lunch at 12:30 tomorrow") == set()
    assert said_durations("a fifty minute sync") == {50}
    assert said_durations("I'm running 10 minutes late") == set()


def test_clock_times_follow_the_data_conventions() -> None:
    assert said_times("lunch friday at noon") == {(12, 0)}
    assert said_times("remind me tomorrow at 7") == {(19, 0)}  # 1-7 without am/pm are pm
    assert said_times("at 9 in the morning") == {(9, 0)} and said_times("tonight at 8") == {(20, 0)}
    assert said_times("Dec 8 from 2 to 3pm") == {(14, 0), (15, 0)}
    assert said_times("Wednesday 10 to 11") == {(10, 0), (11, 0)}
    assert said_times("mon 07:30") == {(7, 30)} and said_times("7:30") == {(19, 30)}
    assert said_times("half past 4") == {(16, 30)}
    assert said_times("directions to 1 Market St") == set()  # an address, not a time
    assert said_times("remind me in 2 hours, call at 3") == set()  # a time from now: the model's to place


def test_quotes_and_all_day() -> None:
    assert quoted_phrases('add "call plumber re: water heater" to Home') == ["call plumber re: water heater"]
    assert quoted_phrases("note: 'try the trail' please, I'm off") == ["try the trail"]
    assert quoted_phrases("I'm late, don't wait") == []
    assert said_all_day("an all-day reminder") and said_all_day("all day Friday")
    assert not said_all_day("remind me at 9")


def test_a_cut_quote_becomes_the_whole_phrase() -> None:
    request = 'in my Household folder, add "call plumber re: water heater" to the Home note'
    plan = '1. append_note_content("Home", "call plumber", "Household")\n2. join()<END_OF_PLAN>'
    [(verdict, args)] = _guarded(request, plan)
    assert verdict is Verdict.REPAIR
    assert args == ("Home", "call plumber re: water heater", "Household")


def test_a_person_is_never_extended_to_a_quote() -> None:
    request = 'text Ana "Ana is running late"'
    plan = '1. get_phone_number("Ana")\n2. send_sms(["$1"], "Ana is running late")\n3. join()<END_OF_PLAN>'
    assert [verdict for verdict, _ in _guarded(request, plan)] == [Verdict.ACCEPT, Verdict.ACCEPT]


def test_all_day_follows_the_request() -> None:
    said = 'put "pay the water bill" on my Bills list as an all-day reminder for Dec 1'
    plan = '1. create_reminder("Pay the water bill", "2026-12-01 00:00:00", "", "Bills", 0, False)\n2. join()<END_OF_PLAN>'
    [(verdict, args)] = _guarded(said, plan)
    assert verdict is Verdict.REPAIR and args[5] is True
    unsaid = "remind me Dec 1 to pay the water bill"
    plan = '1. create_reminder("Pay the water bill", "2026-12-01 00:00:00", "", "", 0, True)\n2. join()<END_OF_PLAN>'
    [(verdict, args)] = _guarded(unsaid, plan)
    assert verdict is Verdict.REPAIR and args[5] is False
    # Said, but this reminder has a time of day: left as it is.
    plan = '1. create_reminder("Pay the water bill", "2026-12-01 09:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>'
    assert _guarded(said, plan)[0][0] is Verdict.ACCEPT


def test_the_event_showing_a_meeting_link_ends_with_the_stated_duration() -> None:
    request = "I need an investor update call on Zoom, Dec 3 at 11, 30 minutes. Block it on my Work calendar too."
    plan = (
        '1. get_zoom_meeting_link("Investor update", "2026-12-03 11:00:00", 30, [])\n'
        '2. create_calendar_event("Investor update", "2026-12-03 11:00:00", "2026-12-03 12:00:00", "$1", [], "", "Work")\n'
        "3. join()<END_OF_PLAN>"
    )
    results = _guarded(request, plan)
    assert results[0][0] is Verdict.ACCEPT
    assert results[1][0] is Verdict.REPAIR and results[1][1][2] == "2026-12-03 11:30:00"


def test_no_stated_duration_leaves_the_event_alone() -> None:
    request = "design sync zoom with Bo Dec 3 at 11 and put it on my calendar"
    plan = (
        '1. get_email_address("Bo")\n'
        '2. get_zoom_meeting_link("Design sync", "2026-12-03 11:00:00", 60, ["$1"])\n'
        '3. create_calendar_event("Design sync", "2026-12-03 11:00:00", "2026-12-03 12:30:00", "$2", [], "", None)\n'
        "4. join()<END_OF_PLAN>"
    )
    assert all(verdict is Verdict.ACCEPT for verdict, _ in _guarded(request, plan))


@given(st.text(max_size=200))
def test_reading_any_request_is_total(request: str) -> None:
    """No request makes the readers raise, and a repair never changes the tool or the arity."""
    said_durations(request)
    quoted_phrases(request)
    repairs = SaidRepairs(request, builtin_registry())
    action = parse_plan('1. create_note("x", "y", "Notes")\n2. join()<END_OF_PLAN>').tool_actions[0]
    repaired, _ = repairs.repair(action)
    assert repaired.tool == action.tool and len(repaired.args) == len(action.args)


def test_a_start_time_the_request_never_says_moves_to_the_one_it_says() -> None:
    request = "put lunch with Sven at Tartine on friday at noon on my calendar and invite him"
    plan = (
        '1. get_email_address("Sven")\n'
        '2. create_calendar_event("Lunch", "2026-12-04 18:00:00", "2026-12-04 19:00:00", "Tartine", ["$1"], "", None)\n'
        "3. join()<END_OF_PLAN>"
    )
    results = _guarded(request, plan)
    assert results[1][0] is Verdict.REPAIR
    assert results[1][1][1:3] == ("2026-12-04 12:00:00", "2026-12-04 13:00:00")  # the end moves with it
    # The other half of the day: "at 7" is 19:00.
    plan = '1. create_reminder("Call Oma", "2026-12-01 07:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>'
    assert _guarded("remind me tomorrow at 7 to call Oma", plan)[0][1][1] == "2026-12-01 19:00:00"
    # Two said times, and the start is neither nor their other half: left to the model.
    plan = '1. create_reminder("Pay", "2026-12-01 13:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>'
    assert _guarded("remind me tomorrow at 9am to pay and at 5pm to call", plan)[0][0] is Verdict.ACCEPT


def test_lookups_take_the_bare_name_and_file() -> None:
    plan = '1. get_phone_number("Noor\'s")\n2. join()<END_OF_PLAN>'
    assert _guarded("what's Noor's phone number", plan)[0][1] == ("Noor",)
    plan = '1. open_and_get_file_path("quarterly report.pdf")\n2. join()<END_OF_PLAN>'
    assert _guarded("open quarterly report.pdf", plan)[0][1] == ("quarterly report",)


def test_a_plain_event_takes_the_one_stated_duration() -> None:
    request = 'block 2 hours on thursday at 1 for "deep work" on my calendar'
    plan = '1. create_calendar_event("Deep work", "2026-12-03 13:00:00", "2026-12-03 14:00:00", "", [], "", None)\n2. join()<END_OF_PLAN>'
    [(verdict, args)] = _guarded(request, plan)
    assert verdict is Verdict.REPAIR and args[2] == "2026-12-03 15:00:00"
    # With a video meeting in the request the duration may be the meeting's: the event is left alone.
    request = "a 30 minute zoom with Bo at 3 and lunch at noon on my calendar"
    plan = '1. create_calendar_event("Lunch", "2026-11-30 12:00:00", "2026-11-30 13:00:00", "", [], "", None)\n2. join()<END_OF_PLAN>'
    assert _guarded(request, plan)[0][0] is Verdict.ACCEPT


def test_cc_spans_name_the_people_on_cc() -> None:
    assert cc_spans("pass this email along to Ottilie, with Bram and Yusuf on cc") == [" Bram and Yusuf"]
    assert cc_spans("email the offer letter to Ravi, cc hr@lattice.dev") == ["hr@lattice.dev"]
    assert cc_spans("reply with the itinerary attached, Maëlle should be cc'd") == [" Maëlle"]
    assert cc_spans("cc sanjay then send tess an email") == ["sanjay"]
    assert cc_spans("send Ana a copy of this email") == []  # a copy is not a cc


_OTTILIE = "pass this email along to Ottilie, with Bram and Yusuf on cc"
_OTTILIE_LOOKUPS = '1. get_email_address("Ottilie")\n2. get_email_address("Bram")\n3. get_email_address("Yusuf")\n'


def test_a_recipient_the_request_puts_on_cc_moves_there() -> None:
    plan = _OTTILIE_LOOKUPS + '4. forward_email(["$1", "$2", "$3"], [], "", [])\n5. join()<END_OF_PLAN>'
    results = _guarded(_OTTILIE, plan)
    assert results[3][0] is Verdict.REPAIR and results[3][1][:2] == (["$1"], ["$2", "$3"])
    # A literal address on cc moves too; nobody is moved when everyone would be.
    plan = '1. compose_new_email(["ravi@x.dev", "hr@lattice.dev"], [], "Offer", "", [])\n2. join()<END_OF_PLAN>'
    assert _guarded("email ravi@x.dev the offer, cc hr@lattice.dev", plan)[0][1][:2] == (["ravi@x.dev"], ["hr@lattice.dev"])
    plan = '1. compose_new_email(["hr@lattice.dev"], [], "Offer", "", [])\n2. join()<END_OF_PLAN>'
    assert _guarded("email the offer, cc hr@lattice.dev", plan)[0][0] is Verdict.ACCEPT


def test_nobody_is_named_twice_in_a_message_or_an_event() -> None:
    # Seen from a warm-started adapter: everyone in both lists; the cc move then doubled Bram and Yusuf.
    plan = _OTTILIE_LOOKUPS + '4. forward_email(["$1", "$2", "$3"], ["$1", "$2", "$3"], "", [])\n5. join()<END_OF_PLAN>'
    results = _guarded(_OTTILIE, plan)
    assert results[3][0] is Verdict.REPAIR and results[3][1][:2] == (["$1"], ["$2", "$3"])
    plan = (
        '1. get_email_address("Ana")\n'
        '2. create_calendar_event("Sync", "2026-12-01 10:00:00", "2026-12-01 11:00:00", "", ["$1", "$1"], "", None)\n'
        "3. join()<END_OF_PLAN>"
    )
    assert _guarded("set up a sync with Ana on Dec 1 at 10", plan)[1][1][4] == ["$1"]
    # A list with nobody twice is left as the model wrote it.
    plan = '1. compose_new_email(["a@x.dev"], ["b@x.dev"], "Hi", "", [])\n2. join()<END_OF_PLAN>'
    assert _guarded("email a@x.dev about it, cc b@x.dev", plan)[0][0] is Verdict.ACCEPT


def test_a_said_time_never_moves_a_start_into_the_past() -> None:
    # NOW is 09:00; "at 8" said today would be 08:00, already gone: the model's 20:00 stays.
    plan = '1. create_reminder("Call", "2026-11-30 20:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>'
    assert _guarded("remind me today at 8am to call", plan)[0][0] is Verdict.ACCEPT


def test_a_said_time_that_is_still_to_come_today_is_not_a_past_date() -> None:
    # NOW is 09:00; "today at 7pm" written as 07:00 is the said time put right, not a plan to reject.
    plan = '1. create_reminder("Renew my passport", "2026-11-30 07:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>'
    verdict, args = _guarded("set me a reminder for today at 7pm: renew my passport", plan)[0]
    assert verdict is Verdict.REPAIR and args[1] == "2026-11-30 19:00:00"
    # A time already gone and never said is still a date in the past.
    plan = '1. create_reminder("Renew my passport", "2026-11-30 07:00:00", "", "", 0, False)\n2. join()<END_OF_PLAN>'
    assert _guarded("remind me to renew my passport", plan)[0][0] is Verdict.REJECT


def test_the_calendar_the_request_names() -> None:
    from pocketagent.agent.said_repairs import said_calendar

    assert said_calendar("put it on my Work calendar") == "Work"
    assert said_calendar("yoga wed 7am, put it in my personal calendar") == "Personal"
    assert said_calendar("add it to my calendar") is None
    assert said_calendar("on my own calendar") is None
    request = "yoga class wed 7am at CorePower, put it in my Personal calendar"
    plan = '1. create_calendar_event("Yoga class", "2026-12-02 07:00:00", "2026-12-02 08:00:00", "CorePower", [], "", None)\n2. join()<END_OF_PLAN>'
    ((verdict, args),) = _guarded(request, plan)
    assert verdict is Verdict.REPAIR and args[6] == "Personal"


def test_a_new_email_about_the_email_at_hand_is_a_forward() -> None:
    request = "send the email I'm reading to Nadia with a note saying see thread below"
    plan = """1. get_email_address("Nadia")
2. compose_new_email(["$1"], [], "Thread below", "see thread below", [])
3. join()<END_OF_PLAN>"""
    guard = PlanGuard(request, NOW, builtin_registry())
    first, second = (guard.check(a) for a in parse_plan(plan).tool_actions)
    assert second.verdict is Verdict.REPAIR and second.action is not None
    assert second.action.tool == "forward_email" and second.action.args == (["$1"], [], "see thread below", [])
    # "needs an answer" is what the forward says, not a reply; the email "I have open", typed fast too.
    for request in (
        "send Nadia a copy of this email, this needs an answer by Friday",
        "Send the email I have open to Nadia",
        "send email I have open to Nadia",
        "forwrad the emal I'm reading to Nadia",
    ):
        guard = PlanGuard(request, NOW, builtin_registry())
        checks = [guard.check(a) for a in parse_plan(plan).tool_actions]
        assert checks[1].action is not None and checks[1].action.tool == "forward_email", request
    # Replying, or no email at hand: a new email stays a new email.
    for other in (
        "reply to this email and send the deck to Nadia",
        "answer this email and send the deck to Nadia",
        "email Nadia the thread summary",
    ):
        guard = PlanGuard(other, NOW, builtin_registry())
        checks = [guard.check(a) for a in parse_plan(plan).tool_actions]
        assert (checks[1].action or parse_plan(plan).tool_actions[1]).tool == "compose_new_email"
