"""The OpenAI-compatible API, driven by the official `openai` client against the running server."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
import server_tools

from pocketagent.server.tool_plans import ToolPlanStore

pytestmark = pytest.mark.server  # each test starts uvicorn on loopback

# The client's own tools: planned over, run by the client. A "-" in a name is not an identifier.
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get-email",
            "description": "Looks up a person's email address.",
            "parameters": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "send_email",
            "description": "Sends an email.",
            "parameters": {
                "type": "object",
                "properties": {"to": {"type": "array", "items": {"type": "string"}}, "body": {"type": "string"}},
            },
        },
    },
]
REQUEST = "email Sid and Nick hello"
PLAN = '1. get_email("Sid")\n2. get_email("Nick")\n3. send_email(["$1", "$2"], "hello")\n4. join()<END_OF_PLAN>'
ADDRESSES = {"Sid": "sid@x.org", "Nick": "nick@x.org"}


@pytest.fixture
def server(serve, scripted):  # type: ignore[no-untyped-def]
    scripted.plans[REQUEST] = PLAN
    scripted.plans["tell Ana hi"] = '1. lookup("Ana")\n2. post_message("$1", "hi")\n3. join()<END_OF_PLAN>'
    return serve()


@pytest.fixture
def client(server) -> openai.OpenAI:  # type: ignore[no-untyped-def]
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0, timeout=60)


def test_models_lists_the_planner(client: openai.OpenAI, server) -> None:  # type: ignore[no-untyped-def]
    (model,) = client.models.list().data
    assert model.id == server.runtime.model_id == "scripted"
    assert model.owned_by == "pocketagent"


def test_without_tools_the_agent_answers(client: openai.OpenAI, server) -> None:  # type: ignore[no-untyped-def]
    reply = client.chat.completions.create(model="anything", messages=[{"role": "user", "content": "tell Ana hi"}])
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.tool_calls is None
    assert choice.message.content == "posted 'hi' to ana@example.org."
    assert reply.model == server.runtime.model_id and reply.usage.completion_tokens > 0
    assert ("post_message", ("ana@example.org", "hi")) in server_tools.CALLS  # it ran on the server's tools


def test_without_tools_the_answer_streams_as_content(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="anything", messages=[{"role": "user", "content": "tell Ana hi"}], stream=True
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert content == "posted 'hi' to ana@example.org."
    assert len([c for c in chunks if c.choices[0].delta.content]) > 1  # word by word
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"


def _turn(client: openai.OpenAI, messages: list[dict[str, Any]], stream: bool) -> tuple[list[dict[str, Any]], str | None, str]:
    """One chat turn: (tool calls as dicts, content, finish reason), streamed or not."""
    if not stream:
        choice = client.chat.completions.create(model="m", messages=messages, tools=TOOLS).choices[0]
        calls = [call.model_dump() for call in choice.message.tool_calls or []]
        return calls, choice.message.content, choice.finish_reason
    calls_by_index: dict[int, dict[str, Any]] = {}
    content, finish = "", ""
    for chunk in client.chat.completions.create(model="m", messages=messages, tools=TOOLS, stream=True):
        delta = chunk.choices[0].delta
        content += delta.content or ""
        for call in delta.tool_calls or []:
            entry = calls_by_index.setdefault(call.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
            entry["id"] += call.id or ""
            entry["function"]["name"] += call.function.name or ""
            entry["function"]["arguments"] += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    return [calls_by_index[i] for i in sorted(calls_by_index)], content or None, finish


def _results(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the client's tools return: an address per lookup, "sent" for the email."""
    out = []
    for call in calls:
        args = json.loads(call["function"]["arguments"])
        result = ADDRESSES[args["name"]] if call["function"]["name"] == "get-email" else "Sent the email"
        out.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    return out


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_with_tools_calls_come_in_waves_and_end_in_content(client: openai.OpenAI, stream: bool) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": REQUEST}]

    calls, content, finish = _turn(client, messages, stream)
    # The two independent lookups together, under the client's own tool name and parameter names.
    assert finish == "tool_calls" and not content
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == [
        ("get-email", {"name": "Sid"}),
        ("get-email", {"name": "Nick"}),
    ]
    assert len({c["id"] for c in calls}) == 2

    messages += [{"role": "assistant", "content": None, "tool_calls": calls}, *_results(calls)]
    calls2, content, finish = _turn(client, messages, stream)
    # The call that needed them comes next, with the results in its arguments.
    assert finish == "tool_calls"
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls2] == [
        ("send_email", {"to": ["sid@x.org", "nick@x.org"], "body": "hello"}),
    ]

    messages += [{"role": "assistant", "content": None, "tool_calls": calls2}, *_results(calls2)]
    calls3, content, finish = _turn(client, messages, stream)
    assert (calls3, content, finish) == ([], "Sent the email.", "stop")


def test_a_plan_the_server_forgot_is_made_again_the_same(client: openai.OpenAI, server, scripted) -> None:  # type: ignore[no-untyped-def]
    messages: list[dict[str, Any]] = [{"role": "user", "content": REQUEST}]
    calls, _, _ = _turn(client, messages, stream=False)
    server.runtime.tool_plans = ToolPlanStore()  # as after a restart
    messages += [{"role": "assistant", "content": None, "tool_calls": calls}, *_results(calls)]
    calls2, _, _ = _turn(client, messages, stream=False)
    assert [c["function"]["name"] for c in calls2] == ["send_email"]
    assert calls2[0]["id"].rsplit("_", 1)[0] == calls[0]["id"].rsplit("_", 1)[0]  # the same plan id
    assert scripted.requests.count(REQUEST) == 2  # planned twice: once per turn that needed it


def test_tool_results_for_calls_the_server_did_not_make_are_a_clear_400(client: openai.OpenAI) -> None:
    messages = [
        {"role": "user", "content": REQUEST},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "abc", "type": "function", "function": {"name": "get-email", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "abc", "content": "x"},
    ]  # fmt: skip
    with pytest.raises(openai.BadRequestError, match=r"tool call id 'abc' was not made by this server"):
        client.chat.completions.create(model="m", messages=messages, tools=TOOLS)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_missing_tool_result_is_a_clear_400(client: openai.OpenAI, stream: bool) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": REQUEST}]
    calls, _, _ = _turn(client, messages, stream=False)
    messages += [{"role": "assistant", "content": None, "tool_calls": calls}, *_results(calls)[:1]]
    with pytest.raises(openai.BadRequestError, match=r"no tool result for call_[0-9a-f]{12}_2"):
        client.chat.completions.create(model="m", messages=messages, tools=TOOLS, stream=stream)


def test_changed_tool_calls_are_refused(client: openai.OpenAI) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": REQUEST}]
    calls, _, _ = _turn(client, messages, stream=False)
    calls[0]["function"]["name"] = "send_email"
    messages += [{"role": "assistant", "content": None, "tool_calls": calls}, *_results(calls)]
    with pytest.raises(openai.BadRequestError, match=r"not this conversation's plan"):
        client.chat.completions.create(model="m", messages=messages, tools=TOOLS)


def test_unusable_tools_are_a_clear_400(client: openai.OpenAI) -> None:
    bad = [{"type": "function", "function": {"description": "no name"}}]
    with pytest.raises(openai.BadRequestError, match=r"tools\[0\]: the function has no name"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], tools=bad)


def test_a_request_with_no_user_message_is_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match=r"no 'user' message"):
        client.chat.completions.create(model="m", messages=[{"role": "system", "content": "be brief"}])
