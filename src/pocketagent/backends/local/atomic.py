"""Crash-safe, concurrency-safe file writes for the local stores.

A write goes to a temp file in the same directory, is fsynced, then renamed over the
target (atomic on POSIX), and the directory is fsynced. A process killed at any point
leaves either the old file or the new one, never a mix. `locked()` serializes writers
(threads and processes) with an advisory lock on a sidecar `.lock` file.

A process killed between creating the temp file (``.NAME.xxxxxxxx.tmp``) and the rename
leaves that file behind; each store calls `remove_stale_temp_files` when it is opened.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: thread-level locking only
    fcntl = None  # type: ignore[assignment]

# A live write takes well under a second (the stores hold text files); ten minutes leaves
# a wide margin for a slow disk or a writer in another process that is still running.
STALE_TEMP_AGE_S = 10 * 60
# mkstemp(prefix=".NAME.", suffix=".tmp") names: 8 characters from tempfile's alphabet.
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    # flock is per open file description, so threads of one process need their own lock too.
    with _thread_locks_guard:
        return _thread_locks.setdefault(str(path), threading.Lock())


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for `path` (a sidecar `<name>.lock` file) across threads and processes."""
    path = Path(os.path.abspath(path))  # one thread lock per file, however the path was spelled
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with _thread_lock(lock_path), open(lock_path, "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically and durably (a symlink's target is replaced, not the link)."""
    path = Path(os.path.realpath(path))  # a workspace file may be a link into a synced folder
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with contextlib.suppress(OSError):  # mkstemp makes 0600; keep the file's mode (or the umask's)
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temp_files(directory: Path, max_age_s: float = STALE_TEMP_AGE_S, recursive: bool = False) -> int:
    """Delete the temp files of `atomic_write_bytes` calls that never finished; returns how many.

    Only regular files named like ours (``.NAME.xxxxxxxx.tmp``) and untouched for
    `max_age_s` are removed: a write in progress (in this or another process) keeps its
    file's mtime fresh. With `recursive`, visible subfolders are searched too (hidden ones,
    such as ``.git`` or ``.obsidian``, never hold our writes). Errors are ignored: a file
    that cannot be removed now is retried on the next open.
    """
    removed = 0
    cutoff = time.time() - max_age_s
    pending = [Path(directory)]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    try:
                        if recursive and not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                            pending.append(Path(entry.path))
                        elif (
                            _TEMP_NAME.match(entry.name)
                            and entry.is_file(follow_symlinks=False)
                            and entry.stat(follow_symlinks=False).st_mtime < cutoff
                        ):
                            os.unlink(entry.path)
                            removed += 1
                    except OSError:
                        continue
        except OSError:  # missing or unreadable folder: nothing to clean
            continue
    return removed


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # os.umask() can only be read by setting it, which races with other threads; Linux shows it here.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not supported on every platform/filesystem
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
