"""Train and evaluate Tool RAG: head, thresholds and example bank from the generated splits.

`train_toolrag` embeds the training requests, fits the head, picks the decision threshold
on the val split (recall of needed tools >= target), calibrates the similarity fallback's
threshold on the same split, writes a stratified example bank, and stores it all in one
directory (by default the package's `toolrag/data`, which is what ships).

The hand-written eval set is for measuring only: training refuses data that contains
any of its requests.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pocketagent.data.example import DataFormatError, Example
from pocketagent.data.formats import read_jsonl
from pocketagent.data.pipeline import default_holdout_paths, load_holdout
from pocketagent.errors import ToolRagError
from pocketagent.toolrag.bank import BANK_EMBEDDINGS_FILE, BANK_FILE, stratified_subset, write_bank, write_bank_embeddings
from pocketagent.toolrag.classifier import (
    SEGMENTER,
    ToolClassifier,
    TrainConfig,
    choose_threshold,
    recall_precision,
    segments,
    select_mask,
    train_classifier,
)
from pocketagent.toolrag.embedder import Embedder, EmbeddingCache
from pocketagent.toolrag.selector import ToolSelector, tool_text
from pocketagent.tools.registry import ToolRegistry

# stage label, items just done, stage total (the CLI turns it into progress bars)
Progress = Callable[[str, int, int], None]
DEFAULT_TARGET_RECALL = 0.99
# The fallback only sees descriptions, so it cannot be as sharp as the head: its threshold
# is set for this recall of needed tools on the val split, with the built-in tools as
# stand-ins. They are a hard case (hidden lookups like get_email_address, six look-alike
# mail/contact tools); a user tool is usually named by the request itself.
DEFAULT_FALLBACK_RECALL = 0.8
DEFAULT_BANK_SIZE = 3000


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def load_examples(path: Path) -> list[Example]:
    """A JSONL split (id, query, plan, now, tools); ToolRagError if unreadable or empty."""
    try:
        examples = read_jsonl(path)
    except DataFormatError as exc:
        raise ToolRagError(str(exc)) from None
    if not examples:
        raise ToolRagError(f"{path}: no examples")
    return examples


def check_no_holdout(examples: Sequence[Example], holdout_paths: Sequence[Path] | None = None) -> None:
    """Refuse training data that contains a hand-written eval request (it is for measuring only)."""
    paths = default_holdout_paths() if holdout_paths is None else list(holdout_paths)
    try:
        held = {" ".join(q.lower().split()) for q in load_holdout(paths)}
    except DataFormatError as exc:
        raise ToolRagError(f"cannot read the held-out eval set: {exc}") from None
    leaked = [ex.id or ex.query for ex in examples if " ".join(ex.query.lower().split()) in held]
    if leaked:
        raise ToolRagError(
            f"the training data contains {len(leaked)} request(s) of the hand-written eval set "
            f"(e.g. {leaked[0]!r}); it is for evaluation only"
        )


def label_matrix(examples: Sequence[Example], tools: Sequence[str]) -> np.ndarray:
    """(n, T) 0/1: does example i's plan use tool j."""
    return np.array([[name in ex.tools for name in tools] for ex in examples], dtype=np.float32)


@dataclass
class RequestVectors:
    """Embeddings of whole requests and of their clauses (`owner[i]` = request of clause i)."""

    whole: np.ndarray
    clauses: np.ndarray
    owner: np.ndarray

    def best(self, scores_whole: np.ndarray, scores_clauses: np.ndarray) -> np.ndarray:
        """Per request and tool, the best score over the request and its clauses."""
        best = scores_whole.copy()
        if len(self.owner):
            np.maximum.at(best, self.owner, scores_clauses)
        return best


def encode_requests(
    queries: Sequence[str], embedder: Embedder, cache: EmbeddingCache, progress: Progress = _quiet, label: str = ""
) -> RequestVectors:
    """Embed requests and their clauses (both through the content-hash cache)."""
    clause_texts: list[str] = []
    owner: list[int] = []
    for index, query in enumerate(queries):
        parts = segments(query)
        clause_texts += parts
        owner += [index] * len(parts)
    total = len(queries) + len(clause_texts)
    stage = f"embedding {label}".strip()

    def report(n: int) -> None:
        progress(stage, n, total)

    whole = cache.embeddings(embedder, list(queries), report)
    clauses = cache.embeddings(embedder, clause_texts, report)
    return RequestVectors(whole, clauses, np.array(owner, dtype=np.int64))


def head_scores(classifier: ToolClassifier, vectors: RequestVectors) -> np.ndarray:
    """(n, T) head probabilities, best over each request and its clauses."""
    clauses = classifier.predict_proba(vectors.clauses) if len(vectors.owner) else np.zeros((0, len(classifier.tools)))
    return vectors.best(classifier.predict_proba(vectors.whole), clauses)


