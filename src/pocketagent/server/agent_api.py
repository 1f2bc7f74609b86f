"""`POST /v1/agent/run` (the run's typed events as Server-Sent Events) and `POST /v1/agent/confirm`.

The stream is the same typed events the CLI consumes, one SSE message each: the SSE `event`
field is the event's `kind`, `data` is its JSON (`Event.to_dict()`), `id` counts from 0. It opens
with `run_started` (the run's id) and ends after `answer` (or an `error` event). A client that
closes the stream cancels its run: the plan's generation stops and no action that has not
started yet will start. See docs/server.md for every event's fields.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

from pocketagent.errors import PocketAgentError
from pocketagent.server.runtime import RunState, ServerRuntime
from pocketagent.timefmt import NOW_FORMAT

log = logging.getLogger(__name__)
router = APIRouter()


class RunBody(BaseModel):
    """The body of `POST /v1/agent/run`."""

    model_config = ConfigDict(extra="forbid")

    request: str = Field(min_length=1, description="what the user wants done")
    now: datetime | None = Field(None, description='the planner\'s "today", "YYYY-MM-DD HH:MM:SS" (default: the clock)')
    dry_run: bool = Field(False, description="show what each action would do; change nothing")
    confirm: Literal["never", "side_effects"] | None = Field(
        None,
        description="side_effects: this run asks (confirmation_requested) before every action that writes, "
        "whatever the server's `confirm` says; a client can ask to be asked, never turn the server's asking off",
    )

    @field_validator("request")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the request is empty: say what you want done")
        return value.strip()

    @field_validator("now", mode="before")
    @classmethod
    def _parse_now(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return datetime.strptime(value.strip(), NOW_FORMAT)
            except ValueError:
                raise ValueError(f"expected 'YYYY-MM-DD HH:MM:SS', got {value!r}") from None
        return value


class ConfirmBody(BaseModel):
    """The body of `POST /v1/agent/confirm`: the `id` of a `confirmation_requested` event and the answer."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    approve: bool


def sse_message(data: dict[str, Any], seq: int) -> ServerSentEvent:
    """One SSE message: `event: <kind>`, `data: <JSON>`, `id: <seq>`."""
    return ServerSentEvent(data=json.dumps(data, ensure_ascii=False, default=str), event=data["kind"], id=str(seq))


class RunStreamResponse(EventSourceResponse):
    """An SSE response that calls `on_close` when it ends, however it ends.

    The body generator's own `finally` would not run for a stream that never started (a
    client gone before the first event), so the run's slot is freed here instead.
    """

    def __init__(
        self, content: AsyncIterator[ServerSentEvent], on_close: Callable[[], None], sep: str | None = None
    ) -> None:
        super().__init__(content, ping=15, sep=sep)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


async def run_events(runtime: ServerRuntime, run: RunState, now: datetime) -> AsyncIterator[ServerSentEvent]:
    """The SSE messages of one run. Closing this generator cancels the run."""
    seq = 0
    opening = {"kind": "run_started", "run_id": run.id, "request": run.request, "model": runtime.model_id}
    yield sse_message(opening, seq)
    agent = runtime.agent_for(run.dry_run, confirm=run.confirm)
    try:
        events = agent.run(run.request, now, ask=runtime.asker(run))
        async with contextlib.aclosing(events) as stream:  # type: ignore[type-var]
            async for event in stream:
                run.add(event)
                seq += 1
                yield sse_message(event.to_dict(), seq)
    except PocketAgentError as exc:
        run.fail(str(exc))
        yield sse_message({"kind": "error", "message": str(exc)}, seq + 1)
    except Exception as exc:  # noqa: BLE001 — a bug: the client still gets a last message, the log the trace
        log.exception("run %s failed", run.id)
        run.fail(f"internal error: {type(exc).__name__}: {exc}")
        yield sse_message({"kind": "error", "message": run.error}, seq + 1)


@router.post("/v1/agent/run", tags=["agent"])
async def agent_run(body: RunBody, request: Request) -> RunStreamResponse:
    """Plan and run a request; the response is its event stream (text/event-stream)."""
    runtime: ServerRuntime = request.app.state.runtime
    run = runtime.start_run(body.request, "server", dry_run=body.dry_run, confirm=body.confirm == "side_effects")
    now = body.now or runtime.settings.current_time()
    return RunStreamResponse(run_events(runtime, run, now), on_close=lambda: runtime.finish_run(run))


@router.post("/v1/agent/confirm", tags=["agent"])
async def agent_confirm(body: ConfirmBody, request: Request) -> dict[str, Any]:
    """Answer a `confirmation_requested` event of a running stream: approve runs the action, else it is skipped."""
    runtime: ServerRuntime = request.app.state.runtime
    run = runtime.answer(body.id, body.approve)
    return {"id": body.id, "run_id": run.id, "approved": body.approve}
