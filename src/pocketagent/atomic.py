"""Crash-safe, concurrency-safe file writes, for the local stores and the on-disk caches.

A write goes to a temp file in the same directory, is fsynced, then renamed over the
target (atomic on POSIX), and the directory is fsynced. A process killed at any point
leaves either the old file or the new one, never a mix. Caches whose entries are verified
on read pass `durable=False` and skip the fsyncs. `locked()` serializes writers (threads
and processes) with a `filelock` lock on a sidecar `.lock` file.

A process killed between creating the temp file (``.NAME.xxxxxxxx.tmp``) and the rename
leaves that file behind; each store calls `remove_stale_temp_files` when it is opened.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from filelock import FileLock

# A live write takes well under a second (the stores hold text files); ten minutes leaves
# a wide margin for a slow disk or a writer in another process that is still running.
STALE_TEMP_AGE_S = 10 * 60
# mkstemp(prefix=".NAME.", suffix=".tmp") names: 8 characters from tempfile's alphabet.
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
# How often a waiting writer retries a held lock: store writes take milliseconds.
_LOCK_POLL_S = 0.005


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for `path` (a sidecar `<name>.lock` file) across threads and processes.

    Waits as long as the holder keeps it (a store write takes milliseconds). Not re-entrant:
    a thread that already holds the lock for `path` must not take it again.
    """
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    # A new FileLock per call: each holds its own descriptor, so flock also excludes the
    # other threads of this process (filelock falls back to a soft lock where flock is missing).
    with FileLock(lock_path, poll_interval=_LOCK_POLL_S):
        yield


@contextlib.contextmanager
def atomic_writer(path: Path, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file handle whose contents replace `path` atomically when the block ends without error.

    An exception inside the block leaves `path` untouched and removes the temp file. A
    symlink's target is replaced, not the link; the file keeps its mode (new files get the
    umask's). `durable=False` skips the fsyncs, for caches that verify what they read.
    """
    path = Path(os.path.realpath(path))  # a workspace file may be a link into a synced folder
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with contextlib.suppress(OSError):  # mkstemp makes 0600; keep the file's mode (or the umask's)
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically and durably (a symlink's target is replaced, not the link)."""
    with atomic_writer(path) as handle:
        handle.write(data)


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