def similarity_scores(
    registry: ToolRegistry, tools: Sequence[str], vectors: RequestVectors, embedder: Embedder
) -> np.ndarray:
    """(n, T) fallback scores: best cosine of the request or a clause to each tool's description."""
    descriptions = embedder.embed([tool_text(registry.get(name)) for name in tools])
    clauses = vectors.clauses @ descriptions.T if len(vectors.owner) else np.zeros((0, len(tools)), dtype=np.float32)
    return vectors.best(vectors.whole @ descriptions.T, clauses)


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def train_toolrag(
    train_path: Path,
    val_path: Path,
    out_dir: Path,
    registry: ToolRegistry,
    embedder: Embedder,
    cache: EmbeddingCache,
    *,
    config: TrainConfig | None = None,
    target_recall: float = DEFAULT_TARGET_RECALL,
    fallback_recall: float = DEFAULT_FALLBACK_RECALL,
    bank_size: int = DEFAULT_BANK_SIZE,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Train the head, choose thresholds, write head + bank into `out_dir`; returns a summary."""
    started = time.perf_counter()
    config = config or TrainConfig()
    train, val = load_examples(train_path), load_examples(val_path)
    check_no_holdout([*train, *val])
    tools = [name for name in registry.names() if any(name in ex.tools for ex in train)]
    unknown = sorted({t for ex in train for t in ex.tools} - set(registry.names()))
    if unknown:
        raise ToolRagError(f"{train_path}: plans use tools that are not registered: {', '.join(unknown)}")
    train_vectors = cache.embeddings(
        embedder, [ex.query for ex in train], lambda n: progress("embedding train", n, len(train))
    )
    y_train = label_matrix(train, tools)
    classifier = train_classifier(
        train_vectors, y_train, tools, config, embedder.model_id,
        progress=lambda epoch, loss: progress("training head", 1, config.epochs),
    )
    val_vectors = encode_requests([ex.query for ex in val], embedder, cache, progress, "val")
    y_val = label_matrix(val, tools)
    val_probs = head_scores(classifier, val_vectors)
    classifier.threshold = choose_threshold(val_probs, y_val, target_recall)
    fallback_probs = similarity_scores(registry, tools, val_vectors, embedder)
    fallback_threshold = choose_threshold(fallback_probs, y_val, fallback_recall)
    val_metrics = recall_precision(select_mask(val_probs, classifier.threshold), y_val)
    fallback_metrics = recall_precision(select_mask(fallback_probs, fallback_threshold), y_val)
    bank = stratified_subset(train, bank_size, seed=config.seed)
    # The bank's embeddings are rows of the training embeddings: they ship beside the bank so
    # the first planner run does not embed them again.
    index = {id(ex): i for i, ex in enumerate(train)}
    bank_vectors = train_vectors[[index[id(ex)] for ex in bank]]
    write_bank_embeddings(embedder.model_id, [ex.query for ex in bank], bank_vectors, out_dir / BANK_EMBEDDINGS_FILE)
    classifier.meta = {
        "segmenter": SEGMENTER,
        "target_recall": target_recall,
        "fallback_threshold": fallback_threshold,
        "fallback_recall": fallback_recall,
        "train": {"file": train_path.name, "sha256_16": _file_digest(train_path), "examples": len(train)},
        "val": {"file": val_path.name, "sha256_16": _file_digest(val_path), "examples": len(val)},
        "config": asdict(config),
        "val_metrics": {k: round(v, 4) for k, v in val_metrics.items()},
        "fallback_val_metrics": {k: round(v, 4) for k, v in fallback_metrics.items()},
        "bank": {"examples": len(bank), "size": bank_size},
    }
    classifier.save(out_dir)
    write_bank(bank, out_dir / BANK_FILE)
    return {
        "out": str(out_dir),
        "tools": tools,
        "threshold": classifier.threshold,
        "fallback_threshold": fallback_threshold,
        "val": val_metrics,
        "fallback_val": fallback_metrics,
        "bank_examples": len(bank),
        "seconds": round(time.perf_counter() - started, 1),
    }


def evaluate_selection(
    selector: ToolSelector,
    registry: ToolRegistry,
    examples: Sequence[Example],
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Recall/precision of `selector` over `examples`, request by request (the planner's own path)."""
    names = registry.names()
    needed = label_matrix(examples, names)
    selected = np.zeros_like(needed, dtype=bool)
    seconds: list[float] = []
    example_counts: list[int] = []
    subset_ok = True
    for row, example in enumerate(examples):
        selection = selector.select(example.query, registry)
        selected[row] = [name in selection.tools for name in names]
        seconds.append(selection.select_s)
        example_counts.append(len(selection.examples or ()))
        subset_ok &= all(set(ex.tools) <= set(selection.tools) for ex in selection.examples or ())
        if progress is not None:
            progress(1)
    metrics: dict[str, Any] = recall_precision(selected, needed)
    metrics.update(
        items=len(examples),
        select_ms_mean=round(1000 * float(np.mean(seconds)), 2) if seconds else 0.0,
        select_ms_p50=round(1000 * float(np.median(seconds)), 2) if seconds else 0.0,
        examples_mean=float(np.mean(example_counts)) if example_counts else 0.0,
        examples_subset_rule=subset_ok,
    )
    return metrics
