"""The live terminal view of a run: actions appear, run, finish or fail; then the answer."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from pocketagent.agent.events import (
    ActionFailed,
    ActionFinished,
    ActionPlanned,
    ActionSkipped,
    ActionStarted,
    Event,
    FinalAnswer,
    PlanningStarted,
    PlanReady,
    PlanToken,
    Replanning,
)

_STATUS_STYLE = {
    "planned": ("·", "dim"),
    "running": ("…", "yellow"),
    "ok": ("✓", "green"),
    "failed": ("✗", "red"),
    "skipped": ("↷", "magenta"),
}


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class LiveRunView:
    """Consumes events and keeps a table of actions on screen (a plain log when not a TTY)."""

    def __init__(self, console: Console, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self.rows: dict[int, dict[str, Any]] = {}
        self.plan_text = ""
        self.notes: list[Text] = []
        self.answer: Text | None = None
        self._live: Live | None = None

    def __enter__(self) -> LiveRunView:
        if self.console.is_terminal:
            self._live = Live(self._render(), console=self.console, refresh_per_second=12, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(*exc)

    def _render(self) -> Group:
        table = Table(show_header=True, header_style="bold", expand=False, box=None, pad_edge=False)
        table.add_column("#", justify="right")
        table.add_column("")
        table.add_column("tool")
        table.add_column("arguments")
        table.add_column("result")
        for row in self.rows.values():
            mark, style = _STATUS_STYLE[row["status"]]
            table.add_row(
                str(row["id"]), Text(mark, style=style), row["tool"], _short(row["args"], 50),
                Text(_short(row.get("result", ""), 60), style="red" if row["status"] == "failed" else ""),
            )
        parts: list[Any] = []
        if self.verbose and self.plan_text:
            parts.append(Text(self.plan_text, style="dim"))
        parts += [table, *self.notes]
        if self.answer is not None:
            parts.append(self.answer)
        return Group(*parts)

    def _log(self, text: Text) -> None:
        if self._live is None:
            self.console.print(text)

    def __call__(self, event: Event) -> None:
        if isinstance(event, PlanToken):
            self.plan_text += event.text
        elif isinstance(event, PlanningStarted):
            self.plan_text = ""
        elif isinstance(event, ActionPlanned):
            self.rows[event.id] = {"id": event.id, "tool": event.tool, "args": list(event.args), "status": "planned"}
        elif isinstance(event, ActionStarted):
            self.rows[event.id] |= {"status": "running", "args": list(event.args)}
        elif isinstance(event, ActionFinished):
            self.rows[event.id] |= {"status": "ok", "result": event.result}
            self._log(Text(f"✓ {event.id}. {event.tool} → {_short(event.result, 100)}", style="green"))
        elif isinstance(event, ActionFailed):
            self.rows.setdefault(event.id, {"id": event.id, "tool": event.tool, "args": list(event.args)})
            self.rows[event.id] |= {"status": "failed", "result": event.error}
            self._log(Text(f"✗ {event.id}. {event.tool}: {event.error}", style="red"))
        elif isinstance(event, ActionSkipped):
            self.rows[event.id] |= {"status": "skipped", "result": event.reason}
            self._log(Text(f"↷ {event.id}. {event.tool} skipped: {event.reason}", style="magenta"))
        elif isinstance(event, PlanReady):
            if event.error:
                self.notes.append(Text(f"Plan is not valid: {event.error}", style="red"))
                self._log(self.notes[-1])
            elif self.verbose:
                stats = event.stats
                note = Text(
                    f"plan: {stats.prompt_tokens} prompt tokens ({stats.cached_prompt_tokens} cached), "
                    f"{stats.completion_tokens} generated in {stats.plan_s:.2f} s ({stats.tokens_per_s:.0f} tok/s)",
                    style="dim",
                )
                self.notes.append(note)
                self._log(note)
        elif isinstance(event, Replanning):
            self.rows = {}
            note = Text(f"Replanning (attempt {event.attempt}): {event.reason}", style="yellow")
            self.notes.append(note)
            self._log(note)
        elif isinstance(event, FinalAnswer):
            self.answer = Text(event.answer, style="bold" if event.ok else "bold red")
            self._log(self.answer)
        if self._live is not None:
            self._live.update(self._render())
