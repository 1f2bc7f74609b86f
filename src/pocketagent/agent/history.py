"""The run history: every run (request, plan, actions, answer, timings, model) in one SQLite file.

`pocketagent run`, the HTTP server and anything else that runs the agent fold a run's events
into a `RunRecord` and `RunLog.record()` it; `pocketagent logs` reads them back.

Several processes (CLI runs, the server's threads) may write at once, so the file is in WAL
mode, every call opens its own connection and waits (busy timeout) for a writer instead of
failing, and each record is one `BEGIN IMMEDIATE` transaction. Every sqlite3 failure (a
damaged file, a lock held too long, a schema from a newer pocketagent) becomes a `HistoryError`.
JSON columns are TEXT; the schema version is `PRAGMA user_version`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pocketagent.agent.agent import RunSummary
from pocketagent.agent.events import ActionFailed, ActionFinished, Event, Replanning
from pocketagent.errors import HistoryError, PocketAgentError
from pocketagent.settings import Settings

SCHEMA_VERSION = 1
HISTORY_FILE_NAME = "history.sqlite"
DEFAULT_BUSY_TIMEOUT_S = 30.0  # a writer holds the lock for milliseconds; waiting long loses nothing

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    request TEXT NOT NULL,
    source TEXT NOT NULL,
    model TEXT NOT NULL,
    plan TEXT,
    actions TEXT NOT NULL,
    answer TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT,
    timings TEXT NOT NULL,
    dry_run INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_started_at ON runs (started_at);
"""
_COLUMNS = (
    "started_at", "request", "source", "model", "plan", "actions", "answer", "ok", "error", "timings", "dry_run",
)  # fmt: skip


def _storable(text: str) -> str:
    """`text` as valid UTF-8: a lone surrogate (an undecodable command-line byte) becomes a visible escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _json(value: Any) -> str:
    # ASCII escapes keep lone surrogates in tool results storable, and json.loads restores them.
    return json.dumps(value, ensure_ascii=True, default=str)


@dataclass(frozen=True)
class RunRecord:
    """One run as stored: what was asked, planned, done and answered, by which model, how fast.

    `actions` are the `run --json` action dicts of the last plan (id, tool, args, status ok /
    failed / skipped / planned, result or error) plus `duration_s`. `timings` holds the last
    plan's stats (plan_s, time_to_first_action_s, prompt/completion tokens, ...), `total_s`
    and `replans`. `model` is "" for a given plan (`run --plan`, no model).
    """

    id: int | None
    started_at: str  # ISO 8601 local time with offset
    request: str
    source: str  # "cli" | "server" | "eval" ...
    model: str
    plan: str | None
    actions: list[dict[str, Any]]
    answer: str
    ok: bool
    error: str | None
    timings: dict[str, Any]
    dry_run: bool = False

    @classmethod
    def from_events(
        cls,
        request: str,
        events: Sequence[Event],
        *,
        model: str,
        source: str,
        started_at: datetime,
        total_s: float,
        dry_run: bool = False,
        error: str | None = None,
    ) -> RunRecord:
        """Fold a run's events (as `RunSummary` does for `--json`) into a record.

        `error` is a failure that ended the run early (a backend error, Ctrl-C); without it the
        plan's parse error, if any, is the record's error. A naive `started_at` is local time
        (stored with the local offset); an aware one keeps its offset.
        """
        summary = RunSummary()
        for event in events:
            summary.add(event)
        folded = summary.to_dict()
        actions = [dict(action) for action in folded["actions"]]
        durations = _last_plan_durations(events)
        for action in actions:
            if action["id"] in durations:
                action["duration_s"] = durations[action["id"]]
        return cls(
            id=None,
            started_at=(started_at if started_at.tzinfo else started_at.astimezone()).isoformat(timespec="seconds"),
            request=request,
            source=source,
            model=model,
            plan=folded["plan"] or None,
            actions=actions,
            answer=folded["answer"],
            ok=folded["ok"] and error is None,
            error=error or folded["plan_error"],
            timings={**folded["stats"], "total_s": round(total_s, 4), "replans": folded["replans"]},
            dry_run=dry_run,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: what `pocketagent logs --json` prints."""
        return asdict(self)

    def _row(self) -> tuple[Any, ...]:
        return (
            _storable(self.started_at), _storable(self.request), _storable(self.source), _storable(self.model),
            None if self.plan is None else _storable(self.plan), _json(self.actions), _storable(self.answer),
            int(self.ok), None if self.error is None else _storable(self.error), _json(self.timings), int(self.dry_run),
        )  # fmt: skip

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> RunRecord:
        return cls(
            id=row["id"], started_at=row["started_at"], request=row["request"], source=row["source"],
            model=row["model"], plan=row["plan"], actions=json.loads(row["actions"]), answer=row["answer"],
            ok=bool(row["ok"]), error=row["error"], timings=json.loads(row["timings"]), dry_run=bool(row["dry_run"]),
        )  # fmt: skip


