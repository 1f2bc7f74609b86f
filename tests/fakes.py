"""The one scripted LLM backend of the tests: fixed replies instead of a model.

Imported by name (`from fakes import ScriptedLLM`: tests/conftest.py puts tests/ on sys.path), like
tests/server's `server_kit`. It tests the wiring around a planner or sub-agent, not answer quality.

A reply is one of
- a string: the same answer to every call;
- a list of strings: one per call, in order (a call past the end fails the test);
- a callable: `reply(messages)` computes the answer;
- None: the answer is looked up in `plans` by the prompt's `Request: ...` line; an unscripted
  request gets a plan calling a tool that does not exist, so a test that forgot a script fails loudly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator

from pocketagent.llm.base import CancelToken, Chunk, GenerationOptions, LLMBackend, Message, Usage

Reply = str | list[str] | Callable[[list[Message]], str] | None
_REQUEST_LINE = re.compile(r"^Request: (.*)$", re.MULTILINE)


def request_of(messages: list[Message]) -> str:
    """The user's request as the planner prompt states it (its `Request: ...` line), or ""."""
    found = _REQUEST_LINE.search(messages[-1].content) if messages else None
    return found.group(1).strip() if found else ""


class ScriptedLLM(LLMBackend):
    """Streams scripted replies `chunk_size` characters at a time and records every call.

    Recorded per call: `prompts` (the messages), `options` (the GenerationOptions) and `requests`
    (the `Request:` line). `hold` makes the stream wait (up to 10 s) before its last chunk until
    the event is set, which proves that an action started while the plan was still being written.
    `error` is raised by every call instead of answering; `prompt_tokens` fixes the usage reported.
    """

    name = "scripted"

    def __init__(
        self,
        reply: Reply = None,
        *,
        plans: dict[str, str] | None = None,
        chunk_size: int = 7,
        hold: threading.Event | None = None,
        error: Exception | None = None,
        model: str = "scripted",
        prompt_tokens: int | None = None,
    ) -> None:
        self.reply = list(reply) if isinstance(reply, list) else reply  # the caller's list stays whole
        self.plans: dict[str, str] = {} if plans is None else plans
        self.chunk_size = chunk_size
        self.hold = hold
        self.error = error
        self.model = model
        self.prompt_tokens = prompt_tokens  # the usage reported; None: about a quarter of the prompt's characters
        self.prompts: list[list[Message]] = []
        self.options: list[GenerationOptions] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()  # the server and the agent call from several threads

    @property
    def model_name(self) -> str:
        return self.model

    def _answer(self, messages: list[Message], request: str) -> str:
        if callable(self.reply):
            return self.reply(messages)
        if isinstance(self.reply, list):
            with self._lock:
                return self.reply.pop(0)
        if isinstance(self.reply, str):
            return self.reply
        return self.plans.get(request, f'1. not_scripted("{request}")\n2. join()<END_OF_PLAN>')

    def stream(
        self,
        messages: list[Message],
        options: GenerationOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Chunk]:
        request = request_of(messages)
        with self._lock:
            self.prompts.append(messages)
            self.options.append(options if options is not None else GenerationOptions())
            self.requests.append(request)
        if self.error is not None:
            raise self.error
        text = self._answer(messages, request)
        pieces = [text[i : i + self.chunk_size] for i in range(0, len(text), self.chunk_size)] or [""]
        for index, piece in enumerate(pieces):
            if cancel is not None and cancel.cancelled:
                return
            if index == len(pieces) - 1 and self.hold is not None:
                self.hold.wait(10)
            yield Chunk(piece)
        prompt_tokens = self.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = max(1, sum(len(message.content) for message in messages) // 4)
        yield Chunk("", Usage(prompt_tokens=prompt_tokens, completion_tokens=len(pieces)))
