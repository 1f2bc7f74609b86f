"""Output shared by the CLI commands: JSON on stdout, text lines, progress bars on stderr."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # rich is imported only when something is drawn (start-up time)
    from rich.console import Console
    from rich.progress import Progress


def json_text(
    payload: dict[str, Any] | list[Any], default: Callable[[Any], Any] | None = None, indent: int | None = 2
) -> str:
    """`payload` as JSON (indented; one line with `indent=None`) that can always be written to a UTF-8 stdout.

    Non-ASCII text stays readable, except when a lone surrogate is in it (a command-line
    argument with an undecodable byte, a tool's result): UTF-8 cannot encode one, so the
    whole object is written with `\\u` escapes instead of raising UnicodeEncodeError.
    """
    text = json.dumps(payload, ensure_ascii=False, indent=indent, default=default)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(payload, ensure_ascii=True, indent=indent, default=default)
    return text


def given_options(**options: Any) -> dict[str, Any]:
    """The command-line options the user gave (not None): the settings they override."""
    return {key: value for key, value in options.items() if value is not None}


def emit(payload: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Print `payload` as indented JSON with --json, else the human-readable `lines`."""
    if as_json:
        typer.echo(json_text(payload))
    else:
        for line in lines:
            typer.echo(line)


class ProgressBar:
    """One bar of a `progress()` display: advance it, or say where it is."""

    # Redraw at most this often: a bar advanced per example must not cost more than the example.
    MIN_INTERVAL_S = 0.1

    def __init__(self, live: Progress | None, description: str, total: int | None, status: str) -> None:
        self.description, self.total, self.status = description, total, status
        self.completed = 0
        self.started = time.monotonic()
        self._live = live  # a rich Progress on a terminal, else None
        self._task = live.add_task(description, total=total, status=status) if live is not None else None
        self._shown_at = 0.0

    def advance(self, n: int = 1) -> None:
        """`n` more items done."""
        self.completed += n
        self.refresh()

    def update(
        self,
        completed: int | None = None,
        total: int | None = None,
        status: str | None = None,
        description: str | None = None,
    ) -> None:
        """Set what changed: items done, the total (when it becomes known), the status text, the label."""
        if completed is not None:
            self.completed = completed
        if total is not None:
            self.total = total
        if status is not None:
            self.status = status
        if description is not None:
            self.description = description
        self.refresh(force=total is not None or description is not None)

    def summary(self) -> str:
        """The bar as one plain line: `label: done/total  status  in N s`."""
        total = "?" if self.total is None else str(self.total)
        status = f"  {self.status}" if self.status else ""
        return f"{self.description}: {self.completed}/{total}{status}  in {time.monotonic() - self.started:.1f} s"

    def refresh(self, force: bool = False) -> None:
        """Redraw the bar on a terminal (at most every MIN_INTERVAL_S unless `force`)."""
        if self._live is None or self._task is None:
            return
        now = time.monotonic()
        if force or now - self._shown_at >= self.MIN_INTERVAL_S or self.completed == self.total:
            self._shown_at = now
            self._live.update(
                self._task, completed=self.completed, total=self.total, status=self.status,
                description=self.description,
            )  # fmt: skip


class ProgressDisplay:
    """The bars of one long-running command, on stderr; made by `progress()`."""

    def __init__(self, console: Console, live: Progress | None, quiet: bool) -> None:
        self.console, self._live, self._quiet = console, live, quiet
        self.bars: list[ProgressBar] = []

    def bar(self, description: str, total: int | None = None, status: str = "") -> ProgressBar:
        """A new bar (`total` None: not known yet; `update(total=...)` sets it)."""
        made = ProgressBar(self._live, description, total, status)
        self.bars.append(made)
        return made

    def say(self, message: str) -> None:
        """A notice on stderr (above the bars on a terminal); shown with --json and --quiet too."""
        self.console.print(message, markup=False, highlight=False)

    def finish(self) -> None:
        """Show every bar's final state: redrawn on a terminal, one plain line each elsewhere."""
        for made in self.bars:
            made.refresh(force=True)
        if self._live is None and not self._quiet:
            for made in self.bars:
                self.console.print(made.summary(), markup=False, highlight=False)


@contextmanager
def progress(quiet: bool = False, console: Console | None = None) -> Iterator[ProgressDisplay]:
    """Progress of a long-running command, on stderr (stdout keeps the results).

    On a terminal: a live bar per `display.bar(...)` with done/total, status, elapsed time and
    ETA. Not a terminal (a pipe, a log file): nothing while it runs, then one plain line per bar.
    `quiet` (--json, --quiet): no bars at all. A command that fails prints no summary lines: its
    error stays the one line.
    """
    if console is None:
        from rich.console import Console

        console = Console(stderr=True, soft_wrap=True)
    if quiet or not console.is_terminal:
        display = ProgressDisplay(console, None, quiet)
        yield display
        display.finish()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as live:
        display = ProgressDisplay(console, live, quiet)
        yield display
        display.finish()
