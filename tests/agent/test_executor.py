"""Executor: DAG order, parallelism, substitution, failures, timeouts, cancellation."""

import asyncio
import threading
import time

import pytest

from pocketagent.agent.events import ActionFailed, ActionFinished, ActionSkipped, ActionStarted
from pocketagent.agent.executor import Executor, substitute
from pocketagent.errors import ToolError
from pocketagent.plan import parse_plan
from pocketagent.tools import ToolContext, ToolRegistry, builtin_registry, recording_apps


def make_registry(barrier: threading.Barrier | None = None) -> ToolRegistry:
    registry = ToolRegistry()

    @registry.register
    def lookup(name: str) -> str:
        """Looks a name up (waits for its siblings at a barrier, proving they run together)."""
        if barrier is not None:
            barrier.wait(timeout=10)
        return f"{name.lower()}@example.com"

    @registry.register
    def greet(recipients: list[str], text: str) -> str:
        """Greets people."""
        return f"sent {text!r} to {','.join(recipients)}"

    @registry.register
    def broken(name: str) -> str:
        """Always fails."""
        raise ToolError(f"no contact named {name!r}")

    @registry.register
    def buggy(name: str) -> str:
        """Has a bug."""
        return {}[name]

    @registry.register(timeout_s=0.2)
    def hang(name: str) -> str:
        """Never returns in time."""
        threading.Event().wait(5)
        return "late"

    @registry.register
    async def async_echo(text: str) -> str:
        """An async tool."""
        await asyncio.sleep(0)
        return text.upper()

    @registry.register
    def count(n: int) -> str:
        """Wants an int."""
        return str(n + 1)

    return registry


def run_plan(registry, text, **kwargs):
    events = []
    async def main():
        executor = Executor(registry, ToolContext(), events.append, **kwargs)
        for action in parse_plan(text).tool_actions:
            executor.submit(action)
        return await executor.wait()
    return asyncio.run(main()), events


def test_substitute_strings_lists_and_whole_references():
    results = {1: "a@x.com", 2: "b@x.com", 3: ["c", "d"], 4: 7}
    assert substitute("$1", results) == "a@x.com"
    assert substitute("to $1 and ${2}!", results) == "to a@x.com and b@x.com!"
    assert substitute(["$1", "$2", "literal"], results) == ["a@x.com", "b@x.com", "literal"]
    assert substitute(["$3", "e"], results) == ["c", "d", "e"]
    assert substitute("$4", results) == 7
    assert substitute(None, results) is None


def test_independent_actions_run_concurrently_and_dependents_wait():
    barrier = threading.Barrier(3)  # three lookups must be in flight at the same time
    results, events = run_plan(
        make_registry(barrier),
        '1. lookup("Ana")\n2. lookup("Bo")\n3. lookup("Cy")\n'
        '4. greet(["$1", "$2", "$3"], "hi $1")\n5. join()<END_OF_PLAN>',
    )
    assert all(r.ok for r in results.values())
    assert results[4].result == "sent 'hi ana@example.com' to ana@example.com,bo@example.com,cy@example.com"
    position = {(type(e).__name__, e.id): i for i, e in enumerate(events)}
    assert all(position[("ActionStarted", 4)] > position[("ActionFinished", i)] for i in (1, 2, 3))


def test_failure_skips_dependents_but_others_still_run():
    results, events = run_plan(
        make_registry(),
        '1. broken("Zed")\n2. lookup("Ana")\n3. greet(["$1"], "hi")\n4. greet(["$3"], "again")\n'
        '5. greet(["$2"], "hello")\n6. join()<END_OF_PLAN>',
    )
    assert results[1].status == "failed" and "no contact named 'Zed'" in results[1].error
    assert not results[1].model_fixable
    assert results[3].status == "skipped" and "action 1 (broken), which failed" in results[3].error
    assert results[4].status == "skipped" and "was skipped" in results[4].error
    assert results[5].ok
    assert {type(e) for e in events} >= {ActionFailed, ActionSkipped, ActionFinished}


