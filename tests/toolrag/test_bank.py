"""The example bank: subset-constrained retrieval, stratified subsets, the gzip JSONL file."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pocketagent.data.example import Example
from pocketagent.errors import ToolRagError
from pocketagent.toolrag.bank import (
    BANK_EMBEDDINGS_FILE,
    ExampleBank,
    read_bank,
    read_bank_embeddings,
    stratified_subset,
    write_bank,
    write_bank_embeddings,
)
from pocketagent.toolrag.embedder import DIMENSION, EmbeddingCache


def example(i: int, *tools: str) -> Example:
    return Example(f"ex-{i}", f"request {i}", "1. join()<END_OF_PLAN>", "2026-01-01 09:00:00", tuple(tools))


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def bank() -> ExampleBank:
    examples = [
        example(0, "send_sms"),
        example(1, "get_phone_number", "send_sms"),
        example(2, "get_email_address", "compose_new_email"),
        example(3, "send_sms", "create_reminder"),
        example(4, "get_phone_number"),
    ]
    vectors = np.stack([unit(1, 0, 0), unit(0.9, 0.1, 0), unit(0, 1, 0), unit(1, 0, 0.01), unit(0.5, 0.5, 0)])
    return ExampleBank(examples, vectors)


def test_retrieval_keeps_only_examples_whose_tools_are_selected(bank: ExampleBank) -> None:
    hits = bank.retrieve(unit(1, 0, 0), {"get_phone_number", "send_sms"}, k=6)
    assert [ex.id for ex, _ in hits] == ["ex-0", "ex-1", "ex-4"]  # ex-3 needs create_reminder: never shown
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)
    for ex, _ in hits:
        assert set(ex.tools) <= {"get_phone_number", "send_sms"}


def test_retrieval_takes_the_k_most_similar(bank: ExampleBank) -> None:
    every_tool = {t for ex in bank.examples for t in ex.tools}
    assert [ex.id for ex, _ in bank.retrieve(unit(1, 0, 0), every_tool, k=2)] == ["ex-0", "ex-3"]
    assert [ex.id for ex, _ in bank.retrieve(unit(0, 1, 0), every_tool, k=1)] == ["ex-2"]


def test_retrieval_with_nothing_eligible_or_k_zero(bank: ExampleBank) -> None:
    assert bank.retrieve(unit(1, 0, 0), {"maps_open_location"}, k=3) == []
    assert bank.retrieve(unit(1, 0, 0), {"send_sms"}, k=0) == []


def test_bank_rejects_mismatched_embeddings() -> None:
    with pytest.raises(ToolRagError):
        ExampleBank([example(0, "send_sms")], np.zeros((2, 3), np.float32))


def test_stratified_subset_keeps_every_tool_set_and_favours_common_ones() -> None:
    examples = [example(i, "send_sms") for i in range(100)]
    examples += [example(100 + i, "create_note") for i in range(10)]
    examples += [example(200, "maps_open_location")]
    subset = stratified_subset(examples, size=30, seed=1)
    counts = Counter(ex.tools for ex in subset)
    assert counts[("maps_open_location",)] == 1 and counts[("create_note",)] >= 1
    assert counts[("send_sms",)] > counts[("create_note",)]
    assert 25 <= len(subset) <= 30
    assert [ex.id for ex in subset] == sorted((ex.id for ex in subset), key=lambda i: int(i.split("-")[1]))
    assert stratified_subset(examples, size=30, seed=1) == subset  # deterministic


def test_bank_file_round_trip_is_reproducible(tmp_path: Path) -> None:
    examples = [example(1, "send_sms"), example(2, "create_note", "open_note")]
    write_bank(examples, tmp_path / "a.jsonl.gz")
    write_bank(examples, tmp_path / "b.jsonl.gz")
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()
    assert read_bank(tmp_path / "a.jsonl.gz") == examples


def test_bad_bank_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ToolRagError, match="toolrag train"):
        read_bank(tmp_path / "missing.jsonl.gz")
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(b'{"query": "no plan"}\n'))
    with pytest.raises(ToolRagError, match="plan"):
        read_bank(broken)
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(gzip.compress(b'{"query": "x", "plan": "y"}\n' * 50)[:30])
    with pytest.raises(ToolRagError):
        read_bank(truncated)


def test_the_shipped_bank_comes_from_the_training_split_only() -> None:
    from pocketagent.toolrag.embedder import DATA_DIR

    shipped = read_bank(DATA_DIR / "bank.jsonl.gz")
    assert 1000 <= len(shipped) <= 5000
    assert all(ex.id.startswith("train-") for ex in shipped)
    assert (DATA_DIR / "bank.jsonl.gz").stat().st_size < 2_000_000


class CountingEmbedder:
    """Deterministic vectors from the text's hash; counts the texts it is asked to embed."""

    model_id = "counting-test-embedder"

    def __init__(self) -> None:
        self.embedded = 0

    def embed(self, texts, progress=None):
        self.embedded += len(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(DIMENSION) for t in texts]
        matrix = np.asarray(rows, dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_shipped_embeddings_are_used_only_for_the_bank_and_embedder_they_were_written_for(tmp_path: Path) -> None:
    examples = [example(i, "send_sms") for i in range(6)]
    embedder = CountingEmbedder()
    vectors = embedder.embed([ex.query for ex in examples])
    shipped = tmp_path / BANK_EMBEDDINGS_FILE
    write_bank_embeddings(embedder.model_id, [ex.query for ex in examples], vectors, shipped)
    embedder.embedded = 0

    bank = ExampleBank.build(examples, embedder, EmbeddingCache(tmp_path / "cache"), shipped=shipped)
    assert embedder.embedded == 0
    assert np.allclose(bank.embeddings, vectors, atol=1e-3)  # float16 on disk

    changed = [*examples[:5], example(99, "send_sms")]
    ExampleBank.build(changed, embedder, EmbeddingCache(tmp_path / "cache"), shipped=shipped)
    assert embedder.embedded == len(changed)  # another bank: embedded, not the stale vectors
    assert read_bank_embeddings("another-embedder", [ex.query for ex in examples], shipped) is None
    shipped.write_bytes(b"not an npz")
    assert read_bank_embeddings(embedder.model_id, [ex.query for ex in examples], shipped) is None


def test_the_shipped_bank_ships_its_embeddings() -> None:
    from pocketagent.toolrag.embedder import DATA_DIR, MODEL_ID

    queries = [ex.query for ex in read_bank(DATA_DIR / "bank.jsonl.gz")]
    vectors = read_bank_embeddings(MODEL_ID, queries, DATA_DIR / BANK_EMBEDDINGS_FILE)
    assert vectors is not None  # retrain with `pocketagent toolrag train` writes them
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)
