"""The agent loop: plan (streaming) → execute (DAG, in parallel) → join (finish or replan).

`Agent.run()` is an async generator of typed events; the CLI, the server, logs and the
evaluation all consume the same stream. `RunSummary.from_events` folds it into the
result a `--json` caller or a test wants.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from pocketagent.agent.events import (
    ActionFailed,
    ActionFinished,
    ActionPlanned,
    ActionSkipped,
    Event,
    FinalAnswer,
    PlanningStarted,
    PlanReady,
    Replanning,
)
from pocketagent.agent.executor import ActionResult, AskConfirmation, Confirmation, Executor
from pocketagent.agent.joiner import Joiner, RuleJoiner
from pocketagent.agent.planner import Planner, failure_context
from pocketagent.errors import PlanParseError
from pocketagent.plan.language import Plan, parse_plan
from pocketagent.tools.apps import set_current_request
from pocketagent.tools.registry import ToolContext, ToolRegistry

_END = object()


@dataclass(frozen=True)
class AgentConfig:
    tool_timeout_s: float = 30.0
    max_replans: int = 1
    dry_run: bool = False
    # "side_effects": every tool with side_effect=True waits for the user's yes (see Executor).
    confirm: Literal["never", "side_effects"] = "never"
    confirm_timeout_s: float = 120.0


class Agent:
    """Plans and runs requests against a tool registry."""

    def __init__(
        self,
        registry: ToolRegistry,
        context: ToolContext,
        planner: Planner | None = None,
        joiner: Joiner | None = None,
        config: AgentConfig = AgentConfig(),
    ) -> None:
        self.registry = registry
        self.context = context
        self.planner = planner
        self.joiner = joiner or RuleJoiner()
        self.config = config

    def run(self, request: str, now: datetime, ask: AskConfirmation | None = None) -> AsyncIterator[Event]:
        """Plan and execute `request`, replanning on model-fixable failures.

        With `confirm = "side_effects"`, `ask` is how this run asks the user before a side
        effect (see `AskConfirmation`); without it such actions are skipped.
        """
        if not request.strip():
            raise ValueError("empty request")
        if self.planner is None:
            raise RuntimeError("this agent has no planner; use run_plan()")
        planner = self.planner
        confirmation = self._confirmation(ask)
        return self._events(lambda emit: self._plan_and_run(planner, request, now, emit, confirmation))

    def run_plan(self, plan_text: str, ask: AskConfirmation | None = None) -> AsyncIterator[Event]:
        """Execute a given plan text (no model). A plan that does not parse raises `PlanParseError`."""
        plan = parse_plan(plan_text)
        confirmation = self._confirmation(ask)
        return self._events(lambda emit: self._execute_given(plan, emit, confirmation))

    def _confirmation(self, ask: AskConfirmation | None) -> Confirmation | None:
        if self.config.confirm == "never":
            return None
        return Confirmation(ask, self.config.confirm_timeout_s)

    async def _events(self, body: Callable[[Callable[[Event], None]], Awaitable[None]]) -> AsyncIterator[Event]:
        queue: asyncio.Queue[object] = asyncio.Queue()

        async def drive() -> None:
            try:
                await body(queue.put_nowait)
            finally:
                queue.put_nowait(_END)

        task = asyncio.create_task(drive())
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                yield item  # type: ignore[misc]
            await task  # re-raise a bug in the loop instead of hiding it
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _executor(
        self,
        emit: Callable[[Event], None],
        memo: dict[tuple[str, str], Any],
        confirmation: Confirmation | None,
        context: ToolContext | None = None,
    ) -> Executor:
        return Executor(
            self.registry, self.context if context is None else context, emit,
            timeout_s=self.config.tool_timeout_s, dry_run=self.config.dry_run, memo=memo,
            confirmation=confirmation,
        )

    def _run_context(self, request: str, now: datetime, attempt: int) -> ToolContext:
        """The tools' context for one plan of a run: the agent's, plus this run's request and extras.

        A copy, so concurrent runs of one agent (the server's) never see each other's request.
        """
        extras = {**self.context.extras, "now": now, "attempt": attempt}
        return replace(self.context, request=request, extras=extras)

    async def _execute_given(
        self, plan: Plan, emit: Callable[[Event], None], confirmation: Confirmation | None
    ) -> None:
        emit(PlanReady(text=plan.render(), plan=plan))
        executor = self._executor(emit, {}, confirmation)
        for action in plan.tool_actions:
            emit(ActionPlanned.of(action))
            executor.submit(action)
        results = await executor.wait()
        decision = self.joiner.decide(plan, results, replans_left=0)
        emit(FinalAnswer(decision.answer, ok=decision.ok and not _skipped(results)))

    async def _plan_and_run(
        self,
        planner: Planner,
        request: str,
        now: datetime,
        emit: Callable[[Event], None],
        confirmation: Confirmation | None,
    ) -> None:
        set_current_request(request)  # sub-agents (email/note writers) read it in their tool threads
        replan_context: str | None = None
        memo: dict[tuple[str, str], Any] = {}  # identical calls already done are not repeated on replan
        for attempt in range(self.config.max_replans + 1):
            emit(PlanningStarted(request, attempt))
            executor = self._executor(emit, memo, confirmation, self._run_context(request, now, attempt))
            last = attempt == self.config.max_replans
            ready = await planner.stream_plan(request, now, emit, executor.submit, replan_context, repair_dates=last)
            results = await executor.wait()
            replans_left = self.config.max_replans - attempt
            if ready.plan is None:
                observations = "\n".join(r.observation(quoted=True) for r in results.values())
                if replans_left > 0:
                    replan_context = failure_context(ready.text, f"the plan is not valid: {ready.error}", observations)
                    emit(Replanning(f"plan is not valid: {ready.error}", attempt + 1))
                    continue
                emit(FinalAnswer(f"Sorry, I could not make a valid plan for this request ({ready.error}).", ok=False))
                return
            decision = self.joiner.decide(ready.plan, results, replans_left)
            if decision.action == "replan":
                observations = "\n".join(r.observation(quoted=True) for r in results.values())
                replan_context = failure_context(ready.plan.render(), decision.reason, observations)
                emit(Replanning(decision.reason, attempt + 1))
                continue
            emit(FinalAnswer(decision.answer, ok=decision.ok and not _skipped(results)))
            return


def _skipped(results: dict[int, ActionResult]) -> bool:
    # An action skipped without a failure (the user said no to it) still means the request was not done.
    return any(result.status == "skipped" for result in results.values())


@dataclass
class RunSummary:
    """A run folded from its events: what `--json` prints and what tests check."""

    plan: str = ""
    plan_error: str | None = None
    actions: dict[int, dict[str, Any]] = field(default_factory=dict)
    answer: str = ""
    ok: bool = False
    replans: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        """Fold one event in (later plans replace earlier ones)."""
        if isinstance(event, PlanReady):
            self.plan, self.plan_error = event.text, event.error
            self.stats = event.to_dict()["stats"]
        elif isinstance(event, Replanning):
            self.replans += 1
            self.actions = {}
        elif isinstance(event, ActionPlanned):
            self.actions[event.id] = {"id": event.id, "tool": event.tool, "args": list(event.args), "status": "planned"}
        elif isinstance(event, ActionFinished):
            self.actions[event.id] |= {"args": list(event.args), "status": "ok", "result": event.result}
        elif isinstance(event, ActionFailed):
            self.actions.setdefault(event.id, {"id": event.id, "tool": event.tool})
            self.actions[event.id] |= {"args": list(event.args), "status": "failed", "error": event.error}
        elif isinstance(event, ActionSkipped):
            self.actions[event.id] |= {"status": "skipped", "error": event.reason}
        elif isinstance(event, FinalAnswer):
            self.answer, self.ok = event.answer, event.ok

    @property
    def any_failed(self) -> bool:
        return any(a.get("status") in ("failed", "skipped") for a in self.actions.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "plan_error": self.plan_error,
            "actions": [self.actions[k] for k in sorted(self.actions)],
            "answer": self.answer,
            "ok": self.ok and not self.any_failed and self.plan_error is None,
            "replans": self.replans,
            "stats": self.stats,
        }


async def collect(events: AsyncIterator[Event], on_event: Callable[[Event], None] | None = None) -> RunSummary:
    """Drain an event stream into a `RunSummary`, optionally showing each event."""
    summary = RunSummary()
    async for event in events:
        summary.add(event)
        if on_event is not None:
            on_event(event)
    return summary


__all__ = ["Agent", "AgentConfig", "RunSummary", "collect", "ActionResult", "PlanParseError"]
