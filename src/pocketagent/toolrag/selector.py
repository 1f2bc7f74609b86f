"""Tool selectors: which tools (and which worked examples) the planner shows for a request.

A `ToolSelector` maps (request, registry) to a `Selection` (both in `base.py`). The planner
builds its prompt and grammar from the selection only, so it never branches on how tools
were chosen. Selectors are registered by name (`register_selector`, `create_selector`):

- ``all``: every tool of the registry and the planner's fixed examples (Tool RAG off).
- ``toolrag``: the trained classifier for the tools it knows, embedding similarity to the
  tool descriptions for the others (user tools), and the k nearest bank examples whose
  tools are a subset of the selection. Without a trained head every tool goes through the
  similarity fallback.

Selected tools keep the registry's order, so two requests with the same selection get a
byte-identical system prompt (and llama.cpp reuses its KV cache for it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pocketagent.errors import ToolRagError
from pocketagent.toolrag.bank import BANK_EMBEDDINGS_FILE, BANK_FILE, ExampleBank, read_bank
from pocketagent.toolrag.base import AllToolsSelector, Selection, ToolSelector, create_selector, register_selector
from pocketagent.toolrag.classifier import HEAD_META, ToolClassifier, request_probabilities, segments
from pocketagent.toolrag.embedder import DATA_DIR, Embedder, EmbeddingCache, default_embedder
from pocketagent.tools.registry import Tool, ToolRegistry

# Cosine similarity between a request (or one of its clauses) and a tool's description text
# above which the fallback selects the tool. Used when no trained head says otherwise
# (`toolrag train` calibrates it on the val split and stores it in head.json).
DEFAULT_FALLBACK_THRESHOLD = 0.15
DEFAULT_EXAMPLES = 1  # retrieved examples per request: 1 keeps the prompt >= 3x smaller than without Tool RAG


def tool_text(tool: Tool) -> str:
    """What a tool is embedded as for the similarity fallback."""
    return f"{tool.name.replace('_', ' ')}: {tool.description}"


class DescriptionSimilarity:
    """Scores tools by cosine similarity between the request's clauses and their descriptions."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}  # tool text -> vector (descriptions rarely change)

    def scores(self, query_vectors: np.ndarray, tools: Sequence[Tool]) -> np.ndarray:
        """(len(tools),) best similarity of any query vector (whole request or a clause) to each tool."""
        if not tools:
            return np.zeros(0, dtype=np.float32)
        texts = [tool_text(t) for t in tools]
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing)):
                self._vectors[text] = vector
        matrix = np.stack([self._vectors[t] for t in texts])
        similarity: np.ndarray = (np.atleast_2d(query_vectors) @ matrix.T).max(axis=0)
        return similarity


@dataclass(frozen=True)
class ToolRagConfig:
    """Where the trained parts live and how many examples to retrieve."""

    directory: Path = DATA_DIR  # head.npz, head.json, bank.jsonl.gz
    examples: int = DEFAULT_EXAMPLES
    cache_dir: Path | None = None  # embedding cache; None = $XDG_CACHE_HOME/pocketagent/toolrag


class ToolRagSelector:
    """Classifier (known tools) + description similarity (other tools) + subset-constrained retrieval.

    Loads lazily on the first request: the embedder (~0.2 s), the head, and the bank's
    embeddings (from the on-disk cache; computed once per bank content).
    """

    def __init__(self, config: ToolRagConfig = ToolRagConfig(), embedder: Embedder | None = None) -> None:
        self.config = config
        self._embedder = embedder
        self._lock = threading.Lock()
        self._loaded = False
        self.classifier: ToolClassifier | None = None
        self.bank: ExampleBank | None = None
        self.similarity: DescriptionSimilarity | None = None
        self.fallback_threshold = DEFAULT_FALLBACK_THRESHOLD

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def load(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Load the head and the bank now (idempotent); `progress(n, total)` counts bank texts embedded."""
        with self._lock:
            if self._loaded:
                return
            directory = self.config.directory
            if (directory / HEAD_META).exists():
                self.classifier = ToolClassifier.load(directory)
                if self.classifier.embedder_id and self.classifier.embedder_id != self.embedder.model_id:
                    raise ToolRagError(
                        f"the Tool RAG head in {directory} was trained on {self.classifier.embedder_id!r} "
                        f"embeddings, not {self.embedder.model_id!r}; retrain it: pocketagent toolrag train"
                    )
                self.fallback_threshold = float(self.classifier.meta.get("fallback_threshold", self.fallback_threshold))
            if (directory / BANK_FILE).exists() and self.config.examples > 0:
                cache = EmbeddingCache(self.config.cache_dir)
                examples = read_bank(directory / BANK_FILE)
                report = (lambda n: progress(n, len(examples))) if progress else None
                self.bank = ExampleBank.build(examples, self.embedder, cache, report, directory / BANK_EMBEDDINGS_FILE)
            self.similarity = DescriptionSimilarity(self.embedder)
            self._loaded = True

    def select(self, query: str, registry: ToolRegistry) -> Selection:
        """The tools for `query` (registry order) and up to `config.examples` retrieved examples."""
        started = time.perf_counter()
        self.load()
        texts = [query, *segments(query)]
        vectors = self.embedder.embed(texts)
        scores: dict[str, float] = {}
        chosen: set[str] = set()
        known = [name for name in (self.classifier.tools if self.classifier else ()) if name in registry]
        if self.classifier is not None and known:
            probs = request_probabilities(self.classifier, vectors)
            by_name = dict(zip(self.classifier.tools, probs.tolist()))
            scores.update({name: by_name[name] for name in known})
            chosen |= {name for name in known if by_name[name] >= self.classifier.threshold}
            chosen.add(max(known, key=lambda name: by_name[name]))  # never an empty tool list
        others = [tool for tool in registry if tool.name not in scores]
        if others and self.similarity is not None:
            similarity = self.similarity.scores(vectors, others)
            scores.update({tool.name: float(s) for tool, s in zip(others, similarity)})
            chosen |= {tool.name for tool, s in zip(others, similarity) if s >= self.fallback_threshold}
            if not chosen:
                chosen.add(others[int(similarity.argmax())].name)
        tools = tuple(name for name in registry.names() if name in chosen)
        retrieved = self.bank.retrieve(vectors[0], tools, self.config.examples) if self.bank is not None else []
        retrieved.reverse()  # most similar last: right before the request
        return Selection(
            tools=tools,
            examples=tuple(ex for ex, _ in retrieved),
            scores={name: scores[name] for name in registry.names() if name in scores},
            example_scores=tuple(score for _, score in retrieved),
            method="toolrag" if self.classifier is not None else "similarity",
            select_s=time.perf_counter() - started,
        )


def toolrag_selector(
    directory: Path | None = None,
    examples: int = DEFAULT_EXAMPLES,
    cache_dir: Path | None = None,
    embedder: Embedder | None = None,
) -> ToolSelector:
    """The ``toolrag`` selector (registered by name in `pocketagent.toolrag.base`)."""
    return ToolRagSelector(ToolRagConfig(directory or DATA_DIR, examples, cache_dir), embedder)


__all__ = [
    "AllToolsSelector",
    "DescriptionSimilarity",
    "Selection",
    "ToolRagConfig",
    "ToolRagSelector",
    "ToolSelector",
    "create_selector",
    "register_selector",
    "tool_text",
    "toolrag_selector",
]
