"""From a stream of checked candidates to train/val/test splits, for any generator.

`collect` runs the set-level checks (duplicates, held-out leakage) in stream order and fills a
quota per plan-shape bucket; `assign_splits` deals the kept examples into splits with the same
shape mix in each, reproducibly from a seed; `split_leaks` (in checks) confirms no request is
shared across splits.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pocketagent.data.checks import DatasetChecker, Rejection
from pocketagent.data.example import Example
from pocketagent.errors import PocketAgentError


class GenerationError(PocketAgentError):
    """A generator could not produce the requested dataset (too few distinct examples)."""


class CandidateLike(Protocol):
    """What the split assignment reads of a generated example (read-only: candidates may be frozen)."""

    @property
    def example(self) -> Example: ...

    @property
    def bucket(self) -> str: ...

    @property
    def meta(self) -> dict[str, Any]: ...

    @property
    def rejection(self) -> Rejection | None: ...


def bucket_quotas(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split `total` by `shares` with largest-remainder rounding (sums exactly to `total`)."""
    weight = sum(shares.values())
    if total < 0 or weight <= 0:
        raise ValueError("total must be >= 0 and shares must sum to a positive number")
    raw = {label: total * share / weight for label, share in shares.items()}
    quotas = {label: int(value) for label, value in raw.items()}
    leftover = total - sum(quotas.values())
    for label in sorted(raw, key=lambda lab: (-(raw[lab] - quotas[lab]), list(raw).index(lab)))[:leftover]:
        quotas[label] += 1
    return quotas


@dataclass
class Collected:
    """Examples kept (with their bucket and metadata) and what was rejected on the way."""

    examples: list[Example] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    rejections: Counter[str] = field(default_factory=Counter)
    samples: dict[str, Rejection] = field(default_factory=dict)  # first rejection per reason, for reports
    candidates: int = 0
    surplus: int = 0  # valid, but their shape bucket was already full


def collect(
    candidates: Iterable[CandidateLike],
    checker: DatasetChecker,
    quotas: dict[str, int],
    progress: Callable[[int], None] | None = None,
) -> Collected:
    """Take candidates in order until every bucket quota is full; raise if the stream runs dry."""
    result = Collected()
    remaining = dict(quotas)
    needed = sum(remaining.values())
    if needed == 0:
        return result
    for candidate in candidates:
        result.candidates += 1
        if remaining.get(candidate.bucket, 0) <= 0:
            result.surplus += 1
            continue
        rejection = candidate.rejection or checker.admit_text(candidate.example.id, candidate.example.query)
        if rejection is not None:
            result.rejections[rejection.reason.value] += 1
            result.samples.setdefault(rejection.reason.value, rejection)
            continue
        remaining[candidate.bucket] -= 1
        needed -= 1
        result.examples.append(candidate.example)
        result.buckets.append(candidate.bucket)
        result.metas.append(candidate.meta)
        if progress is not None:
            progress(1)
        if needed == 0:
            return result
    short = {label: n for label, n in remaining.items() if n > 0}
    raise GenerationError(
        f"ran out of candidates after {result.candidates}: still missing {short} examples per plan-shape bucket "
        f"(rejections: {dict(result.rejections)}); ask for fewer examples or add scenarios/pools"
    )


def assign_splits(
    collected: Collected, sizes: dict[str, int], seed: int, shares: dict[str, float]
) -> dict[str, list[tuple[Example, dict[str, Any]]]]:
    """Deal examples into splits (in `sizes` order; the first split listed gets the remainder).

    Every split but the first gets the shape mix of `shares` exactly (as far as examples
    allow); examples get new ids `<split>-00001`, numbered in the split's shuffled order.
    """
    rng = random.Random(f"pocketagent-splits:{seed}")
    order = list(range(len(collected.examples)))
    rng.shuffle(order)
    position = {i: p for p, i in enumerate(order)}
    by_bucket: dict[str, list[int]] = {}
    for i in order:
        by_bucket.setdefault(collected.buckets[i], []).append(i)
    names = list(sizes)
    chosen: dict[str, list[int]] = {}
    for name in names[1:]:
        picked: list[int] = []
        for label, quota in bucket_quotas(sizes[name], shares).items():
            pool = by_bucket.get(label, [])
            picked += pool[:quota]
            by_bucket[label] = pool[quota:]
        if len(picked) < sizes[name]:
            # A bucket ran short: top up from the others, in shuffled order.
            rest = sorted((j for pool in by_bucket.values() for j in pool), key=position.__getitem__)
            extra = set(rest[: sizes[name] - len(picked)])
            by_bucket = {label: [j for j in pool if j not in extra] for label, pool in by_bucket.items()}
            picked += extra
        chosen[name] = sorted(picked, key=position.__getitem__)
    chosen[names[0]] = sorted((j for pool in by_bucket.values() for j in pool), key=position.__getitem__)
    result: dict[str, list[tuple[Example, dict[str, Any]]]] = {}
    for name in names:
        rows = []
        for number, i in enumerate(chosen[name], start=1):
            example = collected.examples[i]
            renamed = Example(f"{name}-{number:05d}", example.query, example.plan, example.now, example.tools)
            rows.append((renamed, {**collected.metas[i], "bucket": collected.buckets[i]}))
        result[name] = rows
    return result
