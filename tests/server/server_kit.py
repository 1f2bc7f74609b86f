"""Helpers of the server tests: the scripted planner backend registered, uvicorn on loopback, an SSE reader.

Imported by name (tests/server is put on sys.path by its conftest), like `server_tools`.
"""

from __future__ import annotations

import contextlib
import json
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

from fakes import ScriptedLLM
from pocketagent.server.runtime import ServerRuntime
from pocketagent.settings import Settings

SCRIPTED = "scripted-plans"
NOW = "2026-11-23 10:00:00"
START_TIMEOUT_S = 30.0


def register_scripted_plans(monkeypatch: pytest.MonkeyPatch) -> ScriptedLLM:
    """The shared scripted backend (tests/fakes.py), registered as `backend = "scripted-plans"` for
    this test only: it answers each request with `plans[request]`, 5 characters a chunk.
    Tests the server's wiring, not plan quality."""
    from pocketagent import llm

    backend = ScriptedLLM(chunk_size=5)
    monkeypatch.setattr(llm, "_BACKENDS", dict(llm._BACKENDS))
    llm.register_backend(SCRIPTED, lambda settings: backend)
    return backend


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


@contextlib.contextmanager
def server_starter(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., LiveServer]]:
    """`start(**settings)` serves `create_app(make_settings(**settings))`; every server stops when the block ends."""
    from pocketagent.server import create_app

    with contextlib.ExitStack() as stack:

        def start(**overrides: Any) -> LiveServer:
            return stack.enter_context(live_server(create_app(make_settings(**overrides))))

        yield start


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
