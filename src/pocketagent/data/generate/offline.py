"""The offline compositional generator: requests and plans from scenarios, no LLM needed.

Each candidate: sample a plan-shape bucket (by number of tool actions, mix like the
hand-written sets, leaning to long plans, which small models find hardest: 20% one call, 28% two,
38% 3-6, 14% 7+), sample `now`, compose clauses from
the scenario set until the plan falls in the bucket, render the clauses in a register.

Candidates come in fixed-size chunks seeded by (seed, chunk index), so the output depends only
on the seed, never on the number of workers: workers check chunks in parallel, the parent
takes chunks in order and does the order-dependent work (duplicates, quotas).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pocketagent.data.checks import Conventions, ExampleChecker, Rejection
from pocketagent.data.example import Example
from pocketagent.data.generate.builtin_scenarios import BUILTIN_SCENARIOS
from pocketagent.data.generate.render import render_request
from pocketagent.data.generate.scenarios import ScenarioSet
from pocketagent.data.generate.scene import Scene
from pocketagent.data.generate.timeexpr import fmt, sample_now
from pocketagent.data.pipeline import DatasetRun, build_dataset
from pocketagent.errors import ConfigError
from pocketagent.tools.builtin import builtin_registry
from pocketagent.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult

# (label, min actions, max actions, share)
SHAPE_BUCKETS: tuple[tuple[str, int, int, float], ...] = (
    ("1", 1, 1, 0.20),
    ("2", 2, 2, 0.28),
    ("3-6", 3, 6, 0.38),
    ("7+", 7, 14, 0.14),
)
CHUNK_SIZE = 256


def shape_bucket(action_count: int) -> str:
    """The bucket label for a plan with this many tool actions."""
    for label, low, high, _share in SHAPE_BUCKETS:
        if low <= action_count <= high:
            return label
    return "7+" if action_count > 7 else "1"


def parse_shape_mix(text: str) -> tuple[tuple[str, int, int, float], ...]:
    """Buckets of `SHAPE_BUCKETS` with the shares of "1=0.15,2=0.25,3-6=0.35,7+=0.25".

    Buckets left out get share 0; the shares are relative (they need not sum to 1).
    """
    known = {label: (low, high) for label, low, high, _share in SHAPE_BUCKETS}
    shares: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        label, sep, value = part.partition("=")
        label = label.strip()
        if not sep or label not in known:
            raise ConfigError(f"--shape-mix: {part!r} is not BUCKET=SHARE with BUCKET one of {', '.join(known)}")
        try:
            share = float(value)
        except ValueError:
            raise ConfigError(f"--shape-mix: {value.strip()!r} is not a number") from None
        if not share >= 0 or share == float("inf"):
            raise ConfigError(f"--shape-mix: the share of {label} must be a finite number >= 0")
        shares[label] = share
    if not any(shares.values()):
        raise ConfigError("--shape-mix: at least one bucket needs a share above 0")
    return tuple((label, low, high, shares.get(label, 0.0)) for label, (low, high) in known.items())


@dataclass(frozen=True)
class Candidate:
    """A generated example before set-level checks, with how it was made (for the card)."""

    example: Example
    bucket: str
    meta: dict[str, Any] = field(default_factory=dict)
    rejection: Rejection | None = None  # set when the per-example checks failed


class OfflineGenerator:
    """Makes candidate examples from a scenario set; deterministic given (seed, chunk index)."""

    def __init__(
        self,
        scenarios: ScenarioSet = BUILTIN_SCENARIOS,
        registry: ToolRegistry | None = None,
        conventions: Conventions | None = None,
        buckets: tuple[tuple[str, int, int, float], ...] = SHAPE_BUCKETS,
    ) -> None:
        self.scenarios = scenarios
        self.registry = registry or builtin_registry()
        self.checker = ExampleChecker(self.registry, conventions)
        self.buckets = buckets

    def compose(self, rng: random.Random, now: datetime, low: int, high: int) -> tuple[Scene, list[str]] | None:
        """Clauses whose plan has between `low` and `high` actions, or None after a few tries."""
        max_clauses = 1 if high == 1 else (2 if high == 2 else (3 if high <= 6 else 4))
        for _attempt in range(40):
            scene = Scene(rng=rng, now=now, small=high == 1, crowd=low >= 3 and rng.random() < 0.6)
            clauses: list[str] = []
            while len(scene.builder) < low and len(clauses) < max_clauses:
                name, scenario = self.scenarios.pick(scene, only_small=scene.small)
                if name in scene.tags:  # one more draw: the same scenario twice in a request reads oddly
                    name, scenario = self.scenarios.pick(scene, only_small=scene.small)
                clauses.append(scenario(scene))
                scene.tags.append(name)
            if low <= len(scene.builder) <= high:
                return scene, clauses
        return None

    def candidate(self, rng: random.Random, example_id: str) -> Candidate | None:
        """One candidate example (checked alone), or None if no composition fit the sampled bucket."""
        _label, low, high, _share = rng.choices(self.buckets, weights=[b[3] for b in self.buckets])[0]
        now = sample_now(rng)
        composed = self.compose(rng, now, low, high)
        if composed is None:
            return None
        scene, clauses = composed
        query, style = render_request(rng, clauses, scene.protected)
        example = Example.from_plan(example_id, query, scene.builder.plan(), fmt(now))
        meta = {**style, "clauses": len(clauses), "scenarios": sorted(set(scene.tags))}
        return Candidate(example, shape_bucket(len(scene.builder)), meta, self.checker.check(example))

    def chunk(self, seed: int, index: int, size: int = CHUNK_SIZE) -> list[Candidate]:
        """Candidates of one chunk; the same (seed, index) always gives the same list."""
        rng = random.Random(f"pocketagent-offline:{seed}:{index}")
        made = (self.candidate(rng, f"c{index}-{i}") for i in range(size))
        return [c for c in made if c is not None]


# The generator a worker process uses: inherited from the parent when processes fork, else built-in.
_WORKER_GENERATOR: OfflineGenerator | None = None


def _worker_chunk(args: tuple[int, int, int]) -> list[Candidate]:
    global _WORKER_GENERATOR
    if _WORKER_GENERATOR is None:
        _WORKER_GENERATOR = OfflineGenerator()
    seed, index, size = args
    return _WORKER_GENERATOR.chunk(seed, index, size)


def candidate_stream(
    generator: OfflineGenerator, seed: int, workers: int = 1, max_chunks: int = 100_000, chunk_size: int = CHUNK_SIZE
) -> Generator[Candidate, None, None]:
    """All candidates in chunk order (so the same for any `workers`); stop iterating to stop.

    With `workers > 1`, chunks are made in a process pool, at most two per worker ahead of
    the consumer (so workers do not take CPU from the parent for chunks nobody will read).
    A custom scenario set needs the "fork" start method to reach the workers; elsewhere it runs
    in-process.
    """
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if workers <= 1 or ("fork" not in methods and generator.scenarios is not BUILTIN_SCENARIOS):
        for index in range(max_chunks):
            yield from generator.chunk(seed, index, chunk_size)
        return
    global _WORKER_GENERATOR
    _WORKER_GENERATOR = generator  # inherited by forked workers
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = context.Pool(workers)
    try:
        pending: deque[AsyncResult[list[Candidate]]] = deque()
        next_index = 0
        while next_index < max_chunks or pending:
            while next_index < max_chunks and len(pending) < 2 * workers:
                pending.append(pool.apply_async(_worker_chunk, ((seed, next_index, chunk_size),)))
                next_index += 1
            yield from pending.popleft().get()
    finally:
        pool.terminate()
        pool.join()
        _WORKER_GENERATOR = None


def generate_offline(
    sizes: dict[str, int],
    seed: int,
    workers: int = 1,
    holdout_queries: list[str] | None = None,
    generator: OfflineGenerator | None = None,
    progress: Callable[[int], None] | None = None,
    command: str = "",
    max_candidates_factor: int = 20,
) -> DatasetRun:
    """A checked, de-duplicated dataset with the shape mix of `SHAPE_BUCKETS`, reproducible from `seed`.

    `sizes` maps split name to size; the first split listed (train) takes what the others leave.
    """
    generator = generator or OfflineGenerator()
    total = sum(sizes.values())
    max_chunks = max(1, (total * max_candidates_factor) // CHUNK_SIZE + 1)
    stream = candidate_stream(generator, seed, workers, max_chunks=max_chunks)
    try:
        return build_dataset(
            stream,
            sizes,
            seed,
            generator.registry,
            {label: share for label, _low, _high, share in generator.buckets},
            holdout_queries=holdout_queries,
            conventions=generator.checker.conventions,
            progress=progress,
            title="pocketagent offline dataset",
            command=command,
        )
    finally:
        stream.close()  # stops worker processes early once the quotas are full
