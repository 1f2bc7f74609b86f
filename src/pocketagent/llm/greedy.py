"""Greedy decoding on a llama.cpp context with a grammar checked one token at a time.

llama-cpp-python's sampler chain applies a grammar to the whole vocabulary (49k tokens for
SmolLM2) before every token, which more than halves generation speed. llama.cpp's own
sampler (`common_sampler_sample`) avoids that: take the most likely token, ask the grammar
about that one token, and mask the whole vocabulary only when the grammar refuses it. For
greedy decoding the result is the same token either way (the argmax of the masked logits is
the argmax of the logits whenever the grammar accepts it), so this module does that with
llama.cpp's C API and leaves sampling at a temperature to llama-cpp-python.

`GreedyDecoder.run` feeds the prompt (reusing the KV cache's common prefix, as
`Llama.generate` does), then yields text pieces until an end-of-generation token, a stop
string, `max_tokens` or a cancel. Text is held back while it could be the start of a stop
string, and multi-byte UTF-8 characters split across tokens are joined before yielding.
"""

from __future__ import annotations

import codecs
import ctypes
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from pocketagent.errors import BackendError

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class GreedyDecoder:
    """Greedy generation for one `llama_cpp.Llama`, with an optional GBNF grammar."""

    def __init__(self, llama_cpp: Any, llm: Any) -> None:
        self._c = llama_cpp
        self._llm = llm
        self._vocab = llm._model.vocab
        self._n_vocab: int = llm.n_vocab()
        # Reused for the (rare) full-vocabulary grammar pass: one buffer, no per-token allocation.
        self._candidates = np.zeros(self._n_vocab, dtype=_TOKEN_DATA)
        self._candidates["id"] = np.arange(self._n_vocab, dtype=np.intc)
        self._one = (llama_cpp.llama_token_data * 1)()
        self._piece = ctypes.create_string_buffer(64)
        self.full_passes = 0  # tokens the grammar refused, for benchmarks and tests

    def new_grammar(self, gbnf: str) -> Any:
        """A fresh grammar sampler (its own parse state) for one generation; free with `free_grammar`."""
        sampler = self._c.llama_sampler_init_grammar(self._vocab, gbnf.encode("utf-8"), b"root")
        if not sampler:
            raise BackendError("invalid GBNF grammar: llama.cpp could not parse it")
        return sampler

    def free_grammar(self, sampler: Any) -> None:
        """Release a sampler made by `new_grammar`."""
        self._c.llama_sampler_free(sampler)

    def feed_prompt(self, tokens: Sequence[int]) -> None:
        """Evaluate `tokens`, reusing the longest prefix the KV cache already holds.

        At least the last token is always evaluated, so the logits belong to this prompt.
        """
        llm = self._llm
        llm.n_tokens = reusable_prefix_length(llm, tokens)
        llm.eval(list(tokens[llm.n_tokens :]))  # eval drops the KV cells past n_tokens first

    def run(
        self,
        prompt_tokens: Sequence[int],
        *,
        max_tokens: int,
        stop: Sequence[str],
        grammar: Any | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Iterator[str]:
        """Yield the generated text in pieces (the stop string itself is not yielded)."""
        self.feed_prompt(prompt_tokens)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = [s for s in stop if s]
        hold = max((len(s) for s in stops), default=1) - 1
        text = ""  # decoded so far
        emitted = 0  # characters of `text` already yielded
        for _ in range(max_tokens):
            if cancelled():
                return
            token = self._next_token(grammar)
            if self._c.llama_vocab_is_eog(self._vocab, token):
                break
            if grammar is not None:
                self._c.llama_sampler_accept(grammar, token)
            text += decoder.decode(self._token_bytes(token))
            cut = _first_stop(text, stops, max(0, emitted - hold))
            if cut is not None:
                if cut > emitted:
                    yield text[emitted:cut]
                return
            safe = len(text) - _partial_stop_length(text, stops)
            if safe > emitted:
                yield text[emitted:safe]
                emitted = safe
            self._llm.eval([token])
        text += decoder.decode(b"", final=True)
        cut = _first_stop(text, stops, max(0, emitted - hold))
        end = len(text) if cut is None else cut
        if end > emitted:
            yield text[emitted:end]

    def _next_token(self, grammar: Any | None) -> int:
        c = self._c
        logits = np.ctypeslib.as_array(c.llama_get_logits_ith(self._llm.ctx, -1), shape=(self._n_vocab,))
        token = int(np.argmax(logits))
        if grammar is None or self._grammar_allows(grammar, token, float(logits[token])):
            return token
        # The grammar refused the favourite: mask the whole vocabulary, take the best allowed.
        self.full_passes += 1
        candidates = self._candidates
        candidates["logit"] = logits
        array = c.llama_token_data_array(
            data=candidates.ctypes.data_as(ctypes.POINTER(c.llama_token_data)),
            size=self._n_vocab,
            selected=-1,
            sorted=False,
        )
        c.llama_sampler_apply(grammar, ctypes.byref(array))
        masked = candidates["logit"]
        token = int(np.argmax(masked))
        if not np.isfinite(masked[token]):
            raise BackendError("the grammar allows no next token (a dead end in the grammar)")
        return token

    def _grammar_allows(self, grammar: Any, token: int, logit: float) -> bool:
        c = self._c
        one = self._one
        one[0].id, one[0].logit, one[0].p = token, logit, 0.0
        array = c.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
        c.llama_sampler_apply(grammar, ctypes.byref(array))
        return bool(np.isfinite(one[0].logit))

    def _token_bytes(self, token: int) -> bytes:
        size = self._c.llama_token_to_piece(self._vocab, token, self._piece, len(self._piece), 0, False)
        if size < 0:  # the piece is longer than the buffer: grow it once and retry
            self._piece = ctypes.create_string_buffer(-size)
            size = self._c.llama_token_to_piece(self._vocab, token, self._piece, len(self._piece), 0, False)
        return bytes(self._piece.raw[:size])


def reusable_prefix_length(llm: Any, tokens: Sequence[int]) -> int:
    """How many leading `tokens` the KV cache of `llm` already holds, leaving at least the last
    token to evaluate (fresh logits for this prompt)."""
    common = 0
    for old, new in zip(llm.input_ids[: llm.n_tokens].tolist(), tokens):
        if old != new:
            break
        common += 1
    return min(common, max(len(tokens) - 1, 0))


def _first_stop(text: str, stops: Sequence[str], start: int) -> int | None:
    """Index of the earliest stop string in `text` at or after `start`, or None."""
    found = [i for i in (text.find(s, start) for s in stops) if i >= 0]
    return min(found) if found else None


def _partial_stop_length(text: str, stops: Sequence[str]) -> int:
    """Length of the longest end of `text` that is the start of some stop string."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest
