"""The FastAPI app of `pocketagent serve`: routes, the access guard, errors as JSON.

Every error a client can cause is a JSON body in the OpenAI shape,
`{"error": {"message": "...", "type": "...", "code": <status>}}`, so the official `openai`
client and a browser both show the message: 401 (missing or wrong bearer token), 413 (body over
`max_request_bytes`), 422 (a malformed request), 429 (`max_concurrent_runs` in progress), 404
(an unknown confirmation), 400 (a chat request the server cannot act on).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pocketagent import __version__
from pocketagent.errors import ConfigError, PocketAgentError, ServerError
from pocketagent.server.agent_api import router as agent_router
from pocketagent.server.audio_api import router as audio_router
from pocketagent.server.openai_api import router as openai_router
from pocketagent.server.runtime import ServerRuntime
from pocketagent.server.ui_api import install_ui, is_public_path
from pocketagent.settings import Settings

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def error_body(message: str, status: int, kind: str) -> dict[str, Any]:
    """The JSON of every error response (the OpenAI API's error shape)."""
    return {"error": {"message": message, "type": kind, "code": status}}


def _error_response(message: str, status: int, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, status, kind), status_code=status, headers=headers)


class AccessGuard:
    """ASGI middleware: the bearer token (401) and the request-size limit (413), before any route runs.

    A body without Content-Length (chunked) is counted as it is read; going over the limit then
    ends the request with 413 too. `public(method, path)` names what needs no token (the web UI's
    page and static files, which hold no data).
    """

    def __init__(
        self, app: ASGIApp, token: str | None, max_bytes: int, public: Callable[[str, str], bool] | None = None
    ) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None
        self.max_bytes = max_bytes
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if self.public is not None and self.public(scope.get("method", ""), scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if self.expected is not None and not hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
            response = _error_response(
                "missing or wrong API token: send the header 'Authorization: Bearer <api_token>'",
                401, "authentication_error", {"WWW-Authenticate": "Bearer"},
            )  # fmt: skip
            await response(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the route's body read; the HTTPException handler answers 413.
                    raise HTTPException(413, self._too_large_message())
            return message

        await self.app(scope, counted, send)

    def _too_large_message(self) -> str:
        return f"request body too large: the limit is {self.max_bytes} bytes (max_request_bytes)"

    def _too_large(self) -> JSONResponse:
        return _error_response(self._too_large_message(), 413, "request_too_large")


def create_app(settings: Settings) -> FastAPI:
    """The server app for `settings`: loads the model now, so a bad model fails before binding.

    Raises `ConfigError` when `serve_host` is not a loopback address and no `api_token` is set:
    anyone on the network could otherwise read the user's data through the agent.
    """
    token = settings.api_token.get_secret_value() if settings.api_token is not None else None
    if not is_loopback(settings.serve_host) and not token:
        raise ConfigError(
            f"serving on {settings.serve_host} (not a loopback address) needs an API token: "
            "pass --token or set POCKETAGENT_API_TOKEN"
        )
    runtime = ServerRuntime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await runtime.drain()
            runtime.close()

    app = FastAPI(
        title="pocketagent",
        version=__version__,
        summary="A small local model plans tool calls and runs them on your own data.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.include_router(agent_router)
    app.include_router(openai_router)
    app.include_router(audio_router)  # POST /v1/audio/transcriptions (voice input)
    install_ui(app)  # GET / (the web UI), /static, /v1/runs, /v1/drafts
    app.add_middleware(AccessGuard, token=token, max_bytes=settings.max_request_bytes, public=is_public_path)

    @app.exception_handler(ServerError)
    async def server_error(request: Request, exc: ServerError) -> JSONResponse:
        kind = {429: "rate_limit_error", 404: "not_found_error"}.get(exc.status, "invalid_request_error")
        headers = {"Retry-After": "1"} if exc.status == 429 else None
        return _error_response(str(exc), exc.status, kind, headers)

    @app.exception_handler(PocketAgentError)
    async def run_error(request: Request, exc: PocketAgentError) -> JSONResponse:
        # The model or the data failed (not the request): one clear line, no traceback.
        return _error_response(str(exc), 500, "server_error")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kind = "request_too_large" if exc.status_code == 413 else "invalid_request_error"
        return _error_response(str(exc.detail), exc.status_code, kind)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()) if p != 'body') or 'body'}: {err.get('msg', 'invalid')}"
            for err in exc.errors()
        )
        return _error_response(f"invalid request: {problems}", 422, "invalid_request_error")

    return app
