"""The multi-label head: training, thresholds, storage, clause splitting (synthetic data, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketagent.errors import ToolRagError
from pocketagent.toolrag.classifier import (
    ToolClassifier,
    TrainConfig,
    choose_threshold,
    recall_precision,
    segments,
    select_mask,
    train_classifier,
)

TOOLS = ("alpha", "beta", "gamma")


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in 8 dims; tool j is needed when coordinate j is clearly positive."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = (x[:, :3] > 0.1).astype(np.float32)
    return x, y


@pytest.mark.parametrize("hidden", [0, 16])
def test_head_learns_a_multi_label_rule(hidden: int) -> None:
    x, y = synthetic(1500, seed=1)
    losses: list[float] = []
    config = TrainConfig(hidden=hidden, epochs=25, learning_rate=0.02)
    head = train_classifier(x, y, TOOLS, config, progress=lambda epoch, loss: losses.append(loss))
    assert len(losses) == 25 and losses[-1] < losses[0] * 0.5
    x_test, y_test = synthetic(500, seed=2)
    probs = head.predict_proba(x_test)
    assert probs.shape == (500, 3)
    accuracy = float(((probs >= 0.5) == y_test.astype(bool)).mean())
    assert accuracy > 0.93


def test_training_is_deterministic_for_a_seed() -> None:
    x, y = synthetic(300, seed=3)
    first = train_classifier(x, y, TOOLS, TrainConfig(hidden=8, epochs=3, seed=7))
    second = train_classifier(x, y, TOOLS, TrainConfig(hidden=8, epochs=3, seed=7))
    other = train_classifier(x, y, TOOLS, TrainConfig(hidden=8, epochs=3, seed=8))
    assert all(np.array_equal(first.weights[k], second.weights[k]) for k in first.weights)
    assert not np.array_equal(first.weights["w1"], other.weights["w1"])


def test_bad_training_shapes_are_a_typed_error() -> None:
    x, y = synthetic(10, seed=0)
    with pytest.raises(ToolRagError, match="shapes"):
        train_classifier(x, y[:, :2], TOOLS)


def test_threshold_is_the_largest_that_reaches_the_target_recall() -> None:
    x, y = synthetic(800, seed=4)
    head = train_classifier(x, y, TOOLS, TrainConfig(hidden=0, epochs=5))
    probs = head.predict_proba(x)
    for target in (0.8, 0.95, 0.99, 1.0):
        threshold = choose_threshold(probs, y, target)
        assert recall_precision(select_mask(probs, threshold), y)["recall"] >= target
        above = np.unique(probs[y.astype(bool)])
        above = above[above > threshold]
        if len(above):  # the next candidate up misses the target
            assert recall_precision(select_mask(probs, float(above.min())), y)["recall"] < target


def test_higher_recall_target_never_raises_the_threshold() -> None:
    x, y = synthetic(600, seed=5)
    probs = train_classifier(x, y, TOOLS, TrainConfig(hidden=0, epochs=3)).predict_proba(x)
    thresholds = [choose_threshold(probs, y, t) for t in (0.7, 0.9, 0.99)]
    assert thresholds == sorted(thresholds, reverse=True)


def test_choose_threshold_rejects_nonsense() -> None:
    probs = np.array([[0.2, 0.9]])
    with pytest.raises(ValueError):
        choose_threshold(probs, np.array([[1.0, 0.0]]), 0.0)
    with pytest.raises(ToolRagError):
        choose_threshold(probs, np.zeros((1, 2)), 0.9)


def test_selection_always_keeps_the_best_tool() -> None:
    probs = np.array([[0.01, 0.02, 0.03], [0.9, 0.8, 0.1]])
    mask = select_mask(probs, 0.5)
    assert mask.tolist() == [[False, False, True], [True, True, False]]
    head = ToolClassifier(TOOLS, {"w2": np.zeros((2, 3), np.float32), "b2": np.zeros(3, np.float32)}, 0.5)
    assert head.select(probs) == [["gamma"], ["alpha", "beta"]]


def test_recall_precision_figures() -> None:
    needed = np.array([[1, 1, 0], [0, 1, 0]], dtype=bool)
    selected = np.array([[1, 0, 1], [0, 1, 1]], dtype=bool)
    figures = recall_precision(selected, needed)
    assert figures["recall"] == pytest.approx(2 / 3)
    assert figures["precision"] == pytest.approx(2 / 4)
    assert figures["all_needed"] == pytest.approx(0.5)
    assert figures["mean_selected"] == pytest.approx(2.0)


def test_save_load_round_trip(tmp_path: Path) -> None:
    x, y = synthetic(200, seed=6)
    head = train_classifier(x, y, TOOLS, TrainConfig(hidden=8, epochs=2), embedder_id="test-embedder")
    head.threshold = 0.25
    head.meta = {"fallback_threshold": 0.2}
    head.save(tmp_path)
    loaded = ToolClassifier.load(tmp_path)
    assert loaded.tools == TOOLS and loaded.threshold == 0.25 and loaded.embedder_id == "test-embedder"
    assert loaded.meta["fallback_threshold"] == 0.2
    np.testing.assert_array_equal(loaded.predict_proba(x), head.predict_proba(x))  # weights are float16-exact


def test_missing_or_inconsistent_head_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ToolRagError, match="pocketagent toolrag train"):
        ToolClassifier.load(tmp_path)
    x, y = synthetic(50, seed=0)
    train_classifier(x, y, TOOLS, TrainConfig(hidden=0, epochs=1)).save(tmp_path)
    meta = json.loads((tmp_path / "head.json").read_text())
    meta["tools"] = ["alpha"]
    (tmp_path / "head.json").write_text(json.dumps(meta))
    with pytest.raises(ToolRagError, match="do not match"):
        ToolClassifier.load(tmp_path)


def test_segments_split_compound_requests_only() -> None:
    assert segments("walking directions to the train station") == []
    assert segments("text Ana I'm late, then remind me to call the bank") == [
        "text Ana I'm late",
        "then remind me to call the bank",
    ]
    assert segments("email Bo the deck and put lunch on my calendar") == [
        "email Bo the deck",
        "put lunch on my calendar",
    ]
    assert segments("Ana and Bo") == []  # one-word pieces are not clauses


@given(st.text(max_size=200))
def test_segments_never_fail_and_are_substrings(query: str) -> None:
    parts = segments(query)
    assert parts == [] or len(parts) >= 2
    assert all(part and part in query for part in parts)
