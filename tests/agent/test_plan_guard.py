"""The plan guard's rules (the planner and agent wiring is tested in test_agent.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pocketagent.agent.plan_guard import (
    MAX_ACTIONS,
    PlanGuard,
    Verdict,
    action_limit,
    mentioned,
    past_date,
    said_weekday,
)
from pocketagent.plan.language import Action
from pocketagent.tools import builtin_registry

MONDAY = datetime(2026, 11, 30, 9, 0)


def guard(request: str = "email Sid and Nick the budget", now: datetime = MONDAY) -> PlanGuard:
    return PlanGuard(request, now, builtin_registry())


def test_identical_call_stops_the_plan() -> None:
    g = guard()
    first = Action(1, "get_email_address", ("Sid",))
    assert g.check(first).verdict is Verdict.ACCEPT
    assert g.check(Action(2, "get_email_address", ("Nick",))).verdict is Verdict.ACCEPT
    repeat = g.check(Action(3, "get_email_address", ("Sid",)))
    assert repeat.verdict is Verdict.STOP and "repeats" in repeat.reason


def test_action_count_is_bounded_by_the_request() -> None:
    g = guard("text Ana hi")
    verdicts = [g.check(Action(i, "maps_open_location", (f"Place {i}",))).verdict for i in range(1, 10)]
    assert verdicts.count(Verdict.ACCEPT) == action_limit("text Ana hi") == 5
    assert verdicts[5] is Verdict.STOP
    assert action_limit("word " * 1000) == MAX_ACTIONS


def test_past_dates_are_rejected_with_a_reason_the_model_can_use() -> None:
    g = guard()
    last_friday = Action(1, "create_calendar_event", ("Review", "2026-11-27 15:00:00", "2026-11-27 16:00:00", "", [], "", None))
    check = g.check(last_friday)
    assert check.verdict is Verdict.REJECT
    assert "2026-11-27 15:00:00 is in the past" in check.reason and "Monday 2026-11-30" in check.reason
    coming = Action(2, "create_calendar_event", ("Review", "2026-12-04 15:00:00", "2026-12-04 16:00:00", "", [], "", None))
    assert g.check(coming).verdict is Verdict.ACCEPT


def test_today_at_midnight_and_empty_or_unparsable_dates_pass() -> None:
    assert past_date("2026-11-30 00:00:00", MONDAY) is None  # an all-day reminder for today
    assert past_date("", MONDAY) is None
    assert past_date("friday", MONDAY) is None  # not a date the guard judges; the tool validates it
    assert past_date("2026-11-30 08:59:00", MONDAY) == datetime(2026, 11, 30, 8, 59)
    assert past_date("2026-11-30 09:00:00", MONDAY) is None


@given(st.integers(min_value=-3000, max_value=3000))
def test_past_date_agrees_with_comparison(minutes: int) -> None:
    moment = MONDAY + timedelta(minutes=minutes)
    midnight_today = moment.date() == MONDAY.date() and moment.time() == datetime.min.time()
    expected = moment < MONDAY and not midnight_today
    assert (past_date(moment.strftime("%Y-%m-%d %H:%M:%S"), MONDAY) is not None) == expected


def test_lookup_of_a_name_the_request_never_mentions_stops_the_plan() -> None:
    g = guard("text signe that the meeting moved")
    assert g.check(Action(1, "get_phone_number", ("Signe",))).verdict is Verdict.ACCEPT
    invented = g.check(Action(2, "get_phone_number", ("Mate",)))
    assert invented.verdict is Verdict.STOP and "never names" in invented.reason
    assert g.check(Action(2, "get_phone_number", ("2026-10-28 14:00:00",))).verdict is Verdict.STOP


def test_names_match_across_case_accents_and_punctuation() -> None:
    assert mentioned("Tío Manuel", "call tio manuel")
    assert mentioned("Łukasz", "email Lukasz the deck")
    assert mentioned("Coach Brennan", "text coach brennan")
    assert mentioned("Wen-Hao", "email Sunita and Wen-Hao")
    assert mentioned("Ana", "what's Ana's number") and mentioned("Ana", "what’s ana’s number")
    assert mentioned("", "anything") and mentioned(["not a name"], "x")
    assert not mentioned("Nadia", "email Nadim")


def test_last_attempt_moves_a_past_day_to_the_coming_week_and_keeps_the_duration() -> None:
    g = PlanGuard("review on the 27th at 3 and pay on the 16th at 9am", MONDAY, builtin_registry(), repair_dates=True)
    last_friday = Action(1, "create_calendar_event", ("Review", "2026-11-27 15:00:00", "2026-11-27 16:30:00", "", [], "", None))
    check = g.check(last_friday)
    assert check.verdict is Verdict.REPAIR and check.action is not None
    assert check.action.args[1:3] == ("2026-12-04 15:00:00", "2026-12-04 16:30:00")
    two_weeks_ago = Action(2, "create_reminder", ("Pay", "2026-11-16 09:00:00", "", "", 0, False))
    assert g.check(two_weeks_ago).action.args[1] == "2026-12-07 09:00:00"  # Monday 9:00 has passed today


def test_a_time_earlier_today_is_never_guessed() -> None:
    g = PlanGuard("remind me at 8", MONDAY, builtin_registry(), repair_dates=True)
    check = g.check(Action(1, "create_reminder", ("Call", "2026-11-30 08:00:00", "", "", 0, False)))
    assert check.verdict is Verdict.REJECT


def test_a_bare_weekday_is_its_next_occurrence_after_today() -> None:
    assert said_weekday("review on Friday at 3", MONDAY) == datetime(2026, 12, 4)
    assert said_weekday("yoga wed 7am", MONDAY) == datetime(2026, 12, 2)
    assert said_weekday("call mom this sunday", MONDAY) == datetime(2026, 12, 6)
    assert said_weekday("standup monday 9am", MONDAY) == datetime(2026, 12, 7)  # today is Monday: the next one
    for request in ("next friday at 3", "friday or saturday", "tomorrow and friday", "Dec 3, a friday",
                    "meet friday, 50 minutes", "email Sid the notes"):  # fmt: skip
        assert said_weekday(request, MONDAY) is None, request


def test_dates_are_grounded_on_the_weekday_the_request_names() -> None:
    g = guard("remind me Saturday 10am to buy a gift and add the party Saturday 7pm to my calendar")
    reminder = g.check(Action(1, "create_reminder", ("Buy a gift", "2026-12-01 10:00:00", "", "", 0, False)))
    assert reminder.verdict is Verdict.REPAIR and reminder.action.args[1] == "2026-12-05 10:00:00"
    party = Action(2, "create_calendar_event", ("Party", "2026-11-28 19:00:00", "2026-11-28 20:00:00", "", [], "", None))
    moved = g.check(party)
    assert moved.verdict is Verdict.REPAIR and moved.action.args[1:3] == ("2026-12-05 19:00:00", "2026-12-05 20:00:00")
    right = Action(3, "create_reminder", ("Wrap it", "2026-12-05 18:00:00", "", "", 0, False))
    assert g.check(right).verdict is Verdict.ACCEPT
    untouched = PlanGuard("remind me tomorrow and on friday", MONDAY, builtin_registry())
    assert untouched.check(Action(1, "create_reminder", ("x", "2026-12-01 09:00:00", "", "", 0, False))).verdict is (
        Verdict.ACCEPT
    )


def test_on_the_last_attempt_an_unasked_recipient_ends_the_plan_before_it() -> None:
    last = PlanGuard("email Ana the budget", MONDAY, builtin_registry(), repair_dates=True)
    lookup = Action(1, "get_email_address", ("Ana",))
    stray = Action(2, "compose_new_email", (["x@evil.example"], [], "Budget", "", []))
    assert last.check(lookup).verdict is Verdict.ACCEPT
    check = last.check(stray)
    assert check.verdict is Verdict.STOP and "'x@evil.example' is not in the request" in check.reason
    assert guard("email Ana the budget").check(stray).verdict is Verdict.REJECT  # earlier attempts replan


def test_a_lookup_of_a_given_address_or_number_is_absorbed_as_the_request_writes_it() -> None:
    g = guard("send this on to Leasing@Parkside-Apts.com and text 415-555-0142 that it's done")
    absorbed = g.check(Action(1, "get_email_address", ("leasing@parkside-apts.com",)))
    assert absorbed.verdict is Verdict.ABSORB and absorbed.literal == "Leasing@Parkside-Apts.com"
    number = g.check(Action(1, "get_phone_number", ("415-555-0142",)))
    assert number.verdict is Verdict.ABSORB and number.literal == "415-555-0142"
    # A name is looked up as usual.
    assert guard("email Sid").check(Action(1, "get_email_address", ("Sid",))).verdict is Verdict.ACCEPT


def test_a_file_named_by_an_address_or_an_address_looked_up_by_a_number_is_skipped() -> None:
    g = guard("reply count me in, copy j.ramirez@gmail.com, and text 415-555-0142")
    file = g.check(Action(1, "open_and_get_file_path", ("j.ramirez@gmail.com",)))
    assert file.verdict is Verdict.SKIP and file.skipped == "open_and_get_file_path"
    assert g.check(Action(1, "get_email_address", ("415-555-0142",))).verdict is Verdict.SKIP
    # Short digit runs are not phone numbers: a year or a code names a file.
    year = guard("open the 2025 report")
    assert year.check(Action(1, "open_and_get_file_path", ("2025",))).verdict is Verdict.ACCEPT


def test_a_note_in_a_messages_attachments_becomes_what_it_says() -> None:
    g = guard("pull up the Ideas note, then make sure Wei gets that by email")
    assert g.check(Action(1, "open_note", ("Ideas", ""))).verdict is Verdict.ACCEPT
    assert g.check(Action(2, "get_email_address", ("Wei",))).verdict is Verdict.ACCEPT
    # Attachments take files: without the repair this email is rejected (an open_note result there).
    check = g.check(Action(3, "compose_new_email", (["$2"], [], "Ideas", "", ["$1"])))
    assert check.verdict is Verdict.REPAIR and check.action is not None
    assert check.action.args == (["$2"], [], "Ideas", "$1", [])


def test_a_file_in_the_attachments_or_a_message_with_its_own_text_is_left_as_written() -> None:
    g = guard("summarize the lease and email Wei the lease pdf saying here it is")
    for action in (
        Action(1, "open_and_get_file_path", ("lease",)),
        Action(2, "summarize_pdf", ("$1",)),
        Action(3, "get_email_address", ("Wei",)),
    ):
        assert g.check(action).verdict is Verdict.ACCEPT
    assert g.check(Action(4, "compose_new_email", (["$3"], [], "Lease", "here it is", ["$1"]))).verdict is Verdict.ACCEPT
    said = g.check(Action(5, "compose_new_email", (["$3"], [], "Lease", "here it is", ["$2"])))
    assert said.verdict is Verdict.REJECT  # its text is the user's: not replaced, and a summary is no file
