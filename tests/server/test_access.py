"""Who may use the server and how much: the token rule (401), body size (413), concurrent runs (429)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import server_tools
from server_kit import run_stream, wait_until
from typer.testing import CliRunner

from pocketagent.cli.main import app as cli_app
from pocketagent.errors import ConfigError
from pocketagent.server import create_app, is_loopback

pytestmark = pytest.mark.server  # each test starts uvicorn on loopback

TOKEN = "s3cret-token"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses_are_recognised(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_other_addresses_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_a_non_loopback_bind_without_a_token_is_refused_before_loading_anything(make_settings) -> None:
    with pytest.raises(ConfigError, match=r"serving on 0\.0\.0\.0 \(not a loopback address\) needs an API token"):
        create_app(make_settings(serve_host="0.0.0.0"))


def test_serve_refuses_a_non_loopback_bind_without_a_token_in_one_line(scripted) -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--backend", "scripted-plans"])
    assert result.exit_code == 2
    assert "needs an API token: pass --token or set POCKETAGENT_API_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_serve_reports_a_bad_setting_or_a_taken_port_in_one_line(scripted) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli_app, ["serve", "--confirm", "sometimes", "--backend", "scripted-plans"])
    assert bad.exit_code == 2 and "confirm" in bad.output and "Traceback" not in bad.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        busy = runner.invoke(cli_app, ["serve", "--port", port, "--backend", "scripted-plans", "--lora", "none"])
    assert busy.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in busy.output and "Traceback" not in busy.output


@pytest.fixture
def guarded(serve):  # type: ignore[no-untyped-def]
    """An app created for 0.0.0.0 with a token (the test server itself listens on 127.0.0.1)."""
    return serve(serve_host="0.0.0.0", api_token=TOKEN)


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_requests_without_the_bearer_token_get_401(guarded, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/agent/run"), ("POST", "/v1/chat/completions")):
        reply = httpx.request(method, f"{guarded.url}{path}", headers=headers, json={"request": "hi"})
        assert reply.status_code == 401
        assert reply.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in reply.json()["error"]["message"]


def test_the_right_token_is_let_in(guarded, scripted) -> None:
    scripted.plans["look up Ana"] = '1. lookup("Ana")\n2. join()<END_OF_PLAN>'
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{guarded.url}/v1/models", headers=headers).status_code == 200
    events = run_stream(guarded.url, {"request": "look up Ana"}, headers=headers)
    assert events[-1]["answer"] == "ana@example.org."


def test_a_body_over_the_limit_is_413(serve) -> None:
    server = serve(max_request_bytes=2048)
    reply = httpx.post(f"{server.url}/v1/agent/run", json={"request": "x" * 5000})
    assert reply.status_code == 413
    assert reply.json()["error"]["message"] == "request body too large: the limit is 2048 bytes (max_request_bytes)"


def test_a_chunked_body_over_the_limit_is_413_too(serve) -> None:
    server = serve(max_request_bytes=2048)

    def body() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"request": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    reply = httpx.post(f"{server.url}/v1/agent/run", content=body(), headers={"Content-Type": "application/json"})
    assert reply.status_code == 413
    assert "the limit is 2048 bytes" in reply.json()["error"]["message"]


def test_runs_beyond_the_limit_get_429_and_the_slot_frees_when_a_run_ends(serve, scripted) -> None:
    scripted.plans["hold"] = '1. wait_for_gate("held")\n2. join()<END_OF_PLAN>'
    scripted.plans["look up Ana"] = '1. lookup("Ana")\n2. join()<END_OF_PLAN>'
    server = serve(max_concurrent_runs=1)
    held: list[dict] = []
    first = threading.Thread(target=lambda: held.extend(run_stream(server.url, {"request": "hold"})))
    first.start()
    wait_until(lambda: ("wait_for_gate", ("held",)) in server_tools.CALLS, "the first run to be inside its tool")

    for path, body in (
        ("/v1/agent/run", {"request": "look up Ana"}),
        ("/v1/chat/completions", {"model": "any", "messages": [{"role": "user", "content": "look up Ana"}]}),
    ):
        reply = httpx.post(f"{server.url}{path}", json=body)
        assert reply.status_code == 429
        assert reply.headers["retry-after"] == "1"
        assert "the server is busy: 1 runs are in progress (max_concurrent_runs)" in reply.json()["error"]["message"]

    server_tools.GATE.set()
    first.join(30)
    assert held[-1]["kind"] == "answer"
    wait_until(lambda: server.runtime.active_runs == 0, "the first run's slot to be freed")
    events = run_stream(server.url, {"request": "look up Ana"})
    assert events[-1]["answer"] == "ana@example.org."
