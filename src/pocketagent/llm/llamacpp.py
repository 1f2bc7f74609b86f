"""In-process generation with llama.cpp (llama-cpp-python) on a local GGUF model.

Why a raw completion instead of `create_chat_completion`: we render the chat with the
model's own template (GGUF `tokenizer.chat_template`) into one token sequence and decode
from it. The KV cache of the previous evaluation is kept and the longest common token
prefix reused, so the long planner system prompt is evaluated once and later requests only
pay for their new tokens. Rendering ourselves also lets us append a `prefill` after the
assistant header. At temperature 0 (the planner's setting) decoding is `greedy.GreedyDecoder`,
which checks the grammar one token at a time and gives llama-cpp-python's text ~1.4x faster;
at a temperature, llama-cpp-python's `create_completion` samples.

Across processes (each CLI run is one), an optional on-disk prompt cache
(`prefix_cache.PrefixCache`) holds the llama.cpp state after the conversation's stable
prefix: every token before the last message's content, i.e. for the planner the system
prompt and the example turns. The prefix is found automatically (see `stable_prefix`); on
a cold start it is restored from disk instead of evaluated, and when no usable entry
exists it is evaluated on its own first, saved, and the rest of the prompt follows.

`llama_cpp` is imported lazily (inside the constructor) so that commands that never
generate text start fast.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from pocketagent.errors import BackendError
from pocketagent.llm.base import CancelToken, Chunk, GenerationOptions, LLMBackend, Message, Usage
from pocketagent.llm.greedy import GreedyDecoder, reusable_prefix_length
from pocketagent.llm.models import adapter_path, resolve_model_path
from pocketagent.llm.prefix_cache import DEFAULT_MAX_ENTRIES, ModelIdentity, PrefixCache, prefix_cache_key

_LOG = logging.getLogger(__name__)
_GRAMMAR_CACHE_SIZE = 16  # compiled grammars kept (a plan grammar with the request's spans is per request)

GGUF_MAGIC = b"GGUF"

# Shorter stable prefixes are cheaper to evaluate than to save and load (~23 KB per token).
DEFAULT_PROMPT_CACHE_MIN_TOKENS = 256

# Used only when a GGUF file carries no chat template of its own.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class _LlamaLogRouter:
    """Sends llama.cpp's C-level log lines to Python logging instead of stderr.

    llama-cpp-python prints llama.cpp errors (e.g. grammar parse errors) to stderr even
    with verbose=False. We replace its process-wide callback once, log lines at DEBUG, and
    let a thread capture them (to put a grammar parse error into a BackendError message).
    The ctypes callback object must stay referenced for as long as llama.cpp may call it,
    which is why the router lives at module level.
    """

    def __init__(self) -> None:
        self._installed: Any = None
        self._install_lock = threading.Lock()
        self._local = threading.local()

    def install(self, llama_cpp: Any) -> None:
        with self._install_lock:
            if self._installed is not None:
                return

            def route(level: int, text: bytes, user_data: Any) -> None:
                message = text.decode("utf-8", errors="replace")
                captured = getattr(self._local, "lines", None)
                if captured is not None:
                    captured.append(message)
                _LOG.debug("llama.cpp: %s", message.rstrip())

            callback = llama_cpp.llama_log_callback(route)  # the ctypes wrapper llama.cpp calls
            llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
            self._installed = callback

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Collect the log lines this thread produces inside the block."""
        lines: list[str] = []
        self._local.lines = lines
        try:
            yield lines
        finally:
            self._local.lines = None


_LOG_ROUTER = _LlamaLogRouter()


@contextlib.contextmanager
def _captured_c_stderr() -> Iterator[list[str]]:
    """Collect what C code writes to file descriptor 2 inside the block.

    llama.cpp's grammar parser reports errors with fprintf(stderr) rather than its log
    callback. Redirecting the descriptor is process-wide, so this is used only around the
    rare, short grammar validation (results are cached).
    """
    lines: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all (daemonized): nothing to capture
        yield lines
        return
    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", errors="replace").splitlines())


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
        import llama_cpp.llama_chat_format
    except ImportError as exc:
        raise BackendError(
            f"the llamacpp backend needs llama-cpp-python ({exc}); install it with: pip install llama-cpp-python"
        ) from None
    _LOG_ROUTER.install(llama_cpp)
    return llama_cpp


