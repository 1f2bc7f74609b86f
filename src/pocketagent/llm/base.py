"""The one narrow interface every LLM backend implements: stream text chunks for a chat.

Backends yield `Chunk`s; the last chunk carries `Usage`. `complete()` drains the same
generator, so streaming and non-streaming calls cannot drift apart.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class GenerationOptions:
    """Decoding options shared by all backends."""

    max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    grammar: str | None = None  # GBNF; backends that cannot constrain decoding ignore it
    # Text the assistant turn starts with (already "said"); the stream continues after it.
    prefill: str = ""


@dataclass
class Usage:
    """What a generation cost; filled in by the backend on the final chunk."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    time_to_first_token_s: float = 0.0
    total_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        gen_time = self.total_s - self.time_to_first_token_s
        return self.completion_tokens / gen_time if gen_time > 0 else 0.0

    def plus(self, more: Usage) -> Usage:
        """The cost of this generation and `more` (another of the same plan); the first token is this one's."""
        return replace(
            self,
            prompt_tokens=self.prompt_tokens + more.prompt_tokens,
            completion_tokens=self.completion_tokens + more.completion_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens + more.cached_prompt_tokens,
            total_s=self.total_s + more.total_s,
        )


@dataclass(frozen=True)
class Chunk:
    text: str
    usage: Usage | None = None


@dataclass
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)


class CancelToken:
    """Set from another thread (Ctrl-C, a closed HTTP stream) to stop a generation early."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class LLMBackend(ABC):
    """A text generator. Subclasses implement `stream` only."""

    name: ClassVar[str] = "base"
    supports_grammar: ClassVar[bool] = False

    @property
    @abstractmethod
    def model_name(self) -> str:
        """A short name of the loaded model, for reports."""

    @abstractmethod
    def stream(
        self,
        messages: list[Message],
        options: GenerationOptions = GenerationOptions(),
        cancel: CancelToken | None = None,
    ) -> Iterator[Chunk]:
        """Yield the assistant's reply in chunks; the last chunk has `usage` set."""

    def complete(
        self,
        messages: list[Message],
        options: GenerationOptions = GenerationOptions(),
        cancel: CancelToken | None = None,
    ) -> Completion:
        """The whole reply at once (drains `stream`)."""
        parts: list[str] = []
        usage = Usage()
        for chunk in self.stream(messages, options, cancel):
            parts.append(chunk.text)
            if chunk.usage is not None:
                usage = chunk.usage
        return Completion("".join(parts), usage)

    def count_tokens(self, text: str) -> int:
        """Approximate token count (backends with a tokenizer override this)."""
        return max(1, len(text) // 4)

    def close(self) -> None:
        """Release the model; the default has nothing to release."""


BackendFactory = Callable[[Any], LLMBackend]
