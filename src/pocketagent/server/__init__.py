"""`pocketagent serve`: the agent over HTTP (an SSE event stream, confirmations) and an OpenAI-compatible API.

`create_app(settings)` builds the FastAPI app; docs/server.md describes the endpoints.
"""

from __future__ import annotations

from pocketagent.server.app import create_app, is_loopback

__all__ = ["create_app", "is_loopback"]
