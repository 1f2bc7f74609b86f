"""Sub-agent fixtures: the real default model (few, short calls) and a scripted backend for exact cases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fakes import ScriptedLLM
from pocketagent.llm.base import Message


@pytest.fixture
def scripted() -> Callable[[Callable[[list[Message]], str]], ScriptedLLM]:
    return ScriptedLLM


@pytest.fixture(scope="session")
def small_model(default_model_path):
    """SmolLM2-135M through the project's llama.cpp backend, loaded once."""
    from pocketagent.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(default_model_path, n_ctx=2048, n_threads=1, seed=0)
    yield backend
    backend.close()
