"""`pocketagent serve`: the agent over HTTP (SSE event stream, confirmations, OpenAI-compatible API).

Wire into the main app with `register(app)`. The model is loaded before the port is bound, so
a missing model or a refused bind ends with one line and exit status 2 (never a traceback).
"""

from __future__ import annotations

import socket
from typing import Annotated, Optional

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.errors import ConfigError


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, so a refused bind is a clear message (bad --host/--port: exit 2), not uvicorn's exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


@reports_errors
def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to bind (default 127.0.0.1; others need a token).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", "-p", help="Port (default 8765; 0 picks a free one).")] = None,
    token: Annotated[
        Optional[str], typer.Option("--token", help="Bearer token clients must send (or POCKETAGENT_API_TOKEN).")
    ] = None,
    confirm: Annotated[
        Optional[str], typer.Option("--confirm", help="never | side_effects: ask the client before any action that writes.")
    ] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="GGUF path or alias (llamacpp).")] = None,
    lora: Annotated[Optional[str], typer.Option("--lora", help="auto | none | a GGUF LoRA adapter path.")] = None,
    backend: Annotated[Optional[str], typer.Option("--backend", "-b", help="LLM backend: llamacpp or openai.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every request.")] = False,
) -> None:
    """Serve the agent over HTTP: /v1/agent/run (SSE), /v1/agent/confirm, /v1/chat/completions, /v1/models."""
    import uvicorn

    from pocketagent.server import create_app
    from pocketagent.settings import load_settings

    settings = load_settings(
        serve_host=host, serve_port=port, api_token=token, confirm=confirm, model=model, lora=lora,
        backend=backend, verbose=verbose or None,
    )  # fmt: skip
    app = create_app(settings)
    sock = _listen(settings.serve_host, settings.serve_port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{settings.serve_host}]" if ":" in settings.serve_host else settings.serve_host
    auth = "bearer token required" if settings.api_token is not None else "no token (loopback only)"
    typer.echo(
        f"pocketagent serving on http://{shown_host}:{bound_port}  model {app.state.runtime.model_id}; {auth}; "
        f"confirm = {settings.confirm}. Ctrl-C stops.",
        err=True,
    )
    config = uvicorn.Config(app, log_level="info" if verbose else "warning", timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])


def register(app: typer.Typer) -> None:
    """Add `pocketagent serve` to the main app."""
    app.command("serve")(serve)
