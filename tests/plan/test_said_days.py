"""Which days a request names: the data conventions, misspellings, and the generator's own data."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pocketagent.data.generate.offline import OfflineGenerator
from pocketagent.plan.language import parse_plan
from pocketagent.plan.said_days import day_phrases, said_days

MONDAY = datetime(2026, 11, 23, 9, 0)  # the data README's examples are dated from this Monday


def days(request: str, now: datetime = MONDAY) -> list[str] | None:
    found = said_days(request, now)
    return None if found is None else sorted(d.isoformat() for d in found)


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        # data/handwritten-README.md, word for word where it gives an example
        ("remind me tomorrow at 10", ["2026-11-24"]),
        ("lunch Friday at noon", ["2026-11-27"]),
        ("call mom Monday", ["2026-11-30"]),  # a bare weekday is its next occurrence after today
        ("sync next Tuesday at 3", ["2026-12-01"]),  # the following Mon-Sun week
        ("sync next Monday at 3", ["2026-11-30"]),
        ("dinner tonight at 8", ["2026-11-23"]),
        ("standup in 2 hours", ["2026-11-23"]),
        ("yoga wed 7am", ["2026-11-25"]),
        ("this thursday at 4pm", ["2026-11-26"]),
        ("offsite on Dec 8 from 2 to 3pm", ["2026-12-08"]),
        ("the 8th of December at 10", ["2026-12-08"]),
        ("8 Dec, all day", ["2026-12-08"]),
        ("January 5th at 9", ["2027-01-05"]),  # a date already past this year is next year's
        ("in three days at 9:30", ["2026-11-26"]),
        ("the day after tomorrow at 10", ["2026-11-25"]),
        ("remind me at 5 to bring the frisbee", ["2026-11-23"]),  # a clock time alone: today, still ahead
        ("remind me sat, all day", ["2026-11-28"]),
        # two clauses, two days; a clock time with no day of its own is today's
        ("remind me Saturday 10am and add her party Sunday 7pm", ["2026-11-28", "2026-11-29"]),
        ("put lunch tomorrow at 12 and remind me at 5 to call", ["2026-11-23", "2026-11-24"]),
        # misspelt day words are read as the word they misspell
        ("zoom tomorroow at 9pm", ["2026-11-24"]),
        ("budget review 6 Frday", ["2026-11-27"]),
        ("family catch-up nxet friday at 10", ["2026-12-04"]),
    ],
)
def test_days_follow_the_data_conventions(request_text: str, expected: list[str]) -> None:
    assert days(request_text) == expected


def test_a_clock_time_already_past_today_means_tomorrow() -> None:
    assert days("remind me at 8 to stretch", datetime(2026, 11, 23, 10, 0)) == ["2026-11-24"]


@pytest.mark.parametrize(
    "request_text",
    [
        "email Sid the budget",  # no day at all
        "book the offsite for next month",  # a day it cannot tell
        "book it for 30 minutes",  # a duration is not a time
        "I sat in the sun all afternoon",  # "sat" and "sun" as words
    ],
)
def test_no_days_when_the_request_names_none_it_can_tell(request_text: str) -> None:
    assert days(request_text) is None


def test_impossible_dates_are_ignored() -> None:
    assert days("Feb 30 at 10") is None


def test_day_phrases_are_the_day_words_only() -> None:
    assert day_phrases("reply I'll call you tomorrow, and remind me Sat at 5") == ["tomorrow", "sat"]
    assert day_phrases("remind me at 5") == []
    assert day_phrases("email Sid and Nick the summary and put a review on Friday at 3") == ["friday"]


def test_the_generators_dated_plans_fall_on_the_days_said() -> None:
    """The generator writes every relative-date form; the reference plans' days must be found.

    Only days found can be chosen under the planner's grammar, so a miss here would force a
    wrong day. Nearly all (not all: a few generated typos hit the date words twice) are found.
    """
    dated = covered = 0
    for candidate in OfflineGenerator().chunk(seed=5, index=0):
        example = candidate.example
        now = datetime.strptime(example.now, "%Y-%m-%d %H:%M:%S")
        plan_days: set[date] = set()
        for action in parse_plan(example.plan).tool_actions:
            for value in action.args:
                if isinstance(value, str) and len(value) == 19 and value[4] == "-" and value[13] == ":":
                    plan_days.add(datetime.strptime(value, "%Y-%m-%d %H:%M:%S").date())
        if not plan_days:
            continue
        dated += 1
        found = said_days(example.query, now)
        covered += found is not None and plan_days <= found
    assert dated >= 50
    assert covered / dated >= 0.97, f"{covered}/{dated}"
