"""A persistent on-disk cache of the llama.cpp state after the fixed prompt prefix.

Within one process llama-cpp-python reuses the KV cache of the previous prompt, but every
CLI invocation is a new process that would re-evaluate the ~1.5k-token planner prefix
(system prompt + example turns) before the first token. This module stores that state
once and lets a cold process load it instead.

What is stored: one file per prefix, holding the prefix token ids and the bytes of
`llama_state_get_data` taken right after evaluating exactly those tokens (the state's size
grows with the tokens held, not with n_ctx: ~23 KB per token for SmolLM2-135M).

Key: sha256 of the model file's identity (resolved path, size, mtime), n_ctx, the
llama-cpp-python version, this module's format version and the prefix token ids. A
changed model, context size, library or prompt therefore never loads a stale state.

File layout (little-endian):

    magic (8 bytes) | format version u32 | n_tokens u32 | state length u64 | crc32 u32 |
    key digest (32 bytes) | n_tokens x int32 token ids | state bytes

An entry whose magic, version, key, length, checksum or token ids do not match is
ignored (logged at DEBUG): a truncated or corrupted file costs one re-evaluation, never
an error. Writes go to a temp file that is renamed over the entry, so readers see the old
file or the new one. The directory keeps the `max_entries` most recently used entries.

This module only handles files; `LlamaCppBackend` decides what the prefix is and moves
the state in and out of llama.cpp.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import sys
import time
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pocketagent.atomic import atomic_writer
from pocketagent.errors import BackendError, ConfigError

_LOG = logging.getLogger(__name__)

FORMAT_VERSION = 1
MAGIC = b"PAKVPFX\x00"
ENTRY_SUFFIX = ".kv"
DEFAULT_MAX_ENTRIES = 4
# Temp files left by a writer that died are removed once they are this old.
STALE_TEMP_AGE_S = 3600.0

_HEADER = struct.Struct("<8sIIQI32s")
_TOKEN = struct.Struct("<i")
_TOKEN_MAX = 2**31 - 1
_KEY_HEX_LENGTH = 64


class _InvalidEntry(Exception):
    """A cache file that cannot be trusted (never leaves this module)."""


@dataclass(frozen=True)
class ModelIdentity:
    """What identifies a model file well enough to trust a state computed with it."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, model_path: Path) -> ModelIdentity:
        """The identity of the file at `model_path` (resolved, so symlinks and relative paths agree)."""
        resolved = Path(model_path).resolve()
        try:
            info = resolved.stat()
        except OSError as exc:
            raise BackendError(f"cannot read model file {resolved}: {exc.strerror or exc}") from None
        return cls(str(resolved), info.st_size, info.st_mtime_ns)


def prefix_cache_key(model: ModelIdentity, n_ctx: int, prefix_tokens: Sequence[int], runtime_version: str) -> str:
    """The hex sha256 naming the cache entry for this model, context size, runtime and prefix."""
    digest = hashlib.sha256()
    for part in (
        f"pocketagent-kv-prefix/{FORMAT_VERSION}",
        model.path,
        model.size,
        model.mtime_ns,
        n_ctx,
        runtime_version,
    ):
        digest.update(f"{part}\x00".encode())
    digest.update(_token_bytes(prefix_tokens))
    return digest.hexdigest()


def _token_bytes(tokens: Sequence[int]) -> bytes:
    if any(not 0 <= token <= _TOKEN_MAX for token in tokens):
        raise ValueError("token ids must be non-negative 32-bit integers")
    packed = array("i", tokens)
    if packed.itemsize != _TOKEN.size:  # exotic platforms: fall back to struct
        return b"".join(_TOKEN.pack(token) for token in tokens)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def _crc(*parts: bytes | memoryview) -> int:
    value = 0
    for part in parts:
        value = zlib.crc32(part, value)
    return value


def _encode_header(key: str, tokens: Sequence[int], state: bytes | memoryview) -> tuple[bytes, bytes]:
    """The header and token bytes that precede `state` in an entry file."""
    token_bytes = _token_bytes(tokens)
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, len(tokens), len(state), _crc(token_bytes, state), bytes.fromhex(key))
    return header, token_bytes


def _decode_entry(data: bytearray, key: str, tokens: Sequence[int]) -> memoryview:
    """The state bytes of a well-formed entry for `key` and `tokens` (a view into `data`).

    Raises _InvalidEntry for anything else: wrong magic, version or key, a length that does
    not add up (truncated or padded file), a checksum mismatch, other token ids.
    """
    if len(data) < _HEADER.size:
        raise _InvalidEntry(f"{len(data)} bytes is shorter than the header")
    magic, version, n_tokens, state_len, crc, key_digest = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise _InvalidEntry("not a prefix cache file (bad magic)")
    if version != FORMAT_VERSION:
        raise _InvalidEntry(f"format version {version}, expected {FORMAT_VERSION}")
    if key_digest != bytes.fromhex(key):
        raise _InvalidEntry("the file belongs to another key")
    expected_len = _HEADER.size + n_tokens * _TOKEN.size + state_len
    if len(data) != expected_len:
        raise _InvalidEntry(f"length {len(data)}, header says {expected_len} (truncated or padded)")
    view = memoryview(data)
    token_view = view[_HEADER.size : _HEADER.size + n_tokens * _TOKEN.size]
    state_view = view[_HEADER.size + n_tokens * _TOKEN.size :]
    if _crc(token_view, state_view) != crc:
        raise _InvalidEntry("checksum mismatch (corrupted)")
    if bytes(token_view) != _token_bytes(tokens):
        raise _InvalidEntry("the stored prefix tokens differ from the requested ones")
    if state_len == 0:
        raise _InvalidEntry("empty state")
    return state_view


