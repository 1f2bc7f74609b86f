"""Building blocks of the offline generator: date resolution, rendering, dedup, quotas."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketagent.data.dedup import NearDuplicateIndex, normalize_query
from pocketagent.data.generate import timeexpr
from pocketagent.data.generate.render import add_typos, render_request
from pocketagent.data.splits import bucket_quotas

MONDAY = datetime(2026, 11, 23, 10, 0)  # the hand-written set's `now`


def resolve_day(text: str, now: datetime = MONDAY) -> str:
    """Find the date a generated day phrase resolves to by sampling until the phrase comes up."""
    rng = random.Random(0)
    for _ in range(20000):
        words, day = timeexpr.sample_day(rng, now)
        if words == text:
            return day.isoformat()
    raise AssertionError(f"phrase {text!r} never generated")


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("tomorrow", "2026-11-24"),
        ("friday", "2026-11-27"),
        ("this friday", "2026-11-27"),
        ("monday", "2026-11-30"),  # a bare weekday equal to today means next week's
        ("next tuesday", "2026-12-01"),
        ("next monday", "2026-11-30"),
        ("the day after tomorrow", "2026-11-25"),
        ("Dec 8", "2026-12-08"),
    ],
)
def test_day_phrases_resolve_like_the_readme(phrase: str, expected: str) -> None:
    assert resolve_day(phrase) == expected


@pytest.mark.parametrize(("hour", "minute"), [(h, m) for h in range(7, 22) for m in (0, 30)])
def test_bare_clock_times_only_where_the_rule_gives_the_same_hour(hour: int, minute: int) -> None:
    rng = random.Random(hour * 100 + minute)
    for _ in range(40):
        words = timeexpr.time_phrase(rng, hour, minute)
        if not words.replace(":", "").isdigit():
            continue  # has am/pm or words ("noon", "half past 4")
        h = int(words.split(":")[0])
        if words.startswith("0") or h > 12:
            assert h == hour  # 24-hour clock ("07:00", "19:30")
        else:  # bare, like "3" or "3:30": 1-7 pm, 8-11 am, 12 noon
            assert (h + 12 if 1 <= h <= 7 else h) == hour


def test_sampled_moments_are_in_the_future_and_ranges_end_later() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        now = timeexpr.sample_now(rng)
        when = timeexpr.sample_when(rng, now, allow_range=True)
        assert when.start > now
        assert when.end_or_default() > when.start


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["Zoë Okafor", "Jürgen", "Ana Lima", "Dr. Šimić", "the Ferry Building"]),
    message=st.sampled_from(["I'm running late", "the door code is 1234", "tomorrow works"]),
    seed=st.integers(0, 10_000),
)
def test_rendering_never_touches_protected_words(name: str, message: str, seed: int) -> None:
    rng = random.Random(seed)
    clauses = [f"text {name} that {message}", "remind me tomorrow to call the bank please"]
    text, style = render_request(rng, clauses, {name, message})
    assert name.lower() in text.lower()
    assert message.lower() in text.lower()
    assert style["register"] in ("neutral", "terse", "polite", "formal", "dictation", "casual")
    typoed = add_typos(f"please schedule {name} tomorrow: {message}", {name, message}, rng, 2)
    assert name in typoed and message in typoed


def test_typos_change_unprotected_words() -> None:
    rng = random.Random(1)
    changed = {add_typos("please schedule the meeting tomorrow", set(), rng, 1) for _ in range(50)}
    assert len(changed - {"please schedule the meeting tomorrow"}) > 5


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_query(text)
    assert normalize_query(once) == once


def test_near_duplicate_index() -> None:
    index = NearDuplicateIndex(0.8)
    index.add("text Ana that I'm running late")
    index.add("add the dentist appointment on friday at 3 to my calendar")
    assert index.find("Text Ana, that I'm running late!").kind == "exact"
    assert index.find("text Ana that I'm running late!!").kind == "exact"
    near = index.find("add the dentist appointment on friday at 4 to my calendar")
    assert near is not None and near.kind == "near" and near.index == 1
    assert index.find("show me directions to the airport") is None
    with pytest.raises(ValueError):
        NearDuplicateIndex(0.0)


def test_bucket_quotas_sum_exactly() -> None:
    shares = {"1": 0.20, "2": 0.28, "3-6": 0.38, "7+": 0.14}
    for total in (0, 1, 7, 999, 22000):
        quotas = bucket_quotas(total, shares)
        assert sum(quotas.values()) == total
    assert bucket_quotas(1000, shares) == {"1": 200, "2": 280, "3-6": 380, "7+": 140}
