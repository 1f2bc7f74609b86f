"""The multi-turn tool-call logic on its own: client tools, call waves, reading a conversation back."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketagent.errors import ChatRequestError
from pocketagent.plan import parse_plan
from pocketagent.server.tool_plans import ToolPlanStore, client_tools, read_conversation


def function(name: str, properties: dict) -> dict:  # type: ignore[type-arg]
    return {"type": "function", "function": {"name": name, "description": name, "parameters": {
        "type": "object", "properties": properties}}}  # fmt: skip


TOOLS = client_tools([
    function("find.people", {"query": {"type": "string"}}),
    function("invite", {"who": {"type": "array", "items": {"type": "string"}}, "size": {"type": "integer"}}),
])  # fmt: skip


def test_client_names_become_identifiers_and_map_back() -> None:
    assert TOOLS.registry.names() == ["find_people", "invite"]
    assert TOOLS.names == {"find_people": "find.people", "invite": "invite"}
    assert client_tools([function("invite", {})]).key != client_tools([function("invite", {"x": {}})]).key


def test_clashing_names_are_refused() -> None:
    with pytest.raises(ChatRequestError, match=r"clashes"):
        client_tools([function("a-b", {}), function("a_b", {})])


def test_results_that_are_json_for_their_parameter_are_decoded() -> None:
    plan = parse_plan('1. find_people("team")\n2. invite("$1", 3)\n3. join()<END_OF_PLAN>')
    stored = ToolPlanStore().new("r", TOOLS, plan)
    first_wave = stored.ready_calls({}, TOOLS)
    assert [(c.name, json.loads(c.arguments)) for c in first_wave] == [("find.people", {"query": "team"})]
    (second,) = stored.ready_calls({1: '["a@x", "b@x"]'}, TOOLS)
    assert json.loads(second.arguments) == {"who": ["a@x", "b@x"], "size": 3}
    assert stored.ready_calls({1: "x", 2: "Invited them"}, TOOLS) == []
    assert stored.answer({1: "x", 2: "Invited them"}) == "Invited them."


def test_the_store_keeps_the_most_recent_plans_for_their_own_request_and_tools() -> None:
    store = ToolPlanStore(size=2)
    plan = parse_plan('1. find_people("a")\n2. join()<END_OF_PLAN>')
    first, second, third = (store.new(f"r{i}", TOOLS, plan) for i in range(3))
    assert store.get(first.id, TOOLS, "r0") is None  # evicted
    assert store.get(third.id, TOOLS, "r2") is third
    assert store.get(second.id, TOOLS, "another request") is None


def test_reading_a_conversation_back() -> None:
    messages = [
        {"role": "user", "content": "old request"},
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": [{"type": "text", "text": "new "}, {"type": "text", "text": "request"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_0123456789ab_1", "type": "function", "function": {"name": "find.people", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_0123456789ab_1", "content": "a@x"},
    ]  # fmt: skip
    conversation = read_conversation(messages)
    assert conversation.request == "new request"
    assert conversation.plan_id == "0123456789ab"
    assert conversation.called == {1: "find.people"} and conversation.results == {1: "a@x"}


@given(st.text(max_size=30))
def test_any_foreign_call_id_is_a_clear_error_never_a_crash(call_id: str) -> None:
    messages = [
        {"role": "user", "content": "r"},
        {"role": "assistant", "tool_calls": [{"id": call_id, "function": {"name": "x"}}]},
    ]
    try:
        conversation = read_conversation(messages)
    except ChatRequestError as exc:
        assert "was not made by this server" in str(exc)
    else:  # only ids of our own shape are taken
        assert call_id.startswith("call_") and conversation.plan_id is not None


@given(st.integers(min_value=1, max_value=10**6))
def test_our_call_ids_read_back_to_their_action(action_id: int) -> None:
    stored = ToolPlanStore().new("r", TOOLS, parse_plan('1. find_people("a")\n2. join()<END_OF_PLAN>'))
    call_id = stored.call_id(action_id)
    messages = [
        {"role": "user", "content": "r"},
        {"role": "assistant", "tool_calls": [{"id": call_id, "function": {"name": "find.people"}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "ok"},
    ]
    conversation = read_conversation(messages)
    assert (conversation.plan_id, conversation.results) == (stored.id, {action_id: "ok"})
