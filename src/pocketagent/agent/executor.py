"""The task fetching unit: runs plan actions as a DAG on asyncio.

Actions arrive one by one (`submit`) while the planner is still streaming. Each starts
as soon as the actions it references are done; independent actions run concurrently;
blocking tool functions run in worker threads so the loop never stalls. A failing tool
becomes an error observation and its dependents are skipped with a stated reason; the
rest of the plan still runs. Every action has a timeout, so a run never hangs.

A tool with a side effect (it writes: sends, creates, deletes) is not abandoned at its
timeout, because a thread cannot be killed and would write after the run reported failure.
It is waited for a bounded grace period more and its real outcome is reported; if it is still
running after that, the failure says the write may still complete and the identical call is
never issued again in the same run (a replan gets the notice, or the late result).

With a `Confirmation` (setting `confirm = "side_effects"`), a side-effect action asks first:
it emits `ConfirmationRequested` with its final arguments and waits for the answer; rejected,
unanswered within the timeout, or with nobody to ask, it is skipped with the reason (and its
dependents are skipped as usual).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pocketagent.agent.events import (
    ActionFailed,
    ActionFinished,
    ActionSkipped,
    ActionStarted,
    ConfirmationRequested,
    Event,
)
from pocketagent.errors import ModelFixableError, PocketAgentError, ToolError, ToolTimeoutError
from pocketagent.plan.language import REFERENCE, Action, Value, whole_reference
from pocketagent.tools.registry import Tool, ToolContext, ToolRegistry

log = logging.getLogger(__name__)

Status = Literal["ok", "failed", "skipped"]

# Asks the user about one side effect. Called right after the request is emitted, so it must
# register the request before it returns (a client may answer as soon as it sees the event);
# the awaitable resolves to True (go ahead) or False (skip it).
AskConfirmation = Callable[[ConfirmationRequested], Awaitable[bool]]


@dataclass(frozen=True)
class Confirmation:
    """Side effects of this run need the user's yes first.

    `ask` is None where nothing can ask (a side effect is then skipped, never run unasked);
    an answer that does not come within `timeout_s` counts as no.
    """

    ask: AskConfirmation | None = None
    timeout_s: float = 120.0


@dataclass(frozen=True)
class ActionResult:
    """What became of one action."""

    id: int
    tool: str
    args: tuple[Any, ...]
    status: Status
    result: Any = None
    error: str | None = None
    error_type: str | None = None
    model_fixable: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def observation(self, quoted: bool = False) -> str:
        """One line the joiner and a replanning prompt can read.

        `quoted` (for a model's eyes) shows the result as a JSON string, cut to 300 characters:
        text a tool read (an email, a note) is data for the planner, not instructions to follow.
        """
        if self.status == "ok":
            if quoted:
                return f"{self.id}. {self.tool} -> {json.dumps(str(self.result)[:300], ensure_ascii=False)}"
            return f"{self.id}. {self.tool} -> {self.result}"
        if self.status == "skipped":
            return f"{self.id}. {self.tool} skipped: {self.error}"
        return f"{self.id}. {self.tool} failed: {self.error}"


def substitute(value: Value, results: dict[int, Any]) -> Any:
    """Replace `$N` references with results: a bare `"$N"` takes the result as is,
    references inside text are replaced by the result's text; list items likewise."""
    if isinstance(value, str):
        whole = whole_reference(value)
        if whole is not None:
            return results[whole]
        return REFERENCE.sub(lambda m: str(results[int(m.group(1) or m.group(2))]), value)
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            resolved = substitute(item, results)
            # A reference to a list result inside a list splices it in (["$1"] with $1 = [a, b]).
            if isinstance(resolved, list):
                out.extend(resolved)
            else:
                out.append(resolved)
        return out
    return value


def run_in_daemon_thread(func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run a blocking call in a daemon thread and await its result.

    Unlike `asyncio.to_thread`, a call that never returns does not keep the process
    alive at exit (the default executor is joined on shutdown), so a hung tool cannot
    hang the CLI after its timeout was reported.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def deliver(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():
            setter(value)

    def work() -> None:
        try:
            outcome: tuple[Callable[[Any], None], Any] = (future.set_result, context.run(func, *args))
        except BaseException as exc:  # handed to the awaiting task
            outcome = (future.set_exception, exc)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, *outcome)

    threading.Thread(target=work, name=f"tool-{getattr(func, '__name__', 'call')}", daemon=True).start()
    return future


@dataclass(frozen=True)
class InFlight:
    """A memo entry for a side-effect call that outlived its timeout and grace period.

    `pending` is the future (thread) or task (async tool) of the call that may still write.
    """

    tool: str
    pending: asyncio.Future[Any]


def _retrieve(pending: asyncio.Future[Any]) -> None:
    # Nobody may await an abandoned call again: read its error so asyncio does not log it as lost.
    if not pending.cancelled():
        pending.exception()


class Executor:
    """Runs the actions of one plan. Create one per plan; `submit` actions, then `close` and `wait`."""

    def __init__(
        self,
        registry: ToolRegistry,
        context: ToolContext,
        emit: Callable[[Event], None],
        timeout_s: float = 30.0,
        dry_run: bool = False,
        memo: dict[tuple[str, str], Any] | None = None,
        write_grace_s: float | None = None,
        confirmation: Confirmation | None = None,
    ) -> None:
        """`write_grace_s`: how much longer than its timeout a side-effect tool is waited for
        before its outcome is given up as unknown (None: the tool's timeout once more).
        `confirmation`: side effects wait for the user's yes (None: they run unasked)."""
        self.registry = registry
        self.context = context
        self.emit = emit
        self.timeout_s = timeout_s
        self.dry_run = dry_run
        self.write_grace_s = write_grace_s
        self.confirmation = confirmation
        # Results of identical calls that already succeeded (shared across replans) are reused,
        # so a replan never sends the same email or creates the same event twice. A write whose
        # outcome is still unknown stays here as `InFlight` for the same reason.
        self.memo: dict[tuple[str, str], Any] = {} if memo is None else memo
        self.results: dict[int, ActionResult] = {}
        self._done: dict[int, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def _done_event(self, action_id: int) -> asyncio.Event:
        return self._done.setdefault(action_id, asyncio.Event())

    def submit(self, action: Action) -> None:
        """Schedule an action; it starts once its dependencies have finished. Must run in the loop."""
        if action.is_join:
            return
        self._done_event(action.id)
        self._tasks.append(asyncio.create_task(self._run(action), name=f"action-{action.id}"))

    async def wait(self) -> dict[int, ActionResult]:
        """Wait for every submitted action; cancelling this cancels them all."""
        try:
            await asyncio.gather(*self._tasks)
        except asyncio.CancelledError:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            raise
        return dict(sorted(self.results.items()))

    def _finish(self, result: ActionResult) -> None:
        self.results[result.id] = result
        self._done_event(result.id).set()

    async def _run(self, action: Action) -> None:
        try:
            # Validate before waiting: a wrong call fails at once, not after its dependencies.
            tool = self.registry.validate_action(action)
        except ModelFixableError as exc:
            self.emit(ActionFailed(action.id, action.tool, action.args, str(exc), type(exc).__name__))
            self._finish(
                ActionResult(
                    action.id, action.tool, action.args, "failed",
                    error=str(exc), error_type=type(exc).__name__, model_fixable=True,
                )
            )
            return
        for dep in action.dependencies:
            await self._done_event(dep).wait()
        blocked = [self.results[d] for d in action.dependencies if not self.results[d].ok]
        if blocked:
            first = blocked[0]
            reason = f"depends on action {first.id} ({first.tool}), which {'was skipped' if first.status == 'skipped' else 'failed'}"
            self.emit(ActionSkipped(action.id, action.tool, reason))
            self._finish(ActionResult(action.id, action.tool, action.args, "skipped", error=reason))
            return

        args: tuple[Any, ...] = action.args
        started = time.perf_counter()
        try:
            args = tuple(substitute(a, {d: self.results[d].result for d in action.dependencies}) for a in action.args)
            tool.validate(args)
            refusal = await self._confirm(action, tool, args)
            if refusal is not None:
                self.emit(ActionSkipped(action.id, action.tool, refusal))
                self._finish(ActionResult(action.id, action.tool, args, "skipped", error=refusal))
                return
            self.emit(ActionStarted(action.id, action.tool, args))
            result = await self._call(tool, args)
        except asyncio.CancelledError:
            self._finish(ActionResult(action.id, action.tool, args, "failed", error="cancelled", error_type="Cancelled"))
            raise
        except Exception as exc:  # noqa: BLE001 — every tool failure becomes an observation
            duration = time.perf_counter() - started
            message = self._describe(action, exc)
            self.emit(ActionFailed(action.id, action.tool, args, message, type(exc).__name__, duration))
            self._finish(
                ActionResult(
                    action.id, action.tool, args, "failed",
                    error=message, error_type=type(exc).__name__,
                    model_fixable=isinstance(exc, ModelFixableError), duration_s=duration,
                )
            )
            return
        duration = time.perf_counter() - started
        self.emit(ActionFinished(action.id, action.tool, args, str(result), duration))
        self._finish(ActionResult(action.id, action.tool, args, "ok", result=result, duration_s=duration))

    async def call(self, tool: Tool, args: tuple[Any, ...]) -> Any:
        """Call one tool directly, outside a plan (the MCP server's `tools/call`), under this
        executor's policy: confirmation, dry run, timeouts, the write grace period. The arguments
        are literal values (no `$N` references are resolved); a wrong call raises
        `ToolArgumentError`, a side effect that is not confirmed `ToolError` with the reason."""
        tool.validate(args)
        refusal = await self._confirm(Action(0, tool.name, args), tool, args)
        if refusal is not None:
            raise ToolError(f"{tool.name} was not run: {refusal}")
        return await self._call(tool, args)

    async def _confirm(self, action: Action, tool: Tool, args: tuple[Any, ...]) -> str | None:
        """Ask before a side effect when confirmations are on: None to go ahead, else why it is skipped.

        A dry run changes nothing and an identical call done earlier in the run is not issued
        again (see `_call`), so neither asks.
        """
        policy = self.confirmation
        if policy is None or not tool.side_effect or self.dry_run or (tool.name, repr(args)) in self.memo:
            return None
        if policy.ask is None:
            return "it needs the user's confirmation (confirm = side_effects) and nothing here can ask for it"
        request = ConfirmationRequested(uuid.uuid4().hex, action.id, tool.name, args)
        self.emit(request)
        try:
            approved = await asyncio.wait_for(policy.ask(request), policy.timeout_s)
        except (TimeoutError, asyncio.TimeoutError):
            return f"it was not confirmed within {policy.timeout_s:g} s"
        return None if approved else "the user rejected it"

    async def _call(self, tool: Tool, args: tuple[Any, ...]) -> Any:
        key = (tool.name, repr(args))
        if key in self.memo:
            hit = self.memo[key]
            if not isinstance(hit, InFlight):
                return hit
            if not hit.pending.done() or hit.pending.cancelled():
                # Issuing it again could write twice (two emails, two events): report instead.
                raise ToolTimeoutError(
                    f"{tool.name}: an identical earlier call did not finish in time and may still complete, "
                    "so it was not sent again"
                )
            if hit.pending.exception() is None:
                self.memo[key] = hit.pending.result()  # it did complete late: reuse it like any success
                return self.memo[key]
            del self.memo[key]  # it failed by itself, like any failed call it may be tried again
        result = await self._invoke(tool, args, key)
        self.memo[key] = result
        return result

    async def _invoke(self, tool: Tool, args: tuple[Any, ...], key: tuple[str, str]) -> Any:
        if self.dry_run and tool.side_effect:
            shown = ", ".join(repr(a) for a in args)
            return f"[dry run] would call {tool.name}({shown})"
        call_args = (self.context, *args) if tool.takes_context else args
        timeout = tool.timeout_s or self.timeout_s
        if tool.side_effect:
            if tool.is_async:
                pending: asyncio.Future[Any] = asyncio.ensure_future(tool.func(*call_args))
            else:
                pending = run_in_daemon_thread(tool.func, *call_args)
            return await self._settle_write(tool, key, pending, timeout)
        try:
            if tool.is_async:
                return await asyncio.wait_for(tool.func(*call_args), timeout)
            # A read-only thread cannot be killed but does no harm: on timeout we stop waiting.
            return await asyncio.wait_for(run_in_daemon_thread(tool.func, *call_args), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise ToolTimeoutError(f"{tool.name} did not finish within {timeout:g} s") from None

    async def _settle_write(
        self, tool: Tool, key: tuple[str, str], pending: asyncio.Future[Any], timeout: float
    ) -> Any:
        """Await a side-effect call past its timeout, up to a grace period, and report its real outcome.

        Reporting a timeout while the write goes on would leave a ghost write after the run said
        it failed, and a replan would issue it twice; so the action (and with it `wait()`) does
        not end while the call may still finish in reasonable time.
        """
        grace = timeout if self.write_grace_s is None else self.write_grace_s
        try:
            done, _ = await asyncio.wait({pending}, timeout=timeout)
            if not done:
                log.warning("%s did not finish within %g s; waiting up to %g s more for it", tool.name, timeout, grace)
                done, _ = await asyncio.wait({pending}, timeout=grace)
        except asyncio.CancelledError:
            pending.cancel()  # the run is being cancelled: an async write stops at its next await
            raise
        if done:
            return pending.result()  # the tool's own error, if it failed, is raised here
        # Still running. An async tool is cancelled (it stops at its next await); a thread cannot be,
        # and its future is left to receive the late outcome, which a replan's identical call reuses.
        # Either way whether it wrote is unknown, so the call stays in the memo as in flight and is
        # never issued again this run.
        if tool.is_async:
            pending.cancel()
        pending.add_done_callback(_retrieve)
        self.memo[key] = InFlight(tool.name, pending)
        raise ToolTimeoutError(
            f"{tool.name} did not finish within {timeout:g} s (nor {grace:g} s more); "
            "it may still complete, so it will not be sent again"
        )

    @staticmethod
    def _describe(action: Action, exc: Exception) -> str:
        if isinstance(exc, PocketAgentError):
            return str(exc)
        # A bug in a tool: keep the details in the log, give the user one clear line.
        log.debug("tool %s raised", action.tool, exc_info=exc)
        return f"{action.tool} raised {type(exc).__name__}: {exc}"