def test_bug_in_a_tool_becomes_an_observation_not_a_crash():
    results, _ = run_plan(make_registry(), '1. buggy("k")\n2. join()<END_OF_PLAN>')
    assert results[1].status == "failed"
    assert results[1].error == "buggy raised KeyError: 'k'"


def test_timeout_never_hangs():
    results, _ = run_plan(make_registry(), '1. hang("x")\n2. lookup("Ana")\n3. join()<END_OF_PLAN>')
    assert results[1].status == "failed" and "did not finish within 0.2 s" in results[1].error
    assert results[2].ok


def test_unknown_tool_and_bad_arguments_fail_before_running_and_are_model_fixable():
    results, events = run_plan(
        make_registry(), '1. nope("x")\n2. count("three")\n3. lookup("Ana")\n4. join()<END_OF_PLAN>'
    )
    assert results[1].model_fixable and "unknown tool 'nope'" in results[1].error
    assert results[2].model_fixable and "'n' must be int" in results[2].error
    assert results[3].ok
    assert not any(isinstance(e, ActionStarted) and e.id in (1, 2) for e in events)


def test_async_tools_and_type_check_after_substitution():
    results, _ = run_plan(make_registry(), '1. async_echo("hi")\n2. count("$1")\n3. join()<END_OF_PLAN>')
    assert results[1].result == "HI"
    assert results[2].status == "failed" and "'n' must be int, got 'HI'" in results[2].error


def test_dry_run_skips_side_effects_but_runs_lookups():
    apps = recording_apps()
    events = []

    async def main():
        executor = Executor(builtin_registry(), ToolContext(apps=apps), events.append, dry_run=True)
        plan = parse_plan('1. get_phone_number("Ana")\n2. send_sms(["$1"], "hi")\n3. join()<END_OF_PLAN>')
        for action in plan.tool_actions:
            executor.submit(action)
        return await executor.wait()

    results = asyncio.run(main())
    assert [c.method for c in apps.calls] == ["get_phone_number"]
    assert results[2].result.startswith("[dry run] would call send_sms([")


def test_memo_reuses_identical_successful_calls():
    apps = recording_apps()
    memo = {}

    async def once():
        executor = Executor(builtin_registry(), ToolContext(apps=apps), lambda e: None, memo=memo)
        executor.submit(parse_plan('1. create_note("A", "b", "Notes")\n2. join()').actions[0])
        return await executor.wait()

    asyncio.run(once())
    asyncio.run(once())
    assert len(apps.calls) == 1


def test_actions_start_before_the_plan_is_complete():
    started = asyncio.Event()
    registry = ToolRegistry()

    @registry.register
    async def first() -> str:
        """Signals that it started."""
        started.set()
        return "ok"

    async def main():
        executor = Executor(registry, ToolContext(), lambda e: None)
        executor.submit(parse_plan("1. first()\n2. join()").actions[0])
        await asyncio.wait_for(started.wait(), 5)  # started while no further action was submitted
        return await executor.wait()

    assert asyncio.run(main())[1].ok


def test_cancellation_cancels_running_actions():
    registry = ToolRegistry()
    gate = asyncio.Event()

    @registry.register
    async def wait_forever() -> str:
        """Waits."""
        gate.set()
        await asyncio.sleep(3600)
        return "never"

    async def main():
        executor = Executor(registry, ToolContext(), lambda e: None)
        executor.submit(parse_plan("1. wait_forever()\n2. join()").actions[0])
        waiter = asyncio.create_task(executor.wait())
        await gate.wait()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        return executor.results

    results = asyncio.run(main())
    assert results[1].status == "failed" and results[1].error == "cancelled"


def run_attempt(registry, text, memo, **kwargs):
    """One plan run in the current loop, sharing `memo` with other attempts as replans do."""
    async def attempt():
        executor = Executor(registry, ToolContext(), lambda e: None, memo=memo, **kwargs)
        for action in parse_plan(text).tool_actions:
            executor.submit(action)
        return await executor.wait()
    return attempt()


