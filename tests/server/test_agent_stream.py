"""`POST /v1/agent/run` (SSE) and `POST /v1/agent/confirm` against a real uvicorn on loopback."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import server_tools
from server_kit import run_stream, wait_until

from pocketagent.agent.history import RunLog

pytestmark = pytest.mark.server  # each test starts uvicorn on loopback

LOOKUP_AND_POST = 'lookup("Ana")\n2. post_message("$1", "hi")\n3. join()<END_OF_PLAN>'


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [event["kind"] for event in events]


def first(events: list[dict[str, Any]], kind: str, **match: Any) -> dict[str, Any]:
    return next(e for e in events if e["kind"] == kind and all(e.get(k) == v for k, v in match.items()))


def position(events: list[dict[str, Any]], kind: str, **match: Any) -> int:
    return events.index(first(events, kind, **match))


def test_a_run_streams_its_typed_events_in_order(serve, scripted, make_settings) -> None:
    scripted.plans["tell Ana hi"] = "1. " + LOOKUP_AND_POST
    server = serve()
    events = run_stream(server.url, {"request": "tell Ana hi"})

    names = kinds(events)
    assert names[0] == "run_started" and names[-1] == "answer"
    assert [e["_event"] for e in events] == names  # the SSE event field is the kind
    assert [int(e["_id"]) for e in events] == list(range(len(events)))
    assert "".join(e["text"] for e in events if e["kind"] == "plan_token") == "1. " + LOOKUP_AND_POST
    assert first(events, "action_planned", id=2)["args"] == ["$1", "hi"]
    assert first(events, "action_planned", id=2)["dependencies"] == [1]
    # Arguments after substitution, results, and the order the DAG imposes.
    assert first(events, "action_started", id=2)["args"] == ["ana@example.org", "hi"]
    assert first(events, "action_finished", id=1)["result"] == "ana@example.org"
    assert (
        position(events, "action_started", id=1)
        < position(events, "action_finished", id=1)
        < position(events, "action_started", id=2)
        < position(events, "action_finished", id=2)
        < position(events, "answer")
    )
    answer = events[-1]
    assert answer["ok"] is True and answer["answer"] == "posted 'hi' to ana@example.org."
    assert server_tools.CALLS == [("lookup", ("Ana",)), ("post_message", ("ana@example.org", "hi"))]

    # The run is in the run history, as a server run.
    wait_until(lambda: server.runtime.recorded == 1, "the run to be logged")
    (record,) = RunLog(make_settings().history_path).recent()
    assert (record.source, record.request, record.ok, record.error) == ("server", "tell Ana hi", True, None)
    assert [a["tool"] for a in record.actions] == ["lookup", "post_message"]


def test_two_concurrent_runs_each_get_only_their_own_events(serve, scripted) -> None:
    for name in ("Ana", "Bo"):
        scripted.plans[f"ask {name}"] = (
            f'1. wait_for_gate("{name}")\n2. post_message("$1", "from {name}")\n3. join()<END_OF_PLAN>'
        )
    server = serve()
    results: dict[str, list[dict[str, Any]]] = {}
    both_waiting = threading.Barrier(3, timeout=30)

    def client(name: str) -> None:
        def on_event(event: dict[str, Any]) -> None:
            if event["kind"] == "action_started" and event["tool"] == "wait_for_gate":
                both_waiting.wait()  # both runs are inside their blocking tool at the same time

        results[name] = run_stream(server.url, {"request": f"ask {name}"}, on_event)

    threads = [threading.Thread(target=client, args=(name,)) for name in ("Ana", "Bo")]
    for thread in threads:
        thread.start()
    both_waiting.wait()
    assert server.runtime.active_runs == 2
    server_tools.GATE.set()
    for thread in threads:
        thread.join(30)

    run_ids = {name: events[0]["run_id"] for name, events in results.items()}
    assert run_ids["Ana"] != run_ids["Bo"]
    for name, other in (("Ana", "Bo"), ("Bo", "Ana")):
        events = results[name]
        assert events[0]["request"] == f"ask {name}"
        assert events[-1]["answer"] == f"posted 'from {name}' to {name}."
        text = repr(events[1:])
        assert other not in text  # nothing of the other run leaks into this stream
        assert kinds(events).count("answer") == 1


def _confirming(url: str, approve: bool, answers: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    def on_event(event: dict[str, Any]) -> None:
        if event["kind"] == "confirmation_requested":
            reply = httpx.post(f"{url}/v1/agent/confirm", json={"id": event["id"], "approve": approve}, timeout=30)
            answers.append({"status": reply.status_code, **reply.json()})

    return on_event


def test_an_approved_side_effect_runs_with_the_arguments_shown(serve, scripted) -> None:
    scripted.plans["tell Ana hi"] = "1. " + LOOKUP_AND_POST
    server = serve(confirm="side_effects")
    answers: list[dict[str, Any]] = []
    events = run_stream(server.url, {"request": "tell Ana hi"}, _confirming(server.url, True, answers))

    request = first(events, "confirmation_requested")
    # Only the side effect asks, with its final arguments, before it starts.
    assert (request["action_id"], request["tool"], request["args"]) == (2, "post_message", ["ana@example.org", "hi"])
    assert kinds(events).count("confirmation_requested") == 1
    assert position(events, "confirmation_requested") < position(events, "action_started", id=2)
    assert answers == [{"status": 200, "id": request["id"], "run_id": events[0]["run_id"], "approved": True}]
    assert ("post_message", ("ana@example.org", "hi")) in server_tools.CALLS
    assert events[-1]["ok"] is True


def test_a_rejected_side_effect_is_skipped_with_its_dependents(serve, scripted) -> None:
    scripted.plans["tell Ana hi twice"] = (
        '1. lookup("Ana")\n2. post_message("$1", "hi")\n3. post_message("$1", "again: $2")\n4. join()<END_OF_PLAN>'
    )
    server = serve(confirm="side_effects")
    answers: list[dict[str, Any]] = []
    events = run_stream(server.url, {"request": "tell Ana hi twice"}, _confirming(server.url, False, answers))

    assert first(events, "action_skipped", id=2)["reason"] == "the user rejected it"
    assert first(events, "action_skipped", id=3)["reason"] == "depends on action 2 (post_message), which was skipped"
    assert kinds(events).count("confirmation_requested") == 1  # 3 is skipped before it would ask
    assert not any(call[0] == "post_message" for call in server_tools.CALLS)
    assert events[-1]["ok"] is False and "rejected" in events[-1]["answer"]
    # The answered request is no longer pending: answering again is a clear 404.
    again = httpx.post(f"{server.url}/v1/agent/confirm", json={"id": answers[0]["id"], "approve": True})
    assert again.status_code == 404
    assert "no pending confirmation" in again.json()["error"]["message"]


def test_an_unanswered_confirmation_counts_as_rejected(serve, scripted) -> None:
    scripted.plans["tell Ana hi"] = "1. " + LOOKUP_AND_POST
    server = serve(confirm="side_effects", confirm_timeout_s=0.3)
    events = run_stream(server.url, {"request": "tell Ana hi"})

    assert first(events, "action_skipped", id=2)["reason"] == "it was not confirmed within 0.3 s"
    assert not any(call[0] == "post_message" for call in server_tools.CALLS)


def test_a_client_that_disconnects_cancels_its_run(serve, scripted, make_settings) -> None:
    scripted.plans["wait then post"] = 'wait_for_gate("x")\n2. post_message("Ana", "$1")\n3. join()<END_OF_PLAN>'
    scripted.plans["wait then post"] = "1. " + scripted.plans["wait then post"]
    server = serve()
    events = run_stream(
        server.url,
        {"request": "wait then post"},
        lambda event: event["kind"] == "action_started" and event["tool"] == "wait_for_gate",  # then hang up
    )
    assert kinds(events)[-1] == "action_started"

    wait_until(lambda: server.runtime.active_runs == 0, "the server to notice the disconnect")
    wait_until(lambda: server.runtime.recorded == 1, "the cancelled run to be logged")
    server_tools.GATE.set()  # the blocking tool returns now, into a run that no longer exists
    wait_until(lambda: ("wait_for_gate returned", ("x", "True")) in server_tools.CALLS, "the tool thread to end")
    assert httpx.get(f"{server.url}/v1/models").status_code == 200  # a round trip through the server's loop
    assert not any(call[0] == "post_message" for call in server_tools.CALLS)
    (record,) = RunLog(make_settings().history_path).recent()
    assert record.error == "cancelled: the client disconnected" and record.ok is False


def test_an_empty_request_is_a_clear_422(serve) -> None:
    server = serve()
    reply = httpx.post(f"{server.url}/v1/agent/run", json={"request": "   "})
    assert reply.status_code == 422
    assert "the request is empty" in reply.json()["error"]["message"]
    bad_now = httpx.post(f"{server.url}/v1/agent/run", json={"request": "hi", "now": "tomorrow"})
    assert bad_now.status_code == 422 and "YYYY-MM-DD HH:MM:SS" in bad_now.json()["error"]["message"]


def test_confirming_an_unknown_id_is_404(serve) -> None:
    server = serve()
    reply = httpx.post(f"{server.url}/v1/agent/confirm", json={"id": "nope", "approve": True})
    assert reply.status_code == 404
    assert reply.json()["error"]["message"].startswith("no pending confirmation 'nope'")
