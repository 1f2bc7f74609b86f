"""Training data shared by the tiny-model and the real-model fine-tuning tests."""

from __future__ import annotations

import pytest

from pocketagent.data.example import Example

PLAN_ROWS = [
    {"id": "a", "query": "text Ana that I'm late", "now": "2026-03-11 09:00:00",
     "plan": '1. get_phone_number("Ana")\n2. send_sms(["$1"], "I\'m late")\n3. join()<END_OF_PLAN>'},
    {"id": "b", "query": "directions to the airport", "now": "2026-03-12 10:30:00",
     "plan": '1. maps_show_directions("", "airport", "d")\n2. join()<END_OF_PLAN>'},
    {"id": "c", "query": "note called Gym: legs on monday", "now": "2026-03-13 18:00:00",
     "plan": '1. create_note("Gym", "legs on monday", "")\n2. join()<END_OF_PLAN>'},
    {"id": "d", "query": "email Bo the budget", "now": "2026-03-14 08:15:00",
     "plan": '1. get_email_address("Bo")\n2. open_and_get_file_path("budget")\n'
             '3. compose_new_email(["$1"], [], "Budget", "", ["$2"])\n4. join()<END_OF_PLAN>'},
]  # fmt: skip


@pytest.fixture(scope="session")
def plan_rows() -> list[dict[str, str]]:
    """Four (request, plan) rows in the dataset's JSONL shape: 1 to 3 tool actions, references."""
    return [dict(row) for row in PLAN_ROWS]


@pytest.fixture(scope="session")
def plan_examples() -> list[Example]:
    """The same rows as `Example`s."""
    return [Example.from_dict(row) for row in PLAN_ROWS]
