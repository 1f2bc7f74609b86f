"""The LLM-driven generator (TinyAgent's recipe): an LLM writes new requests and their plans.

One *job* is one prompt: a sampled tool subset, a few seed examples that use only those
tools (taken from the offline generator, never from a hand-written eval set) and a `now`;
the model is asked for `count` new requests, each followed by its plan. Replies are parsed
into (request, plan) pairs and every pair goes through the same `DatasetChecker` as the
offline path (syntax, tools, arity/types, `$N`, conventions, exact/near duplicates, held-out
leakage); seed requests count as already seen, so copies of them are duplicates.

Requests go through the LLM backend layer (`create_backend`, an OpenAI-compatible endpoint),
either from a local thread pool (`run_threaded`) or as a Ray Data pipeline
(`pocketagent.datagen.ray_runner`). Both yield `Reply`s in job order, so the checks
see candidates in the same order whichever runner made them.
"""

from __future__ import annotations

import random
import re
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from pocketagent.agent.prompts import RULES, describe_now, user_turn
from pocketagent.data.card import CardInputs
from pocketagent.data.checks import DatasetChecker, Rejection, split_leaks
from pocketagent.data.example import Example, tools_of
from pocketagent.data.generate.offline import SHAPE_BUCKETS, OfflineGenerator, shape_bucket
from pocketagent.data.generate.timeexpr import fmt, sample_now
from pocketagent.data.pipeline import DatasetRun
from pocketagent.data.splits import Collected, GenerationError, assign_splits
from pocketagent.errors import BackendError, PlanParseError
from pocketagent.llm.base import GenerationOptions, LLMBackend, Message
from pocketagent.plan.grammar import build_grammar
from pocketagent.plan.language import END_OF_PLAN, Action, Plan, parse_plan
from pocketagent.timefmt import NOW_FORMAT
from pocketagent.tools.registry import ToolRegistry

# A line that starts a request: "Request: ...", also "2. **Request:** ..." and similar decorations.
_REQUEST = re.compile(r"^[\s>#*\-\d.)]*\**\s*request\s*\d*\s*\**\s*:\s*\**\s*(.*?)\s*$", re.IGNORECASE)
_PLAN = re.compile(r"^[\s>#*\-]*\**\s*plan\s*\**\s*:\s*\**\s*(.*?)\s*$", re.IGNORECASE)
_TODAY = re.compile(r"^\s*today is\b", re.IGNORECASE)
_FENCE = re.compile(r"^\s*```")
_QUOTES = "\"'`*“”‘’ "


@dataclass(frozen=True)
class GenerationJob:
    """One prompt: which tools, which seed examples, what `now`, how many requests to ask for."""

    index: int
    tools: tuple[str, ...]
    seeds: tuple[Example, ...]
    now: str
    count: int
    seed: int  # the sampling seed sent with this request
    endpoint: int = 0  # index into the endpoint list (assigned round-robin)

    @property
    def id(self) -> str:
        return f"p{self.index:05d}"


@dataclass(frozen=True)
class Reply:
    """What an endpoint answered to one job (or the error it raised)."""

    index: int
    text: str = ""
    error: str | None = None
    completion_tokens: int = 0
    seconds: float = 0.0


def seed_pool(seed: int, size: int = 300, generator: OfflineGenerator | None = None) -> list[Example]:
    """Distinct offline examples that pass the per-example checks: the in-context seeds.

    Raises GenerationError if the offline generator cannot supply `size` examples.
    """
    generator = generator or OfflineGenerator()
    pool: dict[str, Example] = {}
    for index in range(64):
        for candidate in generator.chunk(seed, index, 64):
            if candidate.rejection is None:
                pool.setdefault(candidate.example.query, candidate.example)
            if len(pool) >= size:
                return list(pool.values())
    raise GenerationError(f"the offline generator gave only {len(pool)} seed examples, {size} wanted")