def _check_gguf_header(path: Path) -> None:
    """Fail early, with a plain message, on files that are obviously not GGUF models."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise BackendError(f"cannot read model file {path}: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise BackendError(f"cannot load model {path}: not a GGUF file (it does not start with 'GGUF')")


class LlamaCppBackend(LLMBackend):
    """One llama.cpp model loaded once and reused for every request.

    Generations on one backend are serialized (the model has one KV cache). A second
    `stream` started from the same thread before the first is drained or closed raises
    BackendError instead of deadlocking.
    """

    name = "llamacpp"
    supports_grammar = True

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int = 1,
        n_batch: int = 512,
        seed: int = 0,
        prompt_cache_dir: Path | None = None,
        prompt_cache_max_entries: int = DEFAULT_MAX_ENTRIES,
        prompt_cache_min_tokens: int = DEFAULT_PROMPT_CACHE_MIN_TOKENS,
        lora_path: Path | None = None,
    ) -> None:
        """Load `model_path`; with `prompt_cache_dir`, keep stable prompt prefixes' state on disk there.

        Only prefixes of at least `prompt_cache_min_tokens` tokens are cached; the directory
        keeps the `prompt_cache_max_entries` most recently used ones. `lora_path` is a GGUF
        LoRA adapter applied on top of the model (e.g. the fine-tuned planner).
        """
        prompt_cache = PrefixCache(prompt_cache_dir, prompt_cache_max_entries) if prompt_cache_dir else None
        llama_cpp = _import_llama_cpp()
        self._llama_cpp = llama_cpp
        self._model_path = Path(model_path)
        _check_gguf_header(self._model_path)
        self._lora_path = Path(lora_path) if lora_path else None
        if self._lora_path is not None:
            _check_gguf_header(self._lora_path)
        try:
            self._llm: Any = llama_cpp.Llama(
                model_path=str(self._model_path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_batch=min(n_batch, n_ctx),
                seed=seed,
                lora_path=str(self._lora_path) if self._lora_path else None,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            what = f"model {self._model_path}" + (f" with adapter {self._lora_path}" if self._lora_path else "")
            raise BackendError(
                f"cannot load {what}: llama.cpp rejected it "
                f"(corrupted, truncated, unsupported or mismatched GGUF file): {exc}"
            ) from None
        self._n_ctx: int = self._llm.n_ctx()
        self._formatter = self._chat_formatter()
        self._grammars: OrderedDict[str, Any] = OrderedDict()
        self._greedy = GreedyDecoder(llama_cpp, self._llm)
        self._generation_lock = threading.Lock()
        self._generating_thread: int | None = None
        self._prompt_cache = prompt_cache
        self._prompt_cache_min_tokens = max(1, prompt_cache_min_tokens)
        # Taken at load time: the state belongs to the file as it was when loaded.
        self._model_identity = ModelIdentity.of(self._model_path)
        # The cached KV state depends on the adapter too.
        adapter = ModelIdentity.of(self._lora_path) if self._lora_path else None
        self._runtime_key = llama_cpp.__version__ + (
            f"|lora:{adapter.path}:{adapter.size}:{adapter.mtime_ns}" if adapter else ""
        )

    @classmethod
    def from_settings(cls, settings: Any) -> LlamaCppBackend:
        """Build from `Settings` (model, n_ctx, n_threads, n_batch, seed, prompt_cache_dir)."""
        return cls(
            resolve_model_path(settings.model),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            n_batch=settings.n_batch,
            seed=settings.seed,
            prompt_cache_dir=getattr(settings, "prompt_cache_dir", None),
            lora_path=adapter_path(settings),
        )

    @property
    def model_name(self) -> str:
        return self._model_path.stem

    @property
    def n_ctx(self) -> int:
        """The context window in tokens (prompt + completion)."""
        return self._n_ctx

    @property
    def prompt_cache(self) -> PrefixCache | None:
        """The on-disk prefix cache (None when disabled); its `stats` count hits, misses and writes."""
        return self._prompt_cache

    # -- prompt -----------------------------------------------------------------

    def _chat_formatter(self) -> Any:
        llm = self._llm
        template = llm.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE

        def token_text(token_id: int) -> str:
            return llm._model.token_get_text(token_id) if token_id >= 0 else ""

        import jinja2  # a dependency of llama-cpp-python

        try:
            return self._llama_cpp.llama_chat_format.Jinja2ChatFormatter(
                template=template,
                eos_token=token_text(llm.token_eos()),
                bos_token=token_text(llm.token_bos()),
                add_generation_prompt=True,
            )
        except jinja2.TemplateError as exc:
            raise BackendError(f"the chat template of model {self._model_path} is unusable: {exc}") from None

    def format_prompt(self, messages: list[Message], prefill: str = "") -> str:
        """The chat rendered with the model's template, ending with the assistant header + prefill."""
        if not messages:
            raise BackendError("cannot generate from an empty conversation (no messages)")
        import jinja2

        try:
            rendered = self._formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        # Templates call raise_exception() (ValueError) on role orders they do not support.
        except (jinja2.TemplateError, ValueError, TypeError) as exc:
            raise BackendError(f"the model's chat template rejected the conversation: {exc}") from None
        prompt: str = rendered.prompt
        return prompt + prefill

    def _tokenize(self, text: str) -> list[int]:
        # special=True: the rendered template contains control tokens such as <|im_start|>.
        # add_bos=False: templates that need BOS write it themselves (Jinja2ChatFormatter's added_special).
        return list(self._require_model().tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text` as the prompt is tokenized (control tokens recognised, no BOS added)."""
        return self._tokenize(text)

    @property
    def end_of_turn(self) -> str:
        """The text that ends an assistant turn in this model's chat template (its EOS token)."""
        return self._formatter.eos_token or ""

    def count_tokens(self, text: str) -> int:
        """Exact token count with the model's tokenizer."""
        return len(self._tokenize(text))

    def stable_prefix(self, messages: list[Message], prompt_tokens: list[int] | None = None) -> list[int]:
        """The leading prompt tokens that do not depend on the last message's content.

        The conversation is rendered once more with the last message emptied; the tokens it
        shares with the real prompt are the prefix (so tokenizer merges at the boundary can
        only shorten it, never make it wrong). At least one prompt token is left to evaluate,
        and a single-message conversation has no prefix worth keeping. `prompt_tokens` is
        the tokenized prompt of `messages` (with any prefill), if the caller already has it.
        """
        if len(messages) < 2:
            return []
        if prompt_tokens is None:
            prompt_tokens = self._tokenize(self.format_prompt(messages))
        try:
            probe = self._tokenize(self.format_prompt([*messages[:-1], Message(messages[-1].role, "")]))
        except BackendError:  # a template that refuses an empty message: no caching, not an error
            return []
        shared = 0
        for probe_token, prompt_token in zip(probe, prompt_tokens):
            if probe_token != prompt_token:
                break
            shared += 1
        return prompt_tokens[: min(shared, len(prompt_tokens) - 1)]

    # -- grammar ----------------------------------------------------------------

    def _compiled_grammar(self, gbnf: str) -> Any:
        """A LlamaGrammar for `gbnf`, validated once and cached by its text.

        llama.cpp crashes the process when sampling with a grammar that failed to parse,
        so we parse it first through the C API and turn a failure into BackendError.
        """
        cached = self._grammars.get(gbnf)
        if cached is not None:
            self._grammars.move_to_end(gbnf)
            return cached
        llama_cpp = self._llama_cpp
        vocab = llama_cpp.llama_model_get_vocab(self._require_model().model)
        with _LOG_ROUTER.capture() as log_lines, _captured_c_stderr() as stderr_lines:
            sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
        if not sampler:
            # The parser's own message (stderr) is the useful one; the log adds "failed to parse".
            # It echoes the grammar text after the error; drop that echo.
            echoed = {line.strip() for line in gbnf.splitlines()}
            found = [line.strip() for line in stderr_lines + log_lines if line.strip() and line.strip() not in echoed]
            detail = "; ".join(dict.fromkeys(found))[:500]
            raise BackendError(f"invalid GBNF grammar: {detail or 'llama.cpp could not parse it'}")
        llama_cpp.llama_sampler_free(sampler)
        grammar = llama_cpp.LlamaGrammar.from_string(gbnf, verbose=False)
        self._grammars[gbnf] = grammar
        if len(self._grammars) > _GRAMMAR_CACHE_SIZE:  # per-request grammars (copied spans) come and go
            self._grammars.popitem(last=False)
        return grammar

    # -- generation -------------------------------------------------------------

    def _require_model(self) -> Any:
        if self._llm is None:
            raise BackendError("the llamacpp backend is closed")
        return self._llm

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._generating_thread == me:
            raise BackendError(
                "a generation is already running on this backend in this thread; "
                "drain or close the previous stream first"
            )
        with self._generation_lock:
            self._generating_thread = me
            try:
                yield
            finally:
                self._generating_thread = None

    def _reused_prefix_length(self, tokens: list[int]) -> int:
        """How many leading prompt tokens the KV cache already holds (mirrors Llama.generate)."""
        return reusable_prefix_length(self._llm, tokens)

    def stream(
        self,
        messages: list[Message],
        options: GenerationOptions = GenerationOptions(),
        cancel: CancelToken | None = None,
    ) -> Iterator[Chunk]:
        """Yield the reply as it is generated; the final chunk (text "") carries Usage.

        `options.prefill` is placed after the assistant header and is not repeated in the
        output. `options.grammar` (GBNF) constrains what follows the prefill.
        """
        self._require_model()
        if options.max_tokens < 1:  # llama-cpp-python would read 0 as "until the context is full"
            raise BackendError(f"max_tokens must be at least 1, got {options.max_tokens}")
        prompt_tokens = self._tokenize(self.format_prompt(messages, options.prefill))
        if len(prompt_tokens) >= self._n_ctx:
            raise BackendError(
                f"request too long: the prompt is {len(prompt_tokens)} tokens but the model's context "
                f"window (n_ctx) is {self._n_ctx}; shorten the request or raise n_ctx"
            )
        grammar = self._compiled_grammar(options.grammar) if options.grammar else None
        stop = [*options.stop, *self._formatter_stop()]

        def cancelled(*_: Any) -> bool:
            return cancel is not None and cancel.cancelled

        with self._exclusive():
            started = time.perf_counter()
            cached_tokens = self._reused_prefix_length(prompt_tokens)
            if self._prompt_cache is not None and not cancelled():
                cached_tokens = self._prepare_prefix(messages, prompt_tokens, cached_tokens)
            first_text_at: float | None = None
            parts: list[str] = []
            pieces = self._pieces(prompt_tokens, options, stop, grammar, cancelled)
            try:
                while not cancelled():
                    try:
                        text = next(pieces)
                    except StopIteration:
                        break
                    except (ValueError, RuntimeError) as exc:
                        raise BackendError(f"llama.cpp generation failed: {exc}") from None
                    if text and not cancelled():
                        if first_text_at is None:
                            first_text_at = time.perf_counter()
                        parts.append(text)
                        yield Chunk(text)
            finally:
                pieces.close()
            finished = time.perf_counter()
        generated = "".join(parts)
        usage = Usage(
            prompt_tokens=len(prompt_tokens),
            completion_tokens=self.count_tokens(generated) if generated else 0,
            cached_prompt_tokens=cached_tokens,
            time_to_first_token_s=(first_text_at or finished) - started,
            total_s=finished - started,
        )
        yield Chunk("", usage)

    def _pieces(
        self,
        prompt_tokens: list[int],
        options: GenerationOptions,
        stop: list[str],
        grammar: Any,
        cancelled: Callable[..., bool],
    ) -> Generator[str, None, None]:
        """The generated text in pieces: our greedy decoder at temperature 0, else llama-cpp-python's sampler."""
        if options.temperature == 0:
            sampler = self._greedy.new_grammar(options.grammar) if options.grammar else None
            try:
                yield from self._greedy.run(
                    prompt_tokens, max_tokens=options.max_tokens, stop=stop, grammar=sampler, cancelled=cancelled
                )
            finally:
                if sampler is not None:
                    self._greedy.free_grammar(sampler)
            return
        # stopping_criteria is checked after every sampled token, so a cancel also
        # interrupts text llama-cpp-python holds back while matching stop strings.
        completion = self._require_model().create_completion(
            prompt_tokens,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            seed=options.seed,
            stop=stop,
            grammar=grammar,
            stream=True,
            stopping_criteria=self._llama_cpp.StoppingCriteriaList([cancelled]),
        )
        try:
            for piece in completion:
                yield piece["choices"][0]["text"]
        finally:
            completion.close()

    # -- on-disk prompt cache ------------------------------------------------------

    def _prepare_prefix(self, messages: list[Message], prompt_tokens: list[int], cached_tokens: int) -> int:
        """Put the stable prefix into the KV cache: from disk, else evaluated and saved.

        Returns how many prompt tokens this request did not evaluate: `cached_tokens` when
        nothing was done, the prefix length after a restore, 0 after evaluating the prefix.
        """
        cache = self._prompt_cache
        prefix = self.stable_prefix(messages, prompt_tokens)
        if cache is None or len(prefix) < self._prompt_cache_min_tokens or cached_tokens >= len(prefix):
            return cached_tokens  # nothing worth caching, or the in-memory KV cache already holds it
        key = prefix_cache_key(self._model_identity, self._n_ctx, prefix, self._runtime_key)
        started = time.perf_counter()
        state = cache.load(key, prefix)
        if state is not None and self._restore_state(prefix, state):
            cache.stats.hits += 1
            cache.stats.last_load_s = time.perf_counter() - started
            _LOG.debug("prompt cache: restored %d prefix tokens in %.3f s", len(prefix), cache.stats.last_load_s)
            return len(prefix)
        if state is not None:
            cache.reject(key, "llama.cpp could not load the state")
        self._evaluate_prefix(prefix)
        cache.store(key, prefix, self._current_state())
        return 0

    def _restore_state(self, prefix: list[int], state: memoryview) -> bool:
        """Load `state` (taken right after evaluating `prefix`) into the context; False if refused."""
        llama_cpp, llm = self._llama_cpp, self._llm
        llm.reset()
        buffer = (ctypes.c_uint8 * len(state)).from_buffer(state)
        if llama_cpp.llama_state_set_data(llm.ctx, buffer, len(state)) != len(state):
            llm.reset()  # the KV cells are in an unknown state: the next eval starts from 0
            return False
        # Mirror what Llama.eval records, so create_completion reuses the prefix.
        llm.input_ids[: len(prefix)] = prefix
        llm.n_tokens = len(prefix)
        return True

    def _evaluate_prefix(self, prefix: list[int]) -> None:
        llm = self._llm
        llm.reset()
        try:
            llm.eval(prefix)
        except (ValueError, RuntimeError) as exc:
            llm.reset()
            raise BackendError(f"llama.cpp generation failed: {exc}") from None

    def _current_state(self) -> memoryview:
        """The context's state (KV cells in use + bookkeeping), as llama.cpp serializes it."""
        llama_cpp, ctx = self._llama_cpp, self._llm.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(ctx, buffer, size)
        return memoryview(buffer).cast("B")[: min(written, size)]

    def _formatter_stop(self) -> list[str]:
        eos = self._formatter.eos_token
        return [eos] if eos else []

    def close(self) -> None:
        """Free the model and its context; the backend is unusable afterwards."""
        llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()
        self._grammars.clear()