def _last_plan_durations(events: Sequence[Event]) -> dict[int, float]:
    """How long each action of the last plan took (RunSummary keeps results, not durations)."""
    durations: dict[int, float] = {}
    for event in events:
        if isinstance(event, Replanning):
            durations = {}
        elif isinstance(event, (ActionFinished, ActionFailed)):
            durations[event.id] = round(event.duration_s, 4)
    return durations


def default_history_path(settings: Settings) -> Path:
    """`history_path`, else `<home>/state/history.sqlite` (next to the workspace's other state)."""
    if settings.history_path is not None:
        return Path(settings.history_path).expanduser()
    from pocketagent.backends.provider import WorkspaceLayout

    return WorkspaceLayout.of(settings).state / HISTORY_FILE_NAME


def model_label(settings: Settings) -> str:
    """The model a run's plans come from, for the record: "<gguf file> + <adapter>" on llamacpp.

    Never raises: a model that cannot be resolved is described by its setting.
    """
    if settings.backend != "llamacpp":
        return f"{settings.model or '(server default)'} @ {settings.openai_base_url}"
    from pocketagent.llm.models import adapter_path, resolve_model_path

    try:
        name = resolve_model_path(settings.model).name
        adapter = adapter_path(settings)
    except PocketAgentError:
        return str(settings.model or "default")
    if adapter is None:
        return name
    # A packaged or `finetune` adapter is "<run dir>/adapter.gguf": the folder names it.
    adapter_name = adapter.parent.name if adapter.stem == "adapter" else adapter.stem
    return f"{name} + {adapter_name}"


class RunLog:
    """The run history file. Thread- and process-safe: one connection per call, WAL, busy timeout."""

    def __init__(self, path: Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        """Nothing is opened here: the file and its schema are created on the first record."""
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s

    @classmethod
    def for_settings(cls, settings: Settings) -> RunLog | None:
        """The configured run history, or None when `history` is off."""
        if not settings.history:
            return None
        return cls(default_history_path(settings))

    def record(self, run: RunRecord) -> int:
        """Store `run`; returns its new id."""
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._connection(create=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            cursor = conn.execute(f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({placeholders})", run._row())
            conn.execute("COMMIT")
            return int(cursor.lastrowid or 0)

    def recent(self, limit: int = 20, offset: int = 0) -> list[RunRecord]:
        """Up to `limit` runs (all for limit <= 0), newest recorded first, skipping `offset`."""
        if not self.path.exists():
            return []
        with self._connection(create=False) as conn:
            rows = conn.execute(
                "SELECT * FROM runs ORDER BY id DESC LIMIT ? OFFSET ?", (limit if limit > 0 else -1, max(0, offset))
            ).fetchall()
        return [RunRecord._from_row(row) for row in rows]

    def get(self, run_id: int) -> RunRecord | None:
        """The run with id `run_id`, or None."""
        if not self.path.exists():
            return None
        with self._connection(create=False) as conn:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return RunRecord._from_row(row) if row is not None else None

    @contextlib.contextmanager
    def _connection(self, create: bool) -> Iterator[sqlite3.Connection]:
        """A fresh connection with the schema in place; sqlite3 errors become `HistoryError`."""
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                reason = exc.strerror or exc
                raise HistoryError(f"cannot create the folder of the run history {self.path}: {reason}") from None
        try:
            # isolation_level=None: we open transactions ourselves (BEGIN IMMEDIATE for writes).
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        try:
            conn.row_factory = sqlite3.Row
            # Checked per connection (one read, no lock): the file may have been moved away meanwhile.
            if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                self._ensure_schema_patiently(conn)
            yield conn
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise self._error(exc) from None
        finally:
            conn.close()

    def _ensure_schema_patiently(self, conn: sqlite3.Connection) -> None:
        # Several connections creating a new file at once: switching it to WAL needs the file to
        # itself, and SQLite answers "locked" at once there (no busy wait, to avoid a deadlock).
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                self._ensure_schema(conn)
                return
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or time.monotonic() >= deadline:
                    raise
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                time.sleep(0.02)

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        # WAL lets readers (logs, the server) run beside a writer; the mode is stored in the file.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")  # two processes creating the schema at once: one waits
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            conn.execute("ROLLBACK")
            raise HistoryError(
                f"the run history {self.path} was written by a newer pocketagent (schema {version}, "
                f"this one reads {SCHEMA_VERSION}); upgrade pocketagent or set history_path to another file"
            )
        if version < SCHEMA_VERSION:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")

    def _error(self, exc: sqlite3.Error) -> HistoryError:
        message = str(exc)
        if _is_locked(exc):
            return HistoryError(
                f"the run history {self.path} stayed locked by another process for {self.busy_timeout_s:g} s"
            )
        # "file is not a database" and "disk image is malformed" are plain DatabaseErrors.
        if type(exc) is sqlite3.DatabaseError or "malformed" in message:
            return HistoryError(
                f"the run history {self.path} is damaged or not a SQLite database ({message}); "
                "move it away and a new one is started"
            )
        return HistoryError(f"cannot use the run history {self.path}: {message}")


__all__ = ["RunLog", "RunRecord", "default_history_path", "model_label", "SCHEMA_VERSION"]


def _is_locked(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds the file."""
    return "locked" in str(exc) or "busy" in str(exc)