def sample_jobs(
    count: int,
    seed: int,
    pool: Sequence[Example],
    registry: ToolRegistry,
    per_prompt: int = 4,
    tools_per_prompt: int = 4,
    seeds_per_prompt: int = 3,
    endpoints: int = 1,
) -> list[GenerationJob]:
    """`count` jobs, reproducible from `seed`.

    Each job starts from an anchor seed: its tools plus random others (up to `tools_per_prompt`)
    form the subset, and the other seeds shown are pool examples using only that subset, so the
    examples never show a tool the prompt does not list.
    """
    if not pool:
        raise GenerationError("no seed examples to build prompts from")
    rng = random.Random(f"pocketagent-llm:{seed}")
    names = registry.names()
    jobs = []
    for index in range(1, count + 1):
        anchor = rng.choice(pool)
        subset = set(anchor.tools)
        others = [n for n in names if n not in subset]
        rng.shuffle(others)
        subset.update(others[: max(0, tools_per_prompt - len(subset))])
        fitting = [e for e in pool if e is not anchor and set(e.tools) <= subset]
        seeds = [anchor, *rng.sample(fitting, min(len(fitting), seeds_per_prompt - 1))]
        rng.shuffle(seeds)
        jobs.append(
            GenerationJob(
                index=index,
                tools=tuple(n for n in names if n in subset),
                seeds=tuple(seeds),
                now=fmt(sample_now(rng)),
                count=per_prompt,
                seed=rng.randrange(2**31),
                endpoint=(index - 1) % max(1, endpoints),
            )
        )
    return jobs


def _block(query: str, plan: str, now: str) -> str:
    return f"{user_turn(query, datetime.strptime(now, NOW_FORMAT))}\nPlan:\n{plan}"


def build_messages(job: GenerationJob, registry: ToolRegistry) -> list[Message]:
    """The chat for one job: task, tools and rules in the system turn; seeds and the ask in the user turn."""
    tools = "\n".join(registry.get(name).prompt_text() for name in job.tools)
    system = (
        "You write training data for a phone assistant's planner. A planner turns a user's request "
        "into a plan of tool calls.\n\n"
        f"Tools:\n{tools}\n\n{RULES}"
    )
    examples = "\n\n".join(_block(e.query, e.plan, e.now) for e in job.seeds)
    today = f"Today is {describe_now(datetime.strptime(job.now, NOW_FORMAT))}."
    ask = (
        f"Examples of requests and their plans:\n\n{examples}\n\n"
        f"{today}\nWrite {job.count} new requests a user might say today, each different from the examples "
        "and from each other, using only the tools above. Vary names, places, times and wording. "
        "After each request write its plan. Use exactly this format for each one:\n"
        "Request: <the request>\nPlan:\n1. <first tool call>\n...\nN. join()<END_OF_PLAN>"
    )
    return [Message("system", system), Message("user", ask)]


def reply_grammar(registry: ToolRegistry, count: int, max_actions: int = 8) -> str:
    """GBNF for a reply of 1..count "Request: ...\\nPlan:\\n<plan>" blocks (for servers that honour grammars)."""
    plan = build_grammar(registry, allow_thoughts=False, max_actions=max_actions)
    # The plan grammar's root becomes one rule of the reply grammar.
    plan = plan.replace("root ::= step-1", "plan ::= step-1", 1)
    return (
        f'root ::= pair ( "\\n\\n" pair ){{0,{max(0, count - 1)}}}\n'
        'pair ::= "Request: " qchr{5,200} "\\nPlan:\\n" plan\n'
        "qchr ::= [^\\n\\x00-\\x1f]\n" + plan
    )


def _clean_query(text: str) -> str:
    return text.strip().strip(_QUOTES).strip()