def test_a_write_that_outlives_its_timeout_is_waited_for_and_reported_as_done():
    store = []
    registry = ToolRegistry()

    @registry.register(timeout_s=0.2, side_effect=True)
    def save(text: str) -> str:
        """Writes, but only after its timeout has passed."""
        time.sleep(0.6)
        store.append(text)
        return f"saved {text}"

    reported = []

    def emit(event):
        if isinstance(event, (ActionFinished, ActionFailed)):
            reported.append((type(event), list(store)))  # what the store held when the outcome was reported

    async def main():
        executor = Executor(registry, ToolContext(), emit, write_grace_s=10)
        executor.submit(parse_plan('1. save("x")\n2. join()').actions[0])
        return await executor.wait()

    results = asyncio.run(main())
    assert results[1].ok and results[1].result == "saved x"
    assert results[1].duration_s >= 0.2  # it did outlive its timeout
    assert reported == [(ActionFinished, ["x"])]  # no ghost write after the report: it was already there


def test_a_write_still_running_after_its_grace_fails_clearly_and_is_never_issued_twice():
    release = threading.Event()
    calls, store = [], []
    registry = ToolRegistry()

    @registry.register(timeout_s=0.2, side_effect=True)
    def send(text: str) -> str:
        """Hangs until the test releases it, then writes."""
        calls.append(text)
        release.wait(10)
        store.append(text)
        return f"sent {text}"

    plan = '1. send("hi")\n2. join()'

    async def main():
        memo = {}
        try:
            first = await run_attempt(registry, plan, memo, write_grace_s=0.2)
            replan = await run_attempt(registry, plan, memo, write_grace_s=0.2)  # the identical call again
            still_blocked = (list(calls), list(store))
        finally:
            release.set()
        # Once the late write has landed, an identical call reuses its result instead of writing again.
        for _ in range(500):
            late = await run_attempt(registry, plan, memo, write_grace_s=0.2)
            if late[1].ok:
                break
            await asyncio.sleep(0.02)
        return first[1], replan[1], still_blocked, late[1]

    first, replan, still_blocked, late = asyncio.run(main())
    assert first.status == "failed" and first.error_type == "ToolTimeoutError"
    assert "did not finish within 0.2 s" in first.error and "may still complete" in first.error
    assert replan.status == "failed" and "not sent again" in replan.error
    assert still_blocked == (["hi"], [])  # the replan did not call the tool a second time
    assert late.ok and late.result == "sent hi"
    assert calls == ["hi"] and store == ["hi"]


def test_an_async_write_still_running_after_its_grace_is_cancelled_and_not_repeated():
    calls, cancelled = [], []
    registry = ToolRegistry()

    @registry.register(timeout_s=0.2, side_effect=True)
    async def post(text: str) -> str:
        """Never finishes by itself."""
        calls.append(text)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(text)
            raise
        return "never"

    plan = '1. post("hi")\n2. join()'

    async def main():
        memo = {}
        first = await run_attempt(registry, plan, memo, write_grace_s=0.2)
        await asyncio.sleep(0)  # let the cancellation reach the tool
        replan = await run_attempt(registry, plan, memo, write_grace_s=0.2)
        return first[1], replan[1]

    first, replan = asyncio.run(main())
    assert first.status == "failed" and "may still complete" in first.error
    assert cancelled == ["hi"]
    assert replan.status == "failed" and "not sent again" in replan.error
    assert calls == ["hi"]


def test_a_read_only_tool_that_times_out_is_reported_at_once():
    release, returned = threading.Event(), threading.Event()
    registry = ToolRegistry()

    @registry.register(timeout_s=0.2)
    def slow_lookup(name: str) -> str:
        """Reads nothing until released (a read-only tool is not waited for past its timeout)."""
        release.wait(10)
        returned.set()
        return "late"

    async def main():
        executor = Executor(registry, ToolContext(), lambda e: None, write_grace_s=30)
        executor.submit(parse_plan('1. slow_lookup("Ana")\n2. join()').actions[0])
        results = await executor.wait()
        return results, returned.is_set()

    try:
        results, had_returned = asyncio.run(main())
    finally:
        release.set()
    assert not had_returned  # reported while the tool was still running, not after a grace period
    assert results[1].status == "failed" and results[1].error == "slow_lookup did not finish within 0.2 s"
