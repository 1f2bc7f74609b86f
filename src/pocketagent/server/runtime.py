"""What the server shares between requests: one model, one agent, run slots, pending confirmations.

The model is loaded once (when the app is created) and every request plans with it. llama.cpp
has one KV cache per context, so `SerializedBackend` lets one generation run at a time; other
requests wait their turn (tool calls of all runs still go on in parallel meanwhile). Each run has
its own `RunState`: its events, its pending confirmations, its status. Nothing of one run is
visible to another, except through the user's data itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from pocketagent.agent.agent import Agent
from pocketagent.agent.build import build_agent, build_client_tools_planner, client_tools_selector
from pocketagent.agent.events import ConfirmationRequested, Event, FinalAnswer
from pocketagent.agent.executor import AskConfirmation
from pocketagent.agent.history import RunLog, RunRecord, model_label
from pocketagent.agent.planner import Planner
from pocketagent.errors import PocketAgentError, TooManyRunsError, UnknownConfirmationError
from pocketagent.llm import create_backend
from pocketagent.llm.base import CancelToken, Chunk, GenerationOptions, LLMBackend, Message
from pocketagent.server.tool_plans import ClientTools, ToolPlanStore
from pocketagent.settings import Settings
from pocketagent.toolrag.base import ToolSelector
from pocketagent.voice import Transcriber

log = logging.getLogger(__name__)

_LOCK_POLL_S = 0.1  # how often a generation waiting for the model checks whether it was cancelled
DISCONNECTED = "cancelled: the client disconnected"
_CLIENT_PLANNERS = 16  # tool sets whose planner (prompt, grammar) is kept


class SerializedBackend(LLMBackend):
    """A shared backend that runs one generation at a time, in arrival order of the lock.

    A generation waiting for its turn gives up as soon as its cancel token is set (its client
    went away), so a queue of abandoned requests never holds the model.
    """

    name = "serialized"

    def __init__(self, inner: LLMBackend) -> None:
        self.inner = inner
        self.supports_grammar = inner.supports_grammar  # type: ignore[misc]  # mirrors the wrapped backend
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    def stream(
        self,
        messages: list[Message],
        options: GenerationOptions = GenerationOptions(),
        cancel: CancelToken | None = None,
    ) -> Iterator[Chunk]:
        """The wrapped backend's stream, once no other generation is running."""
        while not self._lock.acquire(timeout=_LOCK_POLL_S):
            if cancel is not None and cancel.cancelled:
                return
        try:
            if cancel is not None and cancel.cancelled:
                return
            yield from self.inner.stream(messages, options, cancel)
        finally:
            self._lock.release()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        self.inner.close()


RunStatus = Literal["running", "done", "failed", "cancelled"]


@dataclass
class RunState:
    """One agent run of the server: its events so far and the confirmations it waits for."""

    id: str
    request: str
    source: str
    dry_run: bool
    confirm: bool = False  # the client asked for confirmations of side effects (`"confirm": "side_effects"`)
    started_at: datetime = field(default_factory=datetime.now)
    started: float = field(default_factory=time.perf_counter)
    events: list[Event] = field(default_factory=list)
    pending: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    status: RunStatus = "running"
    error: str | None = None

    def add(self, event: Event) -> None:
        """Keep an event of this run; the final answer marks it done."""
        self.events.append(event)
        if isinstance(event, FinalAnswer):
            self.status = "done"

    def fail(self, message: str) -> None:
        self.status, self.error = "failed", message


def model_id(settings: Settings, backend: LLMBackend) -> str:
    """The planner's name in the OpenAI API (`GET /v1/models`): "<gguf>+<adapter>" for llama.cpp,
    else the backend's own model name."""
    if settings.backend != "llamacpp":
        return backend.model_name
    return re.sub(r"\s*\+\s*", "+", model_label(settings)).replace(" ", "_")