def parse_reply(text: str) -> list[tuple[str, str]]:
    """(request, plan text) pairs in a model's reply; anything else is ignored, never an error.

    A pair starts at a "Request:" line; its plan is the lines after "Plan:" up to and including
    the first `<END_OF_PLAN>` (or the next request). Plans are returned as written, so the
    checks can say what is wrong with them.
    """
    pairs: list[tuple[str, str]] = []
    query: str | None = None
    plan_lines: list[str] | None = None

    def flush() -> None:
        if query and plan_lines and any(line.strip() for line in plan_lines):
            pairs.append((query, "\n".join(plan_lines).strip()))

    for raw in text.splitlines():
        line = raw.rstrip()
        request = _REQUEST.match(line)
        if request:
            flush()
            query, plan_lines = _clean_query(request.group(1)), None
            continue
        if query is None:
            continue
        if plan_lines is None:
            plan = _PLAN.match(line)
            if not plan:
                continue
            plan_lines = []
            line = plan.group(1) or ""  # text on the "Plan:" line itself is the plan's first line
            if not line:
                continue
        if _FENCE.match(line) or _TODAY.match(line):
            continue
        if END_OF_PLAN in line:
            plan_lines.append(line[: line.index(END_OF_PLAN) + len(END_OF_PLAN)])
            flush()
            query, plan_lines = None, None
            continue
        plan_lines.append(line)
    flush()
    return pairs


def candidate_example(example_id: str, query: str, plan_text: str, now: str) -> Example:
    """The example as written by the model (`tools` from its plan when it parses), for the checks."""
    try:
        tools = tuple(tools_of(parse_plan(plan_text)))
    except PlanParseError:
        tools = ()
    return Example(example_id, query, plan_text, now, tools)


def request_reply(backend: LLMBackend, index: int, messages: list[Message], options: GenerationOptions) -> Reply:
    """Ask one endpoint; a backend failure becomes a `Reply` with `error` set (the caller decides)."""
    started = time.perf_counter()
    try:
        completion = backend.complete(messages, options)
    except BackendError as error:
        return Reply(index, error=str(error), seconds=time.perf_counter() - started)
    return Reply(index, completion.text, None, completion.usage.completion_tokens, time.perf_counter() - started)


def job_options(
    job: GenerationJob, base: GenerationOptions, registry: ToolRegistry, grammar: bool
) -> GenerationOptions:
    """Per-job decoding options: the job's seed, and its reply grammar when asked for."""
    text = reply_grammar(registry.subset(job.tools), job.count) if grammar else None
    return replace(base, seed=job.seed, grammar=text)


