"""The tool classifier: a small multi-label MLP head over sentence embeddings, in numpy.

One sigmoid output per tool ("does the plan for this request call it?"). Trained with
Adam on binary cross-entropy; the decision threshold is chosen on a validation split so
that at least `target_recall` of the needed tools are selected (a missing tool makes the
plan impossible, an extra one only costs a few prompt tokens). The top-scoring tool is
always selected, so a request never gets an empty tool list.

Stored as two small files: `head.npz` (weights, float16) and `head.json` (tool order,
threshold, embedder id, training figures).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pocketagent.errors import ToolRagError

# Requests often ask for several things ("text Ana I'm late, and remind me to call Bo"); one
# pooled vector blurs the later asks. The head therefore also scores each clause and keeps
# each tool's best score. Clauses: split at punctuation and at "and"/"then"/"also"/"plus".
SEGMENTER = "clauses-v1"
_CLAUSE_SPLIT = re.compile(r"\s*(?:[,;:.!?]+\s+|\s+(?:and|then|also|plus)\s+)\s*", re.IGNORECASE)
_MIN_CLAUSE_WORDS = 2

HEAD_WEIGHTS = "head.npz"
HEAD_META = "head.json"
FORMAT_VERSION = 1


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))
    return result


@dataclass
class ToolClassifier:
    """A trained head: embeddings (n, d) -> per-tool probabilities (n, len(tools))."""

    tools: tuple[str, ...]
    weights: dict[str, np.ndarray]  # w1, b1 (hidden layer; absent for plain logistic regression), w2, b2
    threshold: float = 0.5
    embedder_id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """Per-tool probabilities, shape (n, len(tools))."""
        x = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        if "w1" in self.weights:
            x = np.maximum(x @ self.weights["w1"] + self.weights["b1"], 0.0)
        return _sigmoid(x @ self.weights["w2"] + self.weights["b2"])

    def select(self, probabilities: np.ndarray, threshold: float | None = None) -> list[list[str]]:
        """Per row: the tools at or above the threshold, plus the top one (in `tools` order)."""
        chosen = select_mask(np.atleast_2d(probabilities), self.threshold if threshold is None else threshold)
        return [[self.tools[j] for j in np.flatnonzero(row)] for row in chosen]

    def save(self, directory: Path) -> None:
        """Write `head.npz` and `head.json` into `directory` (created if needed)."""
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / HEAD_WEIGHTS).open("wb") as handle:
            np.savez_compressed(handle, allow_pickle=False, **{k: v.astype(np.float16) for k, v in self.weights.items()})
        meta = {
            "format": FORMAT_VERSION,
            "tools": list(self.tools),
            "threshold": self.threshold,
            "embedder": self.embedder_id,
            **self.meta,
        }
        (directory / HEAD_META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> ToolClassifier:
        """Read a head written by `save`; ToolRagError if missing or inconsistent."""
        try:
            meta = json.loads((directory / HEAD_META).read_text(encoding="utf-8"))
            with np.load(directory / HEAD_WEIGHTS, allow_pickle=False) as data:
                weights = {name: np.asarray(data[name], dtype=np.float32) for name in data.files}
        except FileNotFoundError as exc:
            raise ToolRagError(
                f"no trained Tool RAG head in {directory} ({Path(exc.filename).name} missing); "
                "train one with: pocketagent toolrag train"
            ) from None
        except (OSError, ValueError, KeyError) as exc:
            raise ToolRagError(f"cannot read the Tool RAG head in {directory}: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
            raise ToolRagError(f"{directory / HEAD_META}: unsupported head format; retrain: pocketagent toolrag train")
        tools = tuple(meta.get("tools") or ())
        w2 = weights.get("w2")
        if not tools or w2 is None or "b2" not in weights or w2.shape[1] != len(tools):
            raise ToolRagError(f"{directory}: head weights do not match its tool list; retrain it")
        rest = {k: v for k, v in meta.items() if k not in ("format", "tools", "threshold", "embedder")}
        return cls(tools, weights, float(meta.get("threshold", 0.5)), str(meta.get("embedder", "")), rest)


def segments(query: str) -> list[str]:
    """The clauses of a request worth scoring on their own (none for a one-clause request)."""
    parts = [p for p in _CLAUSE_SPLIT.split(query.strip()) if len(p.split()) >= _MIN_CLAUSE_WORDS]
    return parts if len(parts) > 1 else []


def request_probabilities(classifier: ToolClassifier, vectors: np.ndarray) -> np.ndarray:
    """Per-tool probability for one request: the best over its whole-request and clause vectors."""
    best: np.ndarray = classifier.predict_proba(vectors).max(axis=0)
    return best


def select_mask(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean (n, T): probability >= threshold, and each row's best tool."""
    mask = probabilities >= threshold
    mask[np.arange(len(probabilities)), probabilities.argmax(axis=1)] = True
    return mask


