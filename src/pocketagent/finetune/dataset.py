"""Training sequences: (request, plan) examples rendered exactly as the planner prompts at run time.

The prompt is `compact_messages` rendered by the llama.cpp backend's own chat template and
tokenizer, so training and inference agree token for token; the loss covers only the plan
and the end-of-turn token.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pocketagent.agent.compact_prompt import compact_messages
from pocketagent.data.example import DataFormatError, Example
from pocketagent.data.formats import read_jsonl
from pocketagent.errors import ConfigError
from pocketagent.llm.base import Message
from pocketagent.timefmt import NOW_FORMAT
from pocketagent.tools.registry import ToolRegistry


class ChatTokenizer(Protocol):
    """What rendering needs from a backend: its chat template, tokenizer and end-of-turn text."""

    def format_prompt(self, messages: list[Message], prefill: str = "") -> str: ...

    def tokenize(self, text: str) -> list[int]: ...

    @property
    def end_of_turn(self) -> str: ...


@dataclass(frozen=True)
class Sequence:
    """One training sequence: prompt tokens (no loss) then target tokens (loss)."""

    id: str
    prompt: tuple[int, ...]
    target: tuple[int, ...]

    @property
    def tokens(self) -> tuple[int, ...]:
        return self.prompt + self.target

    def __len__(self) -> int:
        return len(self.prompt) + len(self.target)


def read_examples(path: Path) -> list[Example]:
    """Training examples of a JSONL file (the dataset reader of `data.formats`); each needs `now`."""
    try:
        examples = read_jsonl(path)
    except DataFormatError as exc:
        raise ConfigError(f"training data: {exc}") from None
    for number, example in enumerate(examples, 1):
        if not example.now:
            raise ConfigError(
                f"{path}: example {example.id or number} has no `now` (the date its plan resolves against)"
            )
    return examples


def render(example: Example, registry: ToolRegistry, tokenizer: ChatTokenizer) -> Sequence:
    """Prompt and target tokens of one example."""
    try:
        now = datetime.strptime(example.now, NOW_FORMAT)
    except ValueError:
        raise ConfigError(f"example {example.id}: `now` is not {NOW_FORMAT!r}: {example.now!r}") from None
    prompt = tokenizer.format_prompt(compact_messages(example.query, now, registry))
    target = example.plan.strip() + tokenizer.end_of_turn
    return Sequence(example.id, tuple(tokenizer.tokenize(prompt)), tuple(tokenizer.tokenize(target)))


def render_all(
    examples: Iterable[Example], registry: ToolRegistry, tokenizer: ChatTokenizer, max_tokens: int
) -> tuple[list[Sequence], int]:
    """Rendered sequences no longer than `max_tokens`, and how many were dropped as too long."""
    kept, dropped = [], 0
    for example in examples:
        sequence = render(example, registry, tokenizer)
        if len(sequence) <= max_tokens:
            kept.append(sequence)
        else:
            dropped += 1
    return kept, dropped


def batches(
    sequences: list[Sequence], batch_tokens: int, seed: int, epoch: int, skip: int = 0
) -> Iterator[list[Sequence]]:
    """Shuffled batches of similar-length sequences, each at most `batch_tokens` padded tokens.

    `skip` leading tokens (a prefix shared by all, computed once per batch) do not count.

    Sorting a shuffled window by length keeps padding (wasted CPU) small while the order
    still changes every epoch.
    """
    rng = random.Random(seed * 1_000_003 + epoch)
    order = sequences[:]
    rng.shuffle(order)
    window = 64
    out: list[list[Sequence]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=len)
        batch: list[Sequence] = []
        for sequence in chunk:
            longest = max([len(sequence), *(len(s) for s in batch)]) - skip
            if batch and longest * (len(batch) + 1) > batch_tokens:
                out.append(batch)
                batch = []
            batch.append(sequence)
        if batch:
            out.append(batch)
    rng.shuffle(out)
    yield from out
