"""Fixtures for `pocketagent serve` tests: a scripted planner, the test tools, a real uvicorn on loopback.

Each test's server is the real app (`create_app`) served by uvicorn in a thread on a free
127.0.0.1 port; clients talk to it over HTTP (httpx, the official openai client). The planner's
backend is scripted by request text and registered by name, as any backend is.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# `plugins = ["server_tools"]` imports the module by name: the same module object the tests use.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import server_tools  # noqa: E402
from server_kit import NOW, SCRIPTED, LiveServer, register_scripted_plans, server_starter  # noqa: E402

from fakes import ScriptedLLM  # noqa: E402
from pocketagent.settings import Settings  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_tools() -> Iterator[None]:
    server_tools.reset()
    yield
    server_tools.GATE.set()  # never leave a tool thread waiting past its test


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedLLM:
    """The scripted backend, registered as `backend = "scripted-plans"` for this test only."""
    return register_scripted_plans(monkeypatch)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a scripted server: the test tools, no grammar or Tool RAG, history in tmp."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "backend": SCRIPTED, "plugins": ["server_tools"], "grammar": False, "tool_rag": False,
            "history_path": tmp_path / "history.sqlite", "now": NOW, "apps": "recorder",
        }  # fmt: skip
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def serve(make_settings: Callable[..., Settings], scripted: ScriptedLLM) -> Iterator[Callable[..., LiveServer]]:
    """`serve(**settings)` starts a scripted server for this test (stopped at its end)."""
    with server_starter(make_settings) as start:
        yield start
