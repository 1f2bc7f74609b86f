"""Exact and near-duplicate detection for requests: normalized text + MinHash LSH.

Requests are normalized (case, accents, punctuation, spacing), cut into character 4-gram
shingles, and compared by Jaccard similarity of the shingle sets. MinHash signatures with
banded LSH find the candidates quickly; each candidate is then confirmed with the exact
Jaccard similarity, so the answer does not depend on hash luck beyond recall (a pair at the
default threshold 0.8 is found with probability > 0.999). Hashes are crc32-based and seeded
constants, so results are the same in every process (no PYTHONHASHSEED dependence).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from pocketagent.text import normalize_name

_PRIME = (1 << 61) - 1


def normalize_query(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: "Text  Zoë!" -> "text zoe" (`normalize_name`)."""
    return normalize_name(text)


def shingles(normalized: str, size: int = 4) -> frozenset[int]:
    """Hashed character n-grams of a normalized text (the whole text when it is shorter)."""
    padded = f" {normalized} "
    if len(padded) <= size:
        return frozenset({zlib.crc32(padded.encode())})
    return frozenset(zlib.crc32(padded[i : i + size].encode()) for i in range(len(padded) - size + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Match:
    """An earlier text that a new one duplicates: its index and "exact" or "near"."""

    index: int
    kind: str
    similarity: float


@dataclass(frozen=True)
class Prepared:
    """A text's normalized form, shingles and LSH band keys (reusable across indexes with equal settings)."""

    normalized: str
    grams: frozenset[int]
    band_keys: tuple[tuple[int, bytes], ...]


class NearDuplicateIndex:
    """Texts added so far; `find` says whether a new text is an exact or near duplicate of one."""

    def __init__(self, threshold: float = 0.8, bands: int = 16, rows: int = 4, shingle_size: int = 4) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("near-duplicate threshold must be in (0, 1]")
        self.threshold = threshold
        self.bands, self.rows, self.shingle_size = bands, rows, shingle_size
        generator = np.random.default_rng(20240917)  # fixed: signatures must agree across runs and processes
        count = bands * rows
        # Odd multipliers make x -> a*x+b (mod 2^32) a permutation of the 32-bit crc space.
        self._a = generator.integers(1, 1 << 31, size=count, dtype=np.uint64) | np.uint64(1)
        self._b = generator.integers(0, 1 << 31, size=count, dtype=np.uint64)
        self._exact: dict[str, int] = {}
        self._shingles: list[frozenset[int]] = []
        self._buckets: dict[tuple[int, bytes], list[int]] = {}

    def __len__(self) -> int:
        return len(self._shingles)

    def prepare(self, text: str) -> Prepared:
        """Normalize and hash a text once, for `find` and `add`."""
        normalized = normalize_query(text)
        grams = shingles(normalized, self.shingle_size)
        values = np.fromiter(grams, dtype=np.uint64, count=len(grams))
        hashed = (self._a[:, None] * values[None, :] + self._b[:, None]) & np.uint64(0xFFFFFFFF)
        signature = hashed.min(axis=1)
        rows = self.rows
        keys = tuple((band, signature[band * rows : (band + 1) * rows].tobytes()) for band in range(self.bands))
        return Prepared(normalized, grams, keys)

    def find(self, text: str | Prepared) -> Match | None:
        """The earliest added text this one duplicates (exact first, then the most similar near one)."""
        item = text if isinstance(text, Prepared) else self.prepare(text)
        if item.normalized in self._exact:
            return Match(self._exact[item.normalized], "exact", 1.0)
        if self.threshold >= 1.0 or not self._shingles:
            return None
        candidates: set[int] = set()
        for key in item.band_keys:
            candidates.update(self._buckets.get(key, ()))
        best: Match | None = None
        for index in sorted(candidates):
            similarity = jaccard(item.grams, self._shingles[index])
            if similarity >= self.threshold and (best is None or similarity > best.similarity):
                best = Match(index, "near", similarity)
        return best

    def add(self, text: str | Prepared) -> int:
        """Remember a text; returns its index."""
        item = text if isinstance(text, Prepared) else self.prepare(text)
        index = len(self._shingles)
        self._exact.setdefault(item.normalized, index)
        self._shingles.append(item.grams)
        for key in item.band_keys:
            self._buckets.setdefault(key, []).append(index)
        return index
