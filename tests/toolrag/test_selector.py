"""Selectors with the real embedder and the packaged head: classifier, retrieval, fallback, registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketagent.errors import ConfigError
from pocketagent.toolrag.embedder import DATA_DIR, default_embedder
from pocketagent.toolrag.selector import (
    AllToolsSelector,
    ToolRagConfig,
    ToolRagSelector,
    create_selector,
    register_selector,
)
from pocketagent.tools import builtin_registry
from pocketagent.tools.registry import ToolRegistry


def get_weather(city: str) -> str:
    """Returns the current weather forecast for a city.

    Args:
        city: the city's name.
    """
    return "sunny"


def play_music(song: str) -> str:
    """Plays a song or playlist in the music app."""
    return "playing"


@pytest.fixture(scope="module")
def selector(session_cache_dir: Path) -> ToolRagSelector:
    """The packaged head and bank; the bank's embeddings are computed once per test session."""
    config = ToolRagConfig(DATA_DIR, examples=3, cache_dir=session_cache_dir / "pocketagent" / "toolrag")
    chosen = ToolRagSelector(config, default_embedder())
    chosen.load()
    return chosen


@pytest.fixture(scope="module")
def no_head(tmp_path_factory: pytest.TempPathFactory) -> ToolRagSelector:
    return ToolRagSelector(ToolRagConfig(tmp_path_factory.mktemp("no-head"), examples=3), default_embedder())


def with_user_tools() -> ToolRegistry:
    registry = builtin_registry()
    registry.register(get_weather)
    registry.register(play_music)
    return registry


def test_classifier_picks_the_needed_tools(selector: ToolRagSelector) -> None:
    selection = selector.select("text Ana and Bo that I'm running 10 min late", builtin_registry())
    assert selection.method == "toolrag"
    assert {"get_phone_number", "send_sms"} <= set(selection.tools)
    assert len(selection.tools) <= 4
    assert not {"maps_show_directions", "summarize_pdf", "create_note"} & set(selection.tools)


def test_compound_request_gets_every_part(selector: ToolRagSelector) -> None:
    query = "summarize the lease pdf, then get me walking directions to the bank and remind me to pay rent friday"
    tools = set(selector.select(query, builtin_registry()).tools)
    assert {"open_and_get_file_path", "summarize_pdf", "maps_show_directions", "create_reminder"} <= tools


def test_tools_keep_registry_order_and_examples_obey_the_subset_rule(selector: ToolRagSelector) -> None:
    registry = builtin_registry()
    for query in [
        "email Priya the Q3 report and set up a call with her friday at 2",
        "forward this to jo@acme.io and add 'buy oat milk' to my Groceries note",
        "zoom with Chen tomorrow 11am about hiring",
    ]:
        selection = selector.select(query, registry)
        assert list(selection.tools) == [name for name in registry.names() if name in selection.tools]
        assert selection.examples and len(selection.examples) <= 3
        for example in selection.examples:
            assert set(example.tools) <= set(selection.tools)
        assert list(selection.example_scores) == sorted(selection.example_scores)  # most similar last


def test_selection_is_deterministic(selector: ToolRagSelector) -> None:
    registry = builtin_registry()
    first = selector.select("remind me to renew my passport next monday at 9", registry)
    second = selector.select("remind me to renew my passport next monday at 9", registry)
    assert (first.tools, first.examples) == (second.tools, second.examples)


def test_user_tools_go_through_the_similarity_fallback(selector: ToolRagSelector) -> None:
    registry = with_user_tools()
    weather = selector.select("what's the weather in Lisbon tomorrow? text it to Ana", registry)
    assert {"get_weather", "send_sms"} <= set(weather.tools)
    assert "play_music" not in weather.tools
    plain = selector.select("text Ana that I'm running late", registry)
    assert not {"get_weather", "play_music"} & set(plain.tools)
    assert set(plain.scores) == set(registry.names())


def test_without_a_trained_head_everything_is_similarity(no_head: ToolRagSelector) -> None:
    registry = ToolRegistry()
    registry.register(get_weather)
    registry.register(play_music)
    selection = no_head.select("play some jazz please", registry)
    assert selection.method == "similarity"
    assert selection.tools == ("play_music",)
    assert selection.examples == ()  # no bank, no examples
    builtin = no_head.select("send an SMS to Bo saying hi", builtin_registry())
    assert "send_sms" in builtin.tools


def test_all_tools_selector_changes_nothing() -> None:
    registry = builtin_registry()
    selection = AllToolsSelector().select("anything", registry)
    assert selection.tools == tuple(registry.names()) and selection.examples is None


def test_selectors_are_registered_by_name(tmp_path: Path) -> None:
    assert isinstance(create_selector("all"), AllToolsSelector)
    assert isinstance(create_selector("toolrag", directory=tmp_path, examples=1), ToolRagSelector)
    register_selector("test-only", lambda **_: AllToolsSelector())
    assert isinstance(create_selector("test-only"), AllToolsSelector)
    with pytest.raises(ConfigError, match="unknown tool selector"):
        create_selector("nope")


def test_to_dict_lists_tools_and_example_ids(selector: ToolRagSelector) -> None:
    data = selector.select("walking directions to the train station", builtin_registry()).to_dict()
    assert "maps_show_directions" in data["tools"]
    assert data["examples"] and all(ex["id"].startswith("train-") for ex in data["examples"])
    assert data["select_ms"] >= 0