def recall_precision(selected: np.ndarray, needed: np.ndarray) -> dict[str, float]:
    """Micro recall/precision over tool instances, plus the share of rows with every needed tool."""
    selected, needed = selected.astype(bool), needed.astype(bool)
    hits = float((selected & needed).sum())
    return {
        "recall": hits / max(float(needed.sum()), 1.0),
        "precision": hits / max(float(selected.sum()), 1.0),
        "all_needed": float(np.mean(~(needed & ~selected).any(axis=1))) if len(needed) else 0.0,
        "mean_selected": float(selected.sum(axis=1).mean()) if len(selected) else 0.0,
        "mean_needed": float(needed.sum(axis=1).mean()) if len(needed) else 0.0,
    }


def choose_threshold(probabilities: np.ndarray, needed: np.ndarray, target_recall: float = 0.99) -> float:
    """The largest threshold whose selections (with the top-1 rule) reach `target_recall` on these rows."""
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"target_recall must be in (0, 1], got {target_recall}")
    needed = needed.astype(bool)
    if not needed.any():
        raise ToolRagError("cannot choose a threshold: the validation rows need no tools")
    # Recall only changes at the probabilities of needed tools: try them from the top down.
    for candidate in np.unique(probabilities[needed])[::-1]:
        if recall_precision(select_mask(probabilities, float(candidate)), needed)["recall"] >= target_recall:
            return float(candidate)
    return float(probabilities[needed].min())


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of the head (defaults chosen on the generated val split)."""

    hidden: int = 256  # 0 = plain logistic regression
    epochs: int = 40
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0


def train_classifier(
    embeddings: np.ndarray,
    labels: np.ndarray,
    tools: Sequence[str],
    config: TrainConfig = TrainConfig(),
    embedder_id: str = "",
    progress: Callable[[int, float], None] | None = None,
) -> ToolClassifier:
    """Fit the head on (n, d) embeddings and (n, T) 0/1 labels; `progress(epoch, loss)` per epoch.

    Deterministic for a given seed and inputs. The threshold is left at 0.5: set it with
    `choose_threshold` on held-out rows.
    """
    x = np.asarray(embeddings, dtype=np.float32)
    y = np.asarray(labels, dtype=np.float32)
    if x.ndim != 2 or y.shape != (len(x), len(tools)) or len(x) == 0:
        raise ToolRagError(
            f"training data shapes do not fit: embeddings {x.shape}, labels {y.shape}, {len(tools)} tools"
        )
    rng = np.random.default_rng(config.seed)
    dim, n_out = x.shape[1], len(tools)
    params: dict[str, np.ndarray] = {}
    if config.hidden:
        params["w1"] = (rng.standard_normal((dim, config.hidden)) * np.sqrt(2.0 / dim)).astype(np.float32)
        params["b1"] = np.zeros(config.hidden, dtype=np.float32)
        params["w2"] = (rng.standard_normal((config.hidden, n_out)) * np.sqrt(1.0 / config.hidden)).astype(np.float32)
    else:
        params["w2"] = np.zeros((dim, n_out), dtype=np.float32)
    # Start at each tool's base rate, so rare tools are not pushed up by a 0.5 prior.
    base = np.clip(y.mean(axis=0), 1e-3, 1 - 1e-3)
    params["b2"] = np.log(base / (1 - base)).astype(np.float32)
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
    for epoch in range(config.epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), config.batch_size):
            idx = order[start : start + config.batch_size]
            xb, yb = x[idx], y[idx]
            grads, loss = _gradients(params, xb, yb)
            total += loss * len(idx)
            step += 1
            for name, grad in grads.items():
                if name.startswith("w"):
                    grad = grad + config.weight_decay * params[name]
                m, v = moments[name]
                m *= beta1
                m += (1 - beta1) * grad
                v *= beta2
                v += (1 - beta2) * grad * grad
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                params[name] -= (config.learning_rate * m_hat / (np.sqrt(v_hat) + eps)).astype(np.float32)
        if progress is not None:
            progress(epoch + 1, total / len(x))
    # Kept at float16 precision: the stored file is half the size, and thresholds chosen
    # after this point see exactly the outputs of the weights that are stored.
    params = {name: value.astype(np.float16).astype(np.float32) for name, value in params.items()}
    return ToolClassifier(tuple(tools), params, 0.5, embedder_id)


def _gradients(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    """Mean binary cross-entropy and its gradients (summed over tools, averaged over rows)."""
    n = len(x)
    if "w1" in params:
        pre = x @ params["w1"] + params["b1"]
        h = np.maximum(pre, 0.0)
    else:
        h = x
    logits = h @ params["w2"] + params["b2"]
    p = _sigmoid(logits)
    loss = float(-np.mean(np.sum(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7), axis=1)))
    d_logits = (p - y) / n
    grads = {"w2": h.T @ d_logits, "b2": d_logits.sum(axis=0)}
    if "w1" in params:
        d_h = (d_logits @ params["w2"].T) * (pre > 0)
        grads["w1"] = x.T @ d_h
        grads["b1"] = d_h.sum(axis=0)
    return grads, loss
