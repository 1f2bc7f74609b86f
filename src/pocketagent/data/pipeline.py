"""Generate → check → split → write, shared by the generators.

`build_dataset` takes any ordered stream of candidates (offline now; the LLM-driven generator
plugs in the same way), fills the shape quotas with checked, de-duplicated examples, deals
them into splits, confirms no request is shared across splits and prepares the card.
`write_dataset` writes `<split>.jsonl` files and `card.md`.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketagent.data.card import CardInputs, render_card
from pocketagent.data.checks import Conventions, DatasetChecker, Rejection, split_leaks
from pocketagent.data.example import Example
from pocketagent.data.formats import read_queries, write_jsonl
from pocketagent.data.splits import CandidateLike, GenerationError, assign_splits, bucket_quotas, collect
from pocketagent.tools.registry import ToolRegistry

# The hand-written eval sets of a source checkout (`data/`, relative to the working directory, so
# commands run from the repository root find them); generated data is checked for leakage from them.
# Elsewhere pass `--holdout FILE`.
DEFAULT_HOLDOUT_PATHS = (
    Path("data/handwritten-dev.jsonl"),
    Path("data/handwritten-check.jsonl"),
)


def default_holdout_paths() -> list[Path]:
    """The hand-written eval files of `DEFAULT_HOLDOUT_PATHS` that exist here."""
    return [path for path in DEFAULT_HOLDOUT_PATHS if path.is_file()]


@dataclass
class DatasetRun:
    """A built dataset: its splits, per-example metadata and the card inputs."""

    splits: dict[str, list[Example]]
    metas: dict[str, list[dict[str, Any]]]
    card: CardInputs
    leaks: list[Rejection]
    samples: dict[str, Rejection]


def build_dataset(
    candidates: Iterable[CandidateLike],
    sizes: dict[str, int],
    seed: int,
    registry: ToolRegistry,
    shares: dict[str, float],
    holdout_queries: list[str] | None = None,
    conventions: Conventions | None = None,
    near_duplicate_threshold: float = 0.8,
    progress: Callable[[int], None] | None = None,
    title: str = "pocketagent dataset",
    command: str = "",
) -> DatasetRun:
    """Fill `sizes` (e.g. {"train": 20000, "val": 1000, "test": 1000}) from the candidate stream."""
    if any(n < 0 for n in sizes.values()) or not sizes:
        raise GenerationError("split sizes must be non-negative")
    holdout = holdout_queries or []
    checker = DatasetChecker(registry, conventions, holdout, near_duplicate_threshold)
    quotas = bucket_quotas(sum(sizes.values()), shares)
    collected = collect(candidates, checker, quotas, progress)
    dealt = assign_splits(collected, sizes, seed, shares)
    splits = {name: [e for e, _ in rows] for name, rows in dealt.items()}
    metas = {name: [m for _, m in rows] for name, rows in dealt.items()}
    leaks = split_leaks(splits, near_duplicate_threshold)
    if leaks:
        raise GenerationError(f"{len(leaks)} requests are shared across splits, e.g. {leaks[0].detail}")
    card = CardInputs(
        title=title,
        command=command,
        splits=splits,
        metas=metas,
        rejections=dict(collected.rejections),
        candidates=collected.candidates,
        surplus=collected.surplus,
        holdout_size=len(holdout),
        split_leaks=len(leaks),
    )
    return DatasetRun(splits, metas, card, leaks, dict(collected.samples))


def load_holdout(paths: Iterable[Path]) -> list[str]:
    """Requests of the held-out files (JSONL with a `query` field)."""
    return [q for path in paths for q in read_queries(path)]


def write_dataset(out_dir: Path, run: DatasetRun) -> list[Path]:
    """Write `<split>.jsonl` for each split and `card.md`; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, examples in run.splits.items():
        path = out_dir / f"{name}.jsonl"
        write_jsonl(path, examples)
        written.append(path)
    card_path = out_dir / "card.md"
    card_path.write_text(render_card(run.card), encoding="utf-8", newline="\n")
    written.append(card_path)
    return written


def command_line(args: list[str]) -> str:
    """A shell-quoted command for the card."""
    return " ".join(shlex.quote(a) for a in args)
