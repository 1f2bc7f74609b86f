"""`pocketagent logs`: the run history, newest first (like `llm logs`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.cli.output import json_text
from pocketagent.errors import HistoryError

if TYPE_CHECKING:
    from pocketagent.agent.history import RunRecord

DEFAULT_COUNT = 3  # as `llm logs`: the last few runs; -n 0 shows all

_STATUS_MARK = {"ok": "✓", "failed": "✗", "skipped": "↷", "planned": "·"}


def _call_text(action: dict[str, Any]) -> str:
    args = ", ".join(json.dumps(arg, ensure_ascii=False) for arg in action.get("args", []))
    return f"{action.get('tool', '?')}({args})"


def _timings_text(timings: dict[str, Any]) -> str:
    parts = []
    if timings.get("plan_s"):
        parts.append(f"plan {timings['plan_s']:.2f} s")
    if timings.get("time_to_first_action_s") is not None:
        parts.append(f"first action {timings['time_to_first_action_s']:.2f} s")
    if timings.get("total_s") is not None:
        parts.append(f"total {timings['total_s']:.2f} s")
    if timings.get("prompt_tokens") or timings.get("completion_tokens"):
        prompt, generated = timings.get("prompt_tokens", 0), timings.get("completion_tokens", 0)
        parts.append(f"{prompt} prompt + {generated} generated tokens")
    if timings.get("replans"):
        parts.append(f"{timings['replans']} replan(s)")
    return ", ".join(parts)


def render_run(run: RunRecord) -> list[str]:
    """A run as Markdown-like text: header, request, plan, actions with results, answer."""
    status = "ok" if run.ok else "failed"
    header = f"# {run.started_at}  run {run.id}  ({run.source}, {status}{', dry run' if run.dry_run else ''})"
    lines = [header, "", f"Model: {run.model or '(none: a given plan)'}"]
    timings = _timings_text(run.timings)
    if timings:
        lines.append(f"Timings: {timings}")
    lines += ["", "## Request", "", run.request or "(a given plan)"]
    lines += ["", "## Plan", "", (run.plan or "(no plan)").rstrip()]
    if run.actions:
        lines += ["", "## Actions", ""]
        for action in run.actions:
            status = action.get("status", "planned")
            mark = _STATUS_MARK.get(status, "?")
            took = f"  [{action['duration_s']:.2f} s]" if "duration_s" in action else ""
            if status == "ok":
                outcome = f" → {action.get('result', '')}"
            elif "error" in action:
                outcome = f" {status}: {action['error']}"
            else:
                outcome = f" ({status})"
            lines.append(f"{mark} {action.get('id', '?')}. {_call_text(action)}{outcome}{took}")
    if run.error:
        lines += ["", "## Error", "", run.error]
    lines += ["", "## Answer", "", run.answer or "(none)", ""]
    return lines


def register(app: typer.Typer) -> None:
    """Attach `logs` to the main app."""

    @app.command()
    @reports_errors
    def logs(
        count: Annotated[
            int, typer.Option("--count", "-n", help="How many runs, newest first (0: all).")
        ] = DEFAULT_COUNT,
        run_id: Annotated[Optional[int], typer.Option("--id", help="Show only the run with this id.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of runs.")] = False,
        path: Annotated[bool, typer.Option("--path", help="Print the history file's path and exit.")] = False,
    ) -> None:
        """Show logged runs: request, when, model, plan, each action's result or error, answer."""
        from pocketagent.agent.history import RunLog, default_history_path
        from pocketagent.settings import load_settings

        settings = load_settings()
        history_file = default_history_path(settings)
        if path:
            typer.echo(str(history_file))
            return
        if count < 0:
            raise typer.BadParameter("must be 0 (all) or more", param_hint="'-n'")
        log = RunLog(history_file)  # read even when logging is off: older runs stay visible
        if run_id is not None:
            found = log.get(run_id)
            if found is None:
                raise HistoryError(f"no run with id {run_id} in {history_file}")
            runs = [found]
        else:
            runs = log.recent(limit=count)
        if as_json:
            # A list, even for --id, so a reader handles one shape.
            typer.echo(json_text([run.to_dict() for run in runs]))
            return
        if not runs:
            off = "" if settings.history else " (logging is off: history = false)"
            typer.echo(f"no runs logged yet in {history_file}{off}", err=True)
            return
        for run in runs:
            for line in render_run(run):
                typer.echo(line)
