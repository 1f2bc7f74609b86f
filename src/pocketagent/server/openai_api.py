"""The OpenAI-compatible API: `POST /v1/chat/completions` (streaming and not) and `GET /v1/models`.

Without `tools`, the last user message is a request to the agent over the built-in tools (on the
user's data) and the reply's content is its final answer; earlier messages are not used (each
request is planned on its own). A side effect that needs confirmation (`confirm =
"side_effects"`) is skipped here, since this API cannot ask: use `/v1/agent/run` for that.

With `tools`, the planner plans over exactly those tools and the client runs them: see
`tool_plans.py` for how calls are handed out over several turns.

Any `model` name is accepted (the server has one planner, the one `GET /v1/models` lists);
sampling parameters (temperature, top_p, ...) are ignored: plans are decoded greedily.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import ServerSentEvent

from pocketagent.agent.events import FinalAnswer, PlanReady
from pocketagent.errors import ChatRequestError, PocketAgentError
from pocketagent.server.agent_api import RunStreamResponse
from pocketagent.server.runtime import RunState, ServerRuntime
from pocketagent.server.tool_plans import (
    ClientTools,
    Conversation,
    ToolCall,
    ToolPlan,
    client_tools,
    missing_results,
    plan_checked,
    read_conversation,
)

router = APIRouter()


class ChatBody(BaseModel):
    """The fields of a chat-completions request the server reads (others are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    model: str = ""
    messages: list[dict[str, Any]] = Field(min_length=1)
    tools: list[dict[str, Any]] | None = None
    stream: bool = False


@dataclass
class Reply:
    """One assistant turn: content, or tool calls; and what planning it cost."""

    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"

    def count(self, ready: PlanReady) -> None:
        self.prompt_tokens += ready.stats.prompt_tokens
        self.completion_tokens += ready.stats.completion_tokens

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        return message

    def usage(self) -> dict[str, int]:
        total = self.prompt_tokens + self.completion_tokens
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens, "total_tokens": total}


class Completion:
    """The envelope of one response: id, timestamps, model; builds whole responses and stream chunks."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = model

    def response(self, reply: Reply) -> dict[str, Any]:
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": reply.message(), "finish_reason": reply.finish_reason}],
            "usage": reply.usage(),
        }  # fmt: skip

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> ServerSentEvent:
        data = {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }  # fmt: skip
        return ServerSentEvent(data=json.dumps(data, ensure_ascii=False))

    def reply_chunks(self, reply: Reply) -> list[ServerSentEvent]:
        """A whole reply as stream chunks: its content word by word, or its tool calls, then the finish."""
        chunks = []
        if reply.tool_calls:
            deltas = [{"index": i, **call.to_dict()} for i, call in enumerate(reply.tool_calls)]
            chunks.append(self.chunk({"tool_calls": deltas}))
        else:
            chunks += [self.chunk({"content": word}) for word in re.findall(r"\s*\S+", reply.content or "")]
        chunks.append(self.chunk({}, reply.finish_reason))
        return chunks


@router.get("/v1/models", tags=["openai"])
async def list_models(request: Request) -> dict[str, Any]:
    """The planner model (the only one; its id is what responses name as `model`)."""
    runtime: ServerRuntime = request.app.state.runtime
    model = {"id": runtime.model_id, "object": "model", "created": runtime.created, "owned_by": "pocketagent"}
    return {"object": "list", "data": [model]}


@router.post("/v1/chat/completions", tags=["openai"], response_model=None)
async def chat_completions(body: ChatBody, request: Request) -> dict[str, Any] | RunStreamResponse:
    """OpenAI chat completions: the agent's answer, or `tool_calls` over the request's own `tools`."""
    runtime: ServerRuntime = request.app.state.runtime
    conversation = read_conversation(body.messages)
    tools = client_tools(body.tools) if body.tools else None
    completion = Completion(runtime.model_id)
    run = runtime.start_run(conversation.request, "server")
    now = runtime.settings.current_time()
    if tools is not None:
        # The whole turn is planned before anything is sent, streaming or not: a call sent early
        # could not be taken back if the plan guard rejected the plan, and a bad turn is a plain 400.
        # A plan over client tools is not an agent run: it is not logged to the history.
        try:
            reply = await _tool_turn(runtime, conversation, tools, now)
        finally:
            runtime.finish_run(run, record=False)
        if body.stream:
            return RunStreamResponse(_replay(completion, reply), on_close=lambda: None, sep="\n")
        return completion.response(reply)
    if body.stream:
        chunks = _streamed_agent_turn(runtime, run, now, completion)
        return RunStreamResponse(chunks, on_close=lambda: runtime.finish_run(run), sep="\n")
    try:
        reply = await _agent_turn(runtime, run, now)
    finally:
        runtime.finish_run(run)
    return completion.response(reply)


async def _replay(completion: Completion, reply: Reply) -> AsyncIterator[ServerSentEvent]:
    yield completion.chunk({"role": "assistant", "content": ""})
    for chunk in completion.reply_chunks(reply):
        yield chunk
    yield ServerSentEvent(data="[DONE]")


async def _streamed_agent_turn(
    runtime: ServerRuntime, run: RunState, now: datetime, completion: Completion
) -> AsyncIterator[ServerSentEvent]:
    """The agent's answer as a stream. The role goes out at once; closing the stream cancels the run."""
    yield completion.chunk({"role": "assistant", "content": ""})
    try:
        reply = await _agent_turn(runtime, run, now)
    except PocketAgentError as exc:
        error = {"message": str(exc), "type": "server_error", "code": 500}
        yield ServerSentEvent(data=json.dumps({"error": error}, ensure_ascii=False))
        return
    for chunk in completion.reply_chunks(reply):
        yield chunk
    yield ServerSentEvent(data="[DONE]")