class ServerRuntime:
    """The server's shared state. Created once per app; all methods run on the event loop."""

    def __init__(self, settings: Settings) -> None:
        """Load the model and build the agent (the one slow step of starting the server)."""
        self.settings = settings
        self.backend = SerializedBackend(create_backend(settings))
        self.agent = build_agent(settings, backend=self.backend)
        self.model_id = model_id(settings, self.backend)
        self.history = RunLog.for_settings(settings)
        self.transcriber = Transcriber.from_settings(settings)  # speech to text; loads on first use
        self.runs: dict[str, RunState] = {}  # runs in progress, by id
        self._confirmations: dict[str, tuple[RunState, asyncio.Future[bool]]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.recorded = 0  # runs written to the history (tests and the benchmark wait on it)
        self.created = int(time.time())
        # Chat requests that bring their own tools: plans kept for their next turn, planners per tool set.
        self.tool_plans = ToolPlanStore()
        self._client_selector: ToolSelector | None = None
        self._client_planners: OrderedDict[str, Planner] = OrderedDict()

    # -- run slots ----------------------------------------------------------------

    @property
    def active_runs(self) -> int:
        return len(self.runs)

    def start_run(self, request: str, source: str, dry_run: bool = False, confirm: bool = False) -> RunState:
        """Take a run slot; `TooManyRunsError` (429) when `max_concurrent_runs` are in progress.

        `confirm`: this run's side effects wait for its client's yes even if `confirm = "never"`.
        """
        limit = self.settings.max_concurrent_runs
        if len(self.runs) >= limit:
            raise TooManyRunsError(
                f"the server is busy: {limit} runs are in progress (max_concurrent_runs); retry in a moment"
            )
        run = RunState(uuid.uuid4().hex[:16], request, source, dry_run, confirm)
        self.runs[run.id] = run
        return run

    def finish_run(self, run: RunState, record: bool = True) -> None:
        """Free the slot, drop its confirmations and log the run (in the background).

        Called when the response ends, however it ends: a run still "running" then was cut
        short by its client.
        """
        self.runs.pop(run.id, None)
        if run.status == "running":
            run.status, run.error = "cancelled", DISCONNECTED
        for confirmation_id, future in list(run.pending.items()):
            self._confirmations.pop(confirmation_id, None)
            future.cancel()
        run.pending.clear()
        if record and self.history is not None:
            task = asyncio.get_running_loop().create_task(self._record(run))
            # Not awaited by the response (it may be ending by cancellation); kept so it is not lost.
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _record(self, run: RunState) -> None:
        history = self.history
        if history is None:
            return
        record = RunRecord.from_events(
            run.request, run.events, model=model_label(self.settings), source=run.source,
            started_at=run.started_at, total_s=time.perf_counter() - run.started,
            dry_run=run.dry_run, error=run.error,
        )  # fmt: skip
        try:
            await asyncio.to_thread(history.record, record)
        except PocketAgentError as exc:  # the run happened; a history that cannot be written is only logged
            log.warning("run %s was not logged: %s", run.id, exc)
        self.recorded += 1

    async def drain(self) -> None:
        """Wait for history writes still in flight (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # -- agents and confirmations ---------------------------------------------------

    def agent_for(self, dry_run: bool, confirm: bool = False) -> Agent:
        """The shared agent, or a view of it (same model, tools and apps) that dry-runs or asks
        before side effects. `confirm` only ever adds asking: the server's `confirm` setting stays."""
        agent = self.agent
        config = replace(
            agent.config,
            dry_run=agent.config.dry_run or dry_run,
            confirm="side_effects" if confirm else agent.config.confirm,
        )
        if config == agent.config:
            return agent
        return Agent(agent.registry, agent.context, agent.planner, agent.joiner, config)

    def asker(self, run: RunState) -> AskConfirmation:
        """How `run` asks its client: the request waits in `pending` until `answer()` resolves it."""
        loop = asyncio.get_running_loop()

        def ask(request: ConfirmationRequested) -> asyncio.Future[bool]:
            future: asyncio.Future[bool] = loop.create_future()
            run.pending[request.id] = future
            self._confirmations[request.id] = (run, future)

            def forget(_: asyncio.Future[bool]) -> None:  # answered, timed out or cancelled
                run.pending.pop(request.id, None)
                self._confirmations.pop(request.id, None)

            future.add_done_callback(forget)
            return future

        return ask

    def answer(self, confirmation_id: str, approve: bool) -> RunState:
        """Answer a pending confirmation; `UnknownConfirmationError` (404) if it is not pending."""
        entry = self._confirmations.get(confirmation_id)
        if entry is None or entry[1].done():
            raise UnknownConfirmationError(
                f"no pending confirmation {confirmation_id!r}: it was answered already, it timed out "
                "(confirm_timeout_s), or its run has ended"
            )
        run, future = entry
        future.set_result(approve)
        return run

    def client_planner(self, tools: ClientTools) -> Planner:
        """The planner over a chat request's own tools (one per tool set, the most recent kept)."""
        planner = self._client_planners.get(tools.key)
        if planner is None:
            if self._client_selector is None:
                self._client_selector = client_tools_selector(self.settings)
            planner = build_client_tools_planner(self.settings, tools.registry, self.backend, self._client_selector)
            self._client_planners[tools.key] = planner
            if len(self._client_planners) > _CLIENT_PLANNERS:
                self._client_planners.popitem(last=False)
        self._client_planners.move_to_end(tools.key)
        return planner

    def close(self) -> None:
        self.backend.close()
