"""The example bank: worked request → plan pairs retrieved as in-context examples.

The bank that ships (`data/bank.jsonl.gz`) is a small, tool-set-stratified subset of the
generated training split (never the hand-written eval set). Its request embeddings ship
beside it (`data/bank-embeddings.npz`, float16, keyed by the embedder and the bank's
requests), so a fresh install does not spend ~40 s embedding 2,744 requests on its first
run; a bank without matching embeddings is embedded once and cached on disk by content hash
(`EmbeddingCache`).

Retrieval follows TinyAgent: the k training examples closest to the request by cosine
similarity, among those whose tools are a subset of the selected tools (an example must
never show a tool the prompt does not list).
"""

from __future__ import annotations

import gzip
import random
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import numpy as np

from pocketagent.atomic import atomic_writer
from pocketagent.data.example import DataFormatError, Example, read_examples
from pocketagent.errors import ToolRagError
from pocketagent.toolrag.embedder import DIMENSION, Embedder, EmbeddingCache, ProgressFn, content_key

BANK_FILE = "bank.jsonl.gz"
BANK_EMBEDDINGS_FILE = "bank-embeddings.npz"


# The bank's rows are the generated data's rows (id, query, plan, now, tools).
BankExample = Example


def read_bank(path: Path) -> list[BankExample]:
    """Examples from a `.jsonl` or `.jsonl.gz` file."""
    if not path.is_file():
        raise ToolRagError(f"no Tool RAG example bank at {path}; build one with: pocketagent toolrag train")
    try:
        return list(read_examples(path))
    except DataFormatError as exc:
        raise ToolRagError(f"cannot read the example bank {path}: {exc}") from None


def write_bank(examples: Iterable[BankExample], path: Path) -> None:
    """Write examples as gzip-compressed JSONL (reproducible: no timestamp in the gzip header)."""
    text = "".join(ex.to_json_line() for ex in examples)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def stratified_subset(
    examples: Sequence[BankExample], size: int, min_per_tool_set: int = 1, seed: int = 0
) -> list[BankExample]:
    """About `size` examples: `min_per_tool_set` of every distinct tool set, the rest in proportion.

    Every combination stays retrievable in a small bank (what the subset rule needs), and
    common combinations get more variety (what similarity needs). Original order is kept.
    """
    groups: dict[frozenset[str], list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        groups[frozenset(example.tools)].append(index)
    rng = random.Random(seed)
    keys = sorted(groups, key=lambda k: sorted(k))
    floor = {key: min(len(groups[key]), min_per_tool_set) for key in keys}
    spare = max(0, size - sum(floor.values()))
    rest = sum(len(groups[key]) - floor[key] for key in keys)
    keep: list[int] = []
    for key in keys:
        members = groups[key]
        extra = (len(members) - floor[key]) * spare // rest if rest else 0
        keep += rng.sample(members, min(len(members), floor[key] + extra))
    return [examples[i] for i in sorted(keep)]


def write_bank_embeddings(model_id: str, queries: Sequence[str], vectors: np.ndarray, path: Path) -> None:
    """Store the bank's request embeddings (float16: retrieval ranks by cosine, 2 MB not 4) under
    the content key of `model_id` and `queries`, so a changed bank or embedder never uses them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as handle:
        np.savez_compressed(
            handle, key=np.array(content_key(model_id, queries)), vectors=np.asarray(vectors, dtype=np.float16)
        )


def read_bank_embeddings(model_id: str, queries: Sequence[str], path: Path) -> np.ndarray | None:
    """The shipped embeddings of `queries` by `model_id` (float32), or None when the file is
    missing, unreadable, or was written for another bank or embedder."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            key, vectors = str(stored["key"]), stored["vectors"]
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if key != content_key(model_id, queries) or vectors.shape != (len(queries), DIMENSION):
        return None
    return np.asarray(vectors, dtype=np.float32)


class ExampleBank:
    """Examples plus their (normalised) request embeddings, for subset-constrained retrieval."""

    def __init__(self, examples: Sequence[BankExample], embeddings: np.ndarray) -> None:
        if embeddings.shape[0] != len(examples):
            raise ToolRagError(f"bank has {len(examples)} examples but {embeddings.shape[0]} embeddings")
        self.examples = list(examples)
        self.embeddings = np.asarray(embeddings, dtype=np.float32)
        # Which example uses which tool, as a matrix: the subset rule becomes one vector operation.
        self._tool_index = {name: j for j, name in enumerate(sorted({t for ex in self.examples for t in ex.tools}))}
        self._uses = np.zeros((len(self.examples), len(self._tool_index)), dtype=bool)
        for i, example in enumerate(self.examples):
            self._uses[i, [self._tool_index[t] for t in example.tools]] = True

    @classmethod
    def build(
        cls,
        examples: Sequence[BankExample],
        embedder: Embedder,
        cache: EmbeddingCache | None = None,
        progress: ProgressFn | None = None,
        shipped: Path | None = None,
    ) -> ExampleBank:
        """The examples with their requests' embeddings: the `shipped` file's when they match, else
        embedded now (through the on-disk cache when given)."""
        queries = [ex.query for ex in examples]
        vectors = read_bank_embeddings(embedder.model_id, queries, shipped) if shipped else None
        if vectors is None:
            vectors = cache.embeddings(embedder, queries, progress) if cache else embedder.embed(queries, progress)
        return cls(examples, vectors)

    def __len__(self) -> int:
        return len(self.examples)

    def retrieve(
        self, query_vector: np.ndarray, allowed_tools: Collection[str], k: int
    ) -> list[tuple[BankExample, float]]:
        """The k most similar examples whose tools are all in `allowed_tools`, most similar first."""
        if k <= 0 or not self.examples:
            return []
        allowed = np.zeros(len(self._tool_index), dtype=bool)
        allowed[[j for name, j in self._tool_index.items() if name in set(allowed_tools)]] = True
        eligible = ~(self._uses & ~allowed).any(axis=1)
        if not eligible.any():
            return []
        scores = self.embeddings @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        scores = np.where(eligible, scores, -np.inf)
        count = min(k, int(eligible.sum()))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.lexsort((top, -scores[top]))]  # by score, ties by bank order: deterministic
        return [(self.examples[i], float(scores[i])) for i in top]