@dataclass
class PrefixCacheStats:
    """Counters of one cache object (for logs, tests and benchmarks)."""

    hits: int = 0  # entries restored into the model (counted by the backend)
    misses: int = 0  # no entry on disk for the key
    rejected: int = 0  # an entry was there but unusable (corrupted, truncated, refused by llama.cpp)
    stores: int = 0
    store_failures: int = 0
    last_load_s: float = 0.0  # read + verify + restore of the last hit
    last_store_s: float = 0.0
    last_entry_bytes: int = 0  # size of the last entry read or written


class PrefixCache:
    """A directory of prefix-state entries, at most `max_entries` of them (least recently used go first)."""

    def __init__(self, directory: Path, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ConfigError(f"the prompt cache must keep at least 1 entry, got max_entries={max_entries}")
        self.directory = Path(directory).expanduser()
        self.max_entries = max_entries
        self.stats = PrefixCacheStats()

    def path_for(self, key: str) -> Path:
        """Where the entry for `key` (a `prefix_cache_key`) lives."""
        if len(key) != _KEY_HEX_LENGTH or any(c not in "0123456789abcdef" for c in key):
            raise BackendError(f"invalid prompt cache key {key[:80]!r}: expected a lowercase sha256 hex digest")
        return self.directory / f"{key}{ENTRY_SUFFIX}"

    def entries(self) -> list[Path]:
        """The entry files, most recently used first."""
        found: list[tuple[int, Path]] = []
        with contextlib.suppress(OSError):
            for path in self.directory.glob(f"*{ENTRY_SUFFIX}"):
                with contextlib.suppress(OSError):  # removed by another process meanwhile
                    found.append((path.stat().st_mtime_ns, path))
        return [path for _, path in sorted(found, key=lambda item: item[0], reverse=True)]

    def load(self, key: str, tokens: Sequence[int]) -> memoryview | None:
        """The stored state for `key` (computed after exactly `tokens`), or None if absent or unusable.

        The view is writable (llama.cpp can read it without a copy). A hit marks the entry
        as recently used.
        """
        path = self.path_for(key)
        try:
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                data = bytearray(size)
                read = handle.readinto(data)
        except FileNotFoundError:
            self.stats.misses += 1
            return None
        except OSError as exc:
            self.reject(key, f"unreadable: {exc.strerror or exc}")
            return None
        try:
            if read != size:
                raise _InvalidEntry(f"read {read} of {size} bytes")
            state = _decode_entry(data, key, tokens)
        except _InvalidEntry as exc:
            self.reject(key, str(exc))
            return None
        self.stats.last_entry_bytes = size
        with contextlib.suppress(OSError):
            os.utime(path)  # recency for pruning
        return state

    def reject(self, key: str, reason: str) -> None:
        """Count and log an unusable entry; the next `store` for the key replaces it."""
        self.stats.rejected += 1
        _LOG.debug("prompt cache: ignoring entry %s: %s", self.path_for(key), reason)

    def store(self, key: str, tokens: Sequence[int], state: bytes | memoryview) -> Path | None:
        """Write the entry for `key` atomically, then prune; None (logged) if it cannot be written."""
        started = time.perf_counter()
        path = self.path_for(key)
        try:
            header, token_bytes = _encode_header(key, tokens, state)
            _write_replacing(path, (header, token_bytes, state))
        except (OSError, ValueError) as exc:
            self.stats.store_failures += 1
            _LOG.debug("prompt cache: cannot write %s: %s", path, exc)
            return None
        self.stats.stores += 1
        self.stats.last_store_s = time.perf_counter() - started
        self.stats.last_entry_bytes = len(header) + len(token_bytes) + len(state)
        self.prune()
        return path

    def prune(self) -> None:
        """Delete all but the `max_entries` most recently used entries, and stale temp files."""
        for old in self.entries()[self.max_entries :]:
            with contextlib.suppress(OSError):
                old.unlink()
                _LOG.debug("prompt cache: evicted %s", old)
        cutoff = time.time() - STALE_TEMP_AGE_S
        with contextlib.suppress(OSError):
            for temp in self.directory.glob(f".*{ENTRY_SUFFIX}.*.tmp"):
                with contextlib.suppress(OSError):
                    if temp.stat().st_mtime < cutoff:
                        temp.unlink()


def _write_replacing(path: Path, parts: Sequence[bytes | memoryview]) -> None:
    """Write `parts` to a temp file beside `path` and rename it over `path`.

    Unlike the stores' writes this does not fsync (`durable=False`): an entry is a cache whose
    length and checksum are verified on every read, so a file damaged by a power loss is
    detected and rebuilt, and skipping the fsync of tens of megabytes keeps a cold start fast.
    """
    with atomic_writer(path, durable=False) as handle:
        for part in parts:
            handle.write(part)