async def _agent_turn(runtime: ServerRuntime, run: RunState, now: datetime) -> Reply:
    """Run the agent on the request; the reply is its final answer (nobody can confirm here)."""
    reply = Reply()
    agent = runtime.agent_for(run.dry_run)
    try:
        async with contextlib.aclosing(agent.run(run.request, now)) as events:  # type: ignore[type-var]
            async for event in events:
                run.add(event)
                if isinstance(event, PlanReady):
                    reply.count(event)
    except PocketAgentError as exc:
        run.fail(str(exc))
        raise
    answers = [event.answer for event in run.events if isinstance(event, FinalAnswer)]
    reply.content = answers[-1] if answers else ""
    return reply


async def _tool_turn(runtime: ServerRuntime, conversation: Conversation, tools: ClientTools, now: datetime) -> Reply:
    """The next assistant turn over the client's tools: the calls now ready, or the final content."""
    reply = Reply()
    planner = runtime.client_planner(tools)
    store = runtime.tool_plans
    replans = runtime.settings.max_replans
    stored: ToolPlan | None = None
    if conversation.plan_id is not None:
        stored = store.get(conversation.plan_id, tools, conversation.request)
    if stored is None:
        ready = await plan_checked(planner, conversation.request, now, replans)
        reply.count(ready)
        if ready.plan is None:
            if conversation.plan_id is not None:
                raise ChatRequestError(
                    f"this server no longer has plan {conversation.plan_id} and could not make it again "
                    f"({ready.error}); send the user's message again without the tool calls"
                )
            reply.content = f"Sorry, I could not make a valid plan for this request ({ready.error})."
            return reply
        stored = store.new(conversation.request, tools, ready.plan, conversation.plan_id)
    if not stored.matches(conversation.called, tools):
        raise ChatRequestError(
            "the tool calls in the messages are not this conversation's plan (the server planned again and "
            "got a different plan, or the calls were changed); send the user's message again without them"
        )
    missing = missing_results(stored, conversation)
    if missing:
        raise ChatRequestError(f"no tool result for {', '.join(missing)}: send one 'tool' message per call")
    reply.tool_calls = stored.ready_calls(conversation.results, tools)
    if not reply.tool_calls:
        reply.content = stored.answer(conversation.results)
    return reply
