"""Confirmations (`confirm = "side_effects"`): side effects wait for a yes; no means skipped, with dependents."""

from __future__ import annotations

import asyncio

from pocketagent.agent.agent import Agent, AgentConfig, collect
from pocketagent.agent.build import build_agent
from pocketagent.agent.events import ActionSkipped, ActionStarted, ConfirmationRequested, Event, FinalAnswer
from pocketagent.settings import Settings
from pocketagent.tools import ToolContext, builtin_registry, recording_apps

PLAN = (
    '1. get_email_address("Ana")\n'
    '2. compose_new_email(["$1"], [], "Hi", "hello", [])\n'
    '3. create_note("Sent", "$2", "Notes")\n'
    "4. join()<END_OF_PLAN>"
)


def agent(confirm: str = "side_effects", dry_run: bool = False, timeout_s: float = 5.0) -> Agent:
    config = AgentConfig(confirm=confirm, confirm_timeout_s=timeout_s, dry_run=dry_run)  # type: ignore[arg-type]
    return Agent(builtin_registry(), ToolContext(apps=recording_apps()), config=config)


def run(agent: Agent, ask=None) -> list[Event]:  # type: ignore[no-untyped-def]
    events: list[Event] = []
    asyncio.run(collect(agent.run_plan(PLAN, ask=ask), events.append))
    return events


def of(events: list[Event], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, kind)]


def test_every_side_effect_asks_with_its_final_arguments_and_runs_when_approved() -> None:
    asked: list[ConfirmationRequested] = []

    async def approve(request: ConfirmationRequested) -> bool:
        asked.append(request)
        return True

    events = run(agent(), approve)
    assert [(r.action_id, r.tool) for r in asked] == [(2, "compose_new_email"), (3, "create_note")]
    assert asked[0].args == (["ana@example.com"], [], "Hi", "hello", [])  # after $1 substitution
    assert of(events, ConfirmationRequested) == asked
    assert {e.id for e in of(events, ActionStarted)} == {1, 2, 3}
    assert of(events, FinalAnswer)[-1].ok


def test_a_rejection_skips_the_action_and_its_dependents_and_the_run_is_not_ok() -> None:
    async def reject(request: ConfirmationRequested) -> bool:
        return False

    events = run(agent(), reject)
    skipped = {e.id: e.reason for e in of(events, ActionSkipped)}
    assert skipped == {2: "the user rejected it", 3: "depends on action 2 (compose_new_email), which was skipped"}
    assert {e.id for e in of(events, ActionStarted)} == {1}
    assert of(events, FinalAnswer)[-1].ok is False


def test_an_answer_that_never_comes_counts_as_no() -> None:
    def never(request: ConfirmationRequested) -> asyncio.Future[bool]:
        return asyncio.get_running_loop().create_future()

    events = run(agent(timeout_s=0.05), never)
    assert of(events, ActionSkipped)[0].reason == "it was not confirmed within 0.05 s"


def test_without_a_way_to_ask_side_effects_are_skipped_not_run() -> None:
    events = run(agent())
    assert "nothing here can ask" in of(events, ActionSkipped)[0].reason
    assert of(events, ConfirmationRequested) == []
    assert {e.id for e in of(events, ActionStarted)} == {1}


def test_a_dry_run_and_the_never_policy_do_not_ask() -> None:
    async def must_not_ask(request: ConfirmationRequested) -> bool:
        raise AssertionError("asked")

    for quiet in (agent(dry_run=True), agent(confirm="never")):
        events = run(quiet, must_not_ask)
        assert of(events, ConfirmationRequested) == [] and of(events, ActionSkipped) == []
        assert {e.id for e in of(events, ActionStarted)} == {1, 2, 3}


def test_the_settings_reach_the_agent() -> None:
    built = build_agent(Settings(confirm="side_effects", confirm_timeout_s=7, apps="recorder"), with_planner=False)
    assert (built.config.confirm, built.config.confirm_timeout_s) == ("side_effects", 7)
    assert build_agent(Settings(apps="recorder"), with_planner=False).config.confirm == "never"
