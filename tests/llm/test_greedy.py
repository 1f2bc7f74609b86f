"""The greedy decoder (llm/greedy.py): the same text as llama-cpp-python's own sampler, faster.

Model tests run the real packaged SmolLM2-135M; the stop-string helpers are checked with
hypothesis against a plain definition.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.llm.base import GenerationOptions, Message
from pocketagent.llm.greedy import _first_stop, _partial_stop_length
from pocketagent.llm.llamacpp import LlamaCppBackend
from pocketagent.tools import builtin_registry

# A grammar the untuned model would never follow on its own: most tokens need the full mask.
FORCED = 'root ::= "zebra " [0-9]+ " " ("yes" | "no")'
PLAN_LINE = 'root ::= "1. " [a-z_]+ "(" [^)\\n]* ")"'


@pytest.fixture(scope="module")
def backend(default_model_path: Path) -> Iterator[LlamaCppBackend]:
    loaded = LlamaCppBackend(default_model_path, n_ctx=2048, n_threads=2, n_batch=256, seed=7)
    yield loaded
    loaded.close()


def _reference(backend: LlamaCppBackend, messages: list[Message], options: GenerationOptions) -> str:
    """What llama-cpp-python's create_completion (its full-vocabulary grammar sampler) generates."""
    llm: Any = backend._llm
    tokens = backend.tokenize(backend.format_prompt(messages))
    grammar = backend._compiled_grammar(options.grammar) if options.grammar else None
    stop = [*options.stop, *backend._formatter_stop()]
    result = llm.create_completion(
        tokens, max_tokens=options.max_tokens, temperature=0.0, seed=options.seed, stop=stop, grammar=grammar
    )
    return str(result["choices"][0]["text"])


@pytest.mark.model
@pytest.mark.parametrize(
    ("request_text", "grammar", "stop"),
    [
        ("Write a short poem about the sea.", None, ()),
        ("Write a short poem about the sea.", FORCED, ()),
        ("Call the tool that texts Ana.", PLAN_LINE, ()),
        ("List three fruits, one per line.", None, ("\n\n", "3.")),
    ],
)
def test_same_text_as_llama_cpp_pythons_sampler(
    backend: LlamaCppBackend, request_text: str, grammar: str | None, stop: tuple[str, ...]
) -> None:
    messages = [Message("user", request_text)]
    options = GenerationOptions(max_tokens=40, temperature=0.0, seed=7, grammar=grammar, stop=stop)
    ours = backend.complete(messages, options).text
    assert ours == _reference(backend, messages, options)
    assert ours.strip()


@pytest.mark.model
def test_a_refused_favourite_token_falls_back_to_the_full_grammar_mask(backend: LlamaCppBackend) -> None:
    before = backend._greedy.full_passes
    text = backend.complete([Message("user", "Name a colour.")], GenerationOptions(max_tokens=12, grammar=FORCED)).text
    assert text.startswith("zebra ")
    assert backend._greedy.full_passes > before


@pytest.mark.model
def test_planner_output_is_unchanged_by_the_decoder(backend: LlamaCppBackend) -> None:
    """A real plan: the planner's grammar through our decoder equals llama-cpp-python's."""
    from datetime import datetime

    query, now = "text Rosalind that the keys are under the mat", datetime(2026, 11, 23, 10)
    planner = Planner(backend, builtin_registry(), PlannerConfig(max_tokens=120, grammar=True))
    selection = planner.select(query)
    messages = planner.messages(query, now, selection=selection)
    options = planner.request_options(selection, query, now)
    assert backend.complete(messages, options).text == _reference(backend, messages, options)


STOPS = st.lists(st.text("ab(", min_size=1, max_size=4), max_size=3)


@given(st.text("ab(", max_size=12), STOPS)
def test_partial_stop_length_is_the_longest_held_back_start(text: str, stops: list[str]) -> None:
    expected = max(
        (n for s in stops for n in range(1, len(s)) if n <= len(text) and text.endswith(s[:n])),
        default=0,
    )
    assert _partial_stop_length(text, stops) == expected


@given(st.text("ab(", max_size=12), STOPS, st.integers(0, 12))
def test_first_stop_is_the_earliest_match_at_or_after_start(text: str, stops: list[str], start: int) -> None:
    found = _first_stop(text, stops, start)
    matches = [i for i in range(start, len(text)) for s in stops if text.startswith(s, i)]
    assert found == (min(matches) if matches else None)
