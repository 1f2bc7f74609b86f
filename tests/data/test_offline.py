"""The offline generator end to end: valid, diverse, reproducible, no leakage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pocketagent.data.card import graph_shape, query_template
from pocketagent.data.checks import DatasetChecker, ExampleChecker, split_leaks
from pocketagent.data.dedup import NearDuplicateIndex
from pocketagent.data.example import Example
from pocketagent.data.formats import read_jsonl
from pocketagent.data.generate.offline import SHAPE_BUCKETS, OfflineGenerator, generate_offline, parse_shape_mix
from pocketagent.data.pipeline import write_dataset
from pocketagent.data.splits import GenerationError, bucket_quotas
from pocketagent.errors import ConfigError
from pocketagent.plan.language import parse_plan
from pocketagent.tools.builtin import builtin_registry

SIZES = {"train": 400, "val": 60, "test": 60}


@pytest.fixture(scope="module")
def run():
    return generate_offline(SIZES, seed=7)


def test_sizes_shape_mix_and_ids(run) -> None:
    assert {k: len(v) for k, v in run.splits.items()} == SIZES
    shares = {label: share for label, _low, _high, share in SHAPE_BUCKETS}
    assert shares == {"1": 0.20, "2": 0.28, "3-6": 0.38, "7+": 0.14}
    remainder = Counter(bucket_quotas(sum(SIZES.values()), shares))
    for name, examples in run.splits.items():
        assert [e.id for e in examples] == [f"{name}-{i:05d}" for i in range(1, len(examples) + 1)]
        counts = Counter(m["bucket"] for m in run.metas[name])
        if name != "train":  # every split but the first gets the shape mix exactly
            assert counts == bucket_quotas(len(examples), shares)
            remainder -= counts
    assert Counter(m["bucket"] for m in run.metas["train"]) == remainder  # train takes what is left


def test_every_example_passes_the_checks_and_has_consistent_fields(run) -> None:
    checker = ExampleChecker(builtin_registry())
    for examples in run.splits.values():
        for example in examples:
            assert checker.check(example) is None, example
            plan = parse_plan(example.plan)
            assert plan.render() == example.plan  # canonical rendering, never hand-formatted
            assert list(example.tools) == list(dict.fromkeys(a.tool for a in plan.tool_actions))


def test_no_duplicates_and_no_leaks_between_splits(run) -> None:
    report = DatasetChecker(builtin_registry()).run(e for v in run.splits.values() for e in v)
    assert report.rejected == []
    assert split_leaks(run.splits) == []


def test_diversity_of_what_is_generated(run) -> None:
    examples = [e for v in run.splits.values() for e in v]
    nows = {e.now for e in examples}
    assert len(nows) > len(examples) * 0.8
    assert len({e.now[:10] for e in examples}) > 300
    tools = Counter(t for e in examples for t in e.tools)
    assert set(tools) == set(builtin_registry().names())
    shapes = Counter(graph_shape(parse_plan(e.plan)) for e in examples)
    assert {"single call", "chain", "independent calls", "fan-in"} <= set(shapes)
    templates = Counter(query_template(e.query, parse_plan(e.plan)) for e in examples)
    assert templates.most_common(1)[0][1] / len(examples) < 0.05
    registers = Counter(m["register"] for v in run.metas.values() for m in v)
    assert len(registers) == 6
    assert any(not e.query.isascii() for e in examples)
    assert any(len(parse_plan(e.plan).tool_actions) >= 7 for e in examples)


def test_same_seed_gives_byte_identical_files_for_any_worker_count(tmp_path: Path) -> None:
    sizes = {"train": 120, "val": 20, "test": 20}
    write_dataset(tmp_path / "a", generate_offline(sizes, seed=3, command="x"))
    write_dataset(tmp_path / "b", generate_offline(sizes, seed=3, workers=2, command="x"))
    write_dataset(tmp_path / "c", generate_offline(sizes, seed=4, command="x"))
    for name in ("train.jsonl", "val.jsonl", "test.jsonl", "card.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "train.jsonl").read_bytes() != (tmp_path / "c" / "train.jsonl").read_bytes()
    lines = (tmp_path / "a" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert list(json.loads(lines[0])) == ["id", "query", "plan", "now", "tools"]
    assert len(read_jsonl(tmp_path / "a" / "val.jsonl")) == 20


def test_holdout_requests_never_appear(tmp_path: Path) -> None:
    # Hold out requests the generator is known to make; they must be rejected as leaks.
    made = [c.example.query for c in OfflineGenerator().chunk(seed=11, index=0)[:30]]
    run = generate_offline({"train": 200, "val": 20, "test": 20}, seed=11, holdout_queries=made)
    assert run.card.rejections.get("holdout_leak", 0) >= 1
    index = NearDuplicateIndex(0.8)
    for query in made:
        index.add(query)
    assert all(index.find(e.query) is None for v in run.splits.values() for e in v)


def test_card_reports_the_figures(run) -> None:
    from pocketagent.data.card import render_card

    card = render_card(run.card)
    for heading in ("## Splits", "## Plan shapes", "## Tools", "## Lexical diversity", "## Registers", "## Checks"):
        assert heading in card
    assert "distinct-3" in card and "top-10 template share" in card and "get_zoom_meeting_link" in card


def test_impossible_request_fails_with_a_clear_error() -> None:
    with pytest.raises(GenerationError, match="ran out of candidates"):
        generate_offline({"train": 1000, "val": 0, "test": 0}, seed=1, max_candidates_factor=0)


def test_example_round_trips_through_dict() -> None:
    example = Example(
        "a",
        "map paris",
        '1. maps_open_location("Paris")\n2. join()<END_OF_PLAN>',
        "2026-01-01 10:00:00",
        ("maps_open_location",),
    )
    assert Example.from_dict(example.to_dict()) == example


def order_coffee(size: str, shop: str) -> str:
    """Orders a coffee for pickup.

    Args:
        size: small, medium or large.
        shop: the coffee shop.
    """
    return f"{size} at {shop}"


def test_a_user_tool_set_brings_its_own_scenarios() -> None:
    from pocketagent.data.generate.scenarios import ScenarioSet
    from pocketagent.data.generate.scene import Scene
    from pocketagent.tools.registry import ToolRegistry

    registry = ToolRegistry()
    registry.register(order_coffee)
    shops = [
        f"Café {name}"
        for name in ["Alba", "Brisa", "Cumbre", "Duna", "Eco", "Faro", "Gema", "Halo", "Isla", "Jade", "Kora", "Luna"]
    ]

    def coffee(scene: Scene) -> str:
        size, shop = scene.rng.choice(["small", "medium", "large"]), scene.rng.choice(shops)
        scene.keep(shop)
        scene.builder.call("order_coffee", size, shop)
        return scene.rng.choice([f"order a {size} coffee from {shop}", f"get me a {size} coffee at {shop}"])

    generator = OfflineGenerator(
        ScenarioSet({"coffee": (coffee, 1.0)}, small=frozenset({"coffee"})), registry, buckets=(("1", 1, 1, 1.0),)
    )
    run = generate_offline({"train": 20, "val": 3, "test": 3}, seed=2, generator=generator, workers=2)
    examples = [e for v in run.splits.values() for e in v]
    assert len(examples) == 26
    assert all(e.tools == ("order_coffee",) for e in examples)
    assert all(parse_plan(e.plan).tool_actions[0].args[1] in shops for e in examples)


def test_shape_mix_sets_the_bucket_shares() -> None:
    buckets = parse_shape_mix("1=0.1, 7+=0.3,3-6=0.6")
    assert [label for label, *_ in buckets] == [label for label, *_ in SHAPE_BUCKETS]
    assert {label: share for label, _low, _high, share in buckets} == {"1": 0.1, "2": 0.0, "3-6": 0.6, "7+": 0.3}
    run = generate_offline({"train": 60}, 3, generator=OfflineGenerator(buckets=buckets))
    sizes = Counter(len(parse_plan(e.plan).tool_actions) for e in run.splits["train"])
    assert sizes[2] == 0 and sum(n for size, n in sizes.items() if size >= 7) == 18
    for bad in ("1=x", "8=0.5", "1", "1=-1", "1=0,2=0", "1=nan"):
        with pytest.raises(ConfigError, match="--shape-mix"):
            parse_shape_mix(bad)