def run_threaded(
    jobs: Sequence[GenerationJob],
    backends: Sequence[LLMBackend],
    registry: ToolRegistry,
    options: GenerationOptions,
    workers: int = 1,
    grammar: bool = False,
) -> Generator[Reply, None, None]:
    """Replies in job order, `workers` requests in flight; job i goes to `backends[job.endpoint]`."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="datagen-llm") as pool:
        pending: deque[Future[Reply]] = deque()
        queue = iter(jobs)
        try:
            while True:
                # At most two requests per worker queued: stopping early wastes little.
                for job in queue:
                    messages = build_messages(job, registry)
                    backend = backends[job.endpoint % len(backends)]
                    pending.append(
                        pool.submit(
                            request_reply, backend, job.index, messages, job_options(job, options, registry, grammar)
                        )
                    )
                    if len(pending) >= 2 * max(1, workers):
                        break
                if not pending:
                    return
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


@dataclass
class LLMCollected(Collected):
    """`Collected` plus what only the LLM path has: replies, empty replies, failed requests."""

    replies: int = 0
    empty_replies: int = 0
    request_errors: int = 0
    first_error: str | None = None
    completion_tokens: int = 0
    request_seconds: float = 0.0


def collect_replies(
    replies: Iterable[Reply],
    jobs: Sequence[GenerationJob],
    checker: DatasetChecker,
    progress: Callable[[int], None] | None = None,
) -> LLMCollected:
    """Parse and check every reply in order; kept examples are stored in their canonical form.

    A failed request is counted and skipped, unless no request has succeeded yet: then the
    endpoint is most likely unreachable or misconfigured, and its error is raised.
    """
    by_index = {job.index: job for job in jobs}
    result = LLMCollected()
    for reply in replies:
        if progress is not None:
            progress(1)
        if reply.error is not None:
            if result.replies == 0:
                raise BackendError(reply.error)
            result.request_errors += 1
            result.first_error = result.first_error or reply.error
            continue
        result.replies += 1
        result.completion_tokens += reply.completion_tokens
        result.request_seconds += reply.seconds
        job = by_index[reply.index]
        pairs = parse_reply(reply.text)
        if not pairs:
            result.empty_replies += 1
        for number, (query, plan_text) in enumerate(pairs, start=1):
            result.candidates += 1
            example = candidate_example(f"{job.id}-{number}", query, plan_text, job.now)
            rejection = checker.examples.check(example)
            if rejection is None:
                # Stored canonically and without thoughts, like the offline data (and like the planner
                # prompt's examples); the checks ran on the text as written.
                plan = parse_plan(plan_text)
                bare = Plan(tuple(Action(a.id, a.tool, a.args) for a in plan.actions))
                example = Example.from_plan(example.id, query, bare, job.now)
                rejection = checker.admit(example, prechecked=True)
            if rejection is not None:
                _count(result, rejection)
                continue
            plan = parse_plan(example.plan)
            result.examples.append(example)
            result.buckets.append(shape_bucket(len(plan.tool_actions)))
            result.metas.append({"prompt": job.id})
    return result


def _count(result: Collected, rejection: Rejection) -> None:
    result.rejections[rejection.reason.value] += 1
    result.samples.setdefault(rejection.reason.value, rejection)


def admit_seeds(checker: DatasetChecker, pool: Iterable[Example]) -> list[Example]:
    """The seeds that neither leak a held-out request nor repeat another seed; all of them become "seen".

    Marking seeds as seen makes a reply that copies (or nearly copies) one a duplicate.
    """
    return [e for number, e in enumerate(pool) if checker.admit_text(f"seed-{number}", e.query) is None]


def build_llm_dataset(
    collected: LLMCollected,
    val: int,
    test: int,
    seed: int,
    holdout_size: int,
    command: str = "",
    notes: Sequence[str] = (),
    threshold: float = 0.8,
) -> DatasetRun:
    """Deal the kept examples into train/val/test (val and test first, with the offline shape mix)."""
    kept = len(collected.examples)
    if val + test > kept:
        raise GenerationError(
            f"only {kept} generated examples passed the checks, fewer than --val {val} + --test {test}; "
            f"ask for more prompts (rejections: {dict(collected.rejections)})"
        )
    sizes = {"train": kept - val - test, "val": val, "test": test}
    shares = {label: share for label, _low, _high, share in SHAPE_BUCKETS}
    dealt = assign_splits(collected, sizes, seed, shares)
    splits = {name: [e for e, _ in rows] for name, rows in dealt.items()}
    metas = {name: [m for _, m in rows] for name, rows in dealt.items()}
    leaks = split_leaks(splits, threshold)
    if leaks:  # cannot happen after the near-duplicate check; a guard against changes there
        raise GenerationError(f"{len(leaks)} requests are shared across splits, e.g. {leaks[0].detail}")
    card = CardInputs(
        title="pocketagent LLM-generated dataset",
        command=command,
        splits=splits,
        metas={},  # no register/typo metadata: the model wrote the requests
        rejections=dict(collected.rejections),
        candidates=collected.candidates,
        holdout_size=holdout_size,
        split_leaks=len(leaks),
        notes=list(notes),
    )
    return DatasetRun(splits, metas, card, leaks, dict(collected.samples))


def summary_notes(collected: LLMCollected, jobs: Sequence[GenerationJob], model: str) -> list[str]:
    """Lines for the card about the generation itself (not computable from the data)."""
    asked = sum(job.count for job in jobs)
    return [
        (
            f"Generated by model `{model}` from {len(jobs)} prompts asking for {asked} requests; "
            f"replies: {collected.replies}, with no readable request/plan pair: {collected.empty_replies}, "
            f"failed requests: {collected.request_errors}."
        ),
        "",
        (
            "Prompts show a sampled tool subset and seed examples from the offline generator; "
            "requests equal or near-equal to a seed count as duplicates."
        ),
    ]
