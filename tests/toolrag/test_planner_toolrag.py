"""The planner with Tool RAG: only selected tools in prompt and grammar, retrieved examples as turns."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from fakes import ScriptedLLM
from pocketagent.agent.build import build_planner
from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.agent.prompts import RULES, planner_messages, rules_for, system_prompt
from pocketagent.llm.base import Message
from pocketagent.plan.grammar import build_grammar, grammar_for_request
from pocketagent.settings import load_settings
from pocketagent.toolrag.embedder import DATA_DIR, default_embedder
from pocketagent.toolrag.selector import AllToolsSelector, ToolRagConfig, ToolRagSelector
from pocketagent.tools import builtin_registry

NOW = datetime(2026, 11, 23, 10, 0, 0)
REQUEST = "text Ana and Bo that I'm running 10 min late"
PLAN = '1. get_phone_number("Ana")\n2. join()<END_OF_PLAN>'


@pytest.fixture(scope="module")
def rag(session_cache_dir: Path) -> ToolRagSelector:
    config = ToolRagConfig(DATA_DIR, examples=2, cache_dir=session_cache_dir / "pocketagent" / "toolrag")
    return ToolRagSelector(config, default_embedder())


def test_prompt_and_grammar_hold_only_the_selected_tools(rag: ToolRagSelector) -> None:
    registry = builtin_registry()
    backend = ScriptedLLM(PLAN)
    planner = Planner(backend, registry, PlannerConfig(grammar=True), selector=rag)
    ready = asyncio.run(planner.stream_plan(REQUEST, NOW, emit=lambda e: None, on_action=lambda a: None))
    assert ready.error is None
    selection = rag.select(REQUEST, registry)
    assert 0 < len(selection.tools) < len(registry)
    messages, options = backend.prompts[0], backend.options[0]
    system = messages[0].content
    for tool in registry:
        assert (tool.signature_text() in system) == (tool.name in selection.tools), tool.name
    # The selected tools' grammar, with the request's words and days for verbatim arguments and dates.
    subset = build_grammar(list(registry.subset(selection.tools)), copy_from_request=True)
    assert options.grammar == grammar_for_request(subset, REQUEST, NOW)
    assert "summarize_pdf" not in options.grammar


def test_retrieved_examples_are_the_example_turns(rag: ToolRagSelector) -> None:
    planner = Planner(ScriptedLLM(PLAN), builtin_registry(), PlannerConfig(), selector=rag)
    selection = planner.select(REQUEST)
    messages = planner.messages(REQUEST, NOW, selection=selection)
    assert selection.examples and len(messages) == 2 + 2 * len(selection.examples)
    turns = messages[1:-1]
    for index, example in enumerate(selection.examples):
        assert example.query in turns[2 * index].content
        assert turns[2 * index + 1] == Message("assistant", example.plan)
    assert messages[-1].content.endswith(f"Request: {REQUEST}")


def test_same_selection_gives_a_byte_identical_system_prompt(rag: ToolRagSelector) -> None:
    planner = Planner(ScriptedLLM(PLAN), builtin_registry(), PlannerConfig(), selector=rag)
    first = planner.messages("text Ana that I'm late", NOW)
    second = planner.messages("text Bo that I'm late", NOW)
    assert planner.select("text Ana that I'm late").tools == planner.select("text Bo that I'm late").tools
    assert first[0] == second[0]


def test_without_tool_rag_the_prompt_is_unchanged() -> None:
    registry = builtin_registry()
    planner = Planner(ScriptedLLM(PLAN), registry, PlannerConfig(examples=4))
    assert isinstance(planner.selector, AllToolsSelector)
    assert planner.messages(REQUEST, NOW) == planner_messages(REQUEST, NOW, registry, planner.examples)
    assert planner.request_options(planner.select(REQUEST)) == planner.options()
    assert system_prompt(registry, registry.names()) == system_prompt(registry)
    assert rules_for(registry, registry.names()) == RULES


def test_rules_about_unselected_tools_are_dropped() -> None:
    registry = builtin_registry()
    rules = rules_for(registry, ["create_note"])
    assert "send_sms" not in rules and "get_zoom_meeting_link" not in rules
    assert "End with join()<END_OF_PLAN>." in rules
    sms = rules_for(registry, ["get_phone_number", "send_sms"])
    assert "call get_phone_number once per person" in sms and "One send_sms call" in sms
    assert "get_phone_number" not in rules_for(registry, ["send_sms"])  # a tool the model cannot call


def test_build_planner_follows_the_setting() -> None:
    backend = ScriptedLLM(PLAN)
    # Tool RAG serves the full prompt (the bare model); the fine-tuned default's compact prompt lists every tool.
    bare = load_settings(lora="none")
    assert isinstance(build_planner(bare, backend=backend).selector, ToolRagSelector)
    assert isinstance(build_planner(load_settings(lora="none", tool_rag=False), backend=backend).selector, AllToolsSelector)
    assert isinstance(build_planner(load_settings(), backend=backend).selector, AllToolsSelector)
    planner = build_planner(load_settings(lora="none", tool_rag_examples=1), backend=backend)
    assert planner.selector.config.examples == 1


def test_tool_rag_grammar_narrows_the_compact_planners_grammar_not_its_prompt() -> None:
    backend = ScriptedLLM(PLAN)
    query = "walking directions to the train station"
    plain = build_planner(load_settings(), backend=backend)
    narrowed = build_planner(load_settings(tool_rag_grammar=True), backend=backend)
    assert isinstance(narrowed.selector, ToolRagSelector) and narrowed.selector.config.examples == 0
    selection = narrowed.select(query)
    assert "maps_show_directions" in selection.tools and "send_sms" not in selection.tools
    assert narrowed.messages(query, NOW, selection=selection) == plain.messages(query, NOW)  # same cached prompt
    grammar = narrowed.request_options(selection, query, NOW).grammar
    assert grammar is not None and '"maps_show_directions("' in grammar and '"send_sms("' not in grammar


@pytest.mark.model
def test_real_model_plans_with_only_the_selected_tools(default_model_path: Path, rag: ToolRagSelector) -> None:
    from pocketagent.llm.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(default_model_path, n_ctx=2048, n_threads=2)
    registry = builtin_registry()
    planner = Planner(backend, registry, PlannerConfig(max_tokens=120), selector=rag)
    ready = planner.plan("walking directions to the train station", NOW)
    selected = set(rag.select("walking directions to the train station", registry).tools)
    assert ready.plan is not None, ready.error
    assert {action.tool for action in ready.plan.tool_actions} <= selected
    assert ready.stats.prompt_tokens < 900  # the full prompt is ~1,600 tokens
