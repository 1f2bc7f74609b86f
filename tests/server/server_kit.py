"""Helpers of the server tests: a scripted planner backend, uvicorn on loopback, an SSE reader.

Imported by name (tests/server is put on sys.path by its conftest), like `server_tools`.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from pocketagent.llm.base import CancelToken, Chunk, GenerationOptions, LLMBackend, Message, Usage
from pocketagent.server.runtime import ServerRuntime

SCRIPTED = "scripted-plans"
NOW = "2026-11-23 10:00:00"
START_TIMEOUT_S = 30.0


class ScriptedPlans(LLMBackend):
    """Answers each request (the prompt's `Request: ...` line) with its scripted plan, in small chunks.

    Tests the server's wiring, not plan quality. An unscripted request gets a plan calling a tool
    that does not exist, so a test that forgot a script fails loudly.
    """

    name = SCRIPTED

    def __init__(self) -> None:
        self.plans: dict[str, str] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return "scripted"

    def stream(
        self, messages: list[Message], options: GenerationOptions = GenerationOptions(), cancel: CancelToken | None = None
    ) -> Iterator[Chunk]:
        found = re.search(r"^Request: (.*)$", messages[-1].content, re.MULTILINE)
        request = found.group(1).strip() if found else ""
        with self._lock:
            self.requests.append(request)
        plan = self.plans.get(request, '1. not_scripted("' + request + '")\n2. join()<END_OF_PLAN>')
        pieces = [plan[i : i + 5] for i in range(0, len(plan), 5)]
        for piece in pieces:
            if cancel is not None and cancel.cancelled:
                return
            yield Chunk(piece)
        yield Chunk("", Usage(prompt_tokens=len(messages[-1].content) // 4, completion_tokens=len(pieces)))


@dataclass
class LiveServer:
    url: str
    app: FastAPI

    @property
    def runtime(self) -> ServerRuntime:
        return self.app.state.runtime


@contextlib.contextmanager
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """Serve `app` with uvicorn in a thread on a free loopback port until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Parse a text/event-stream body: each message's JSON `data`, with its SSE `event` and `id` added."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in fields:
                event = json.loads(fields["data"])
                event["_event"], event["_id"] = fields.get("event"), fields.get("id")
                yield event
            fields = {}
        elif not line.startswith(":"):  # ":" lines are keep-alive comments
            name, _, value = line.partition(":")
            fields[name] = fields.get(name, "") + value.removeprefix(" ")


def run_stream(
    url: str,
    body: dict[str, Any],
    on_event: Callable[[dict[str, Any]], bool | None] | None = None,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """POST /v1/agent/run and collect its events; `on_event` returning True closes the stream there."""
    events: list[dict[str, Any]] = []
    with httpx.stream("POST", f"{url}/v1/agent/run", json=body, headers=headers, timeout=60) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in sse_events(response):
            events.append(event)
            if on_event is not None and on_event(event):
                break
    return events


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Poll `condition` (a wait for something to happen, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
