"""`pocketagent` command line: plan, run, tools, config, and the command groups of cli/<group>.py.

`app` is complete at import: every command group is attached at the end of this module. Importing
it stays cheap: the agent, the models and the servers are imported inside the commands that use
them, never at the top of a cli module.
Errors become one-line messages in one place (cli/errors.py), never tracebacks (`--verbose` shows them).
Exit status: 0 done, 1 the plan could not be produced or an action failed, 2 bad input.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from pocketagent import __version__
from pocketagent.cli import bfcl, datagen, evaluate, finetune, logs, mcp, serve, toolrag, voice, workspace
from pocketagent.cli.errors import print_error_line, reports_errors
from pocketagent.cli.output import json_text
from pocketagent.cli.voice import AUDIO_HELP, spoken_request
from pocketagent.errors import CommandLineError, HistoryError, PlanParseError

if TYPE_CHECKING:
    from pocketagent.agent.agent import RunSummary
    from pocketagent.agent.events import Event
    from pocketagent.settings import Settings
    from pocketagent.voice import Transcript

app = typer.Typer(
    name="pocketagent",
    help="Function calling at the edge: a small local model plans tool calls and runs them on your own data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Options shared by the commands that plan (one definition, so help texts stay consistent).
ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="GGUF path or alias (llamacpp); model name (openai).")]
BackendOpt = Annotated[Optional[str], typer.Option("--backend", "-b", help="LLM backend: llamacpp or openai.")]
NoGrammarOpt = Annotated[bool, typer.Option("--no-grammar", help="Do not constrain decoding with the plan grammar.")]
NowOpt = Annotated[Optional[str], typer.Option("--now", help='The planner\'s "today", as "YYYY-MM-DD HH:MM:SS".')]
ToolRagOpt = Annotated[
    Optional[bool],
    typer.Option("--tool-rag/--no-tool-rag", help="Show the model only the tools and examples the request needs."),
]
LoraOpt = Annotated[Optional[str], typer.Option("--lora", help="GGUF LoRA adapter on top of the model (a fine-tuned planner).")]
PromptStyleOpt = Annotated[
    Optional[str],
    typer.Option("--prompt-style", help="full (descriptions, rules, examples), compact (signatures; fine-tuned), auto."),
]
AudioOpt = Annotated[Optional[Path], typer.Option("--audio", help=AUDIO_HELP)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the live view.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show plan text, token counts and error details.")]


class EventFormat(str, Enum):
    """How `run --events` prints the event stream."""

    jsonl = "jsonl"


def settings_from_flags(**flags: Any) -> Settings:
    """Settings with flags layered over env and config file (None = flag not given)."""
    from pocketagent.settings import load_settings

    if flags.pop("no_grammar", False):
        flags["grammar"] = False
    return load_settings(**flags)


def read_request(request: str) -> str:
    """The request text; `-` reads it from stdin."""
    text = sys.stdin.read() if request == "-" else request
    if not text.strip():
        raise CommandLineError("empty request: say what you want done, e.g. pocketagent run \"text Ana that I'm late\"")
    return text.strip()


def _print_json(data: dict[str, Any]) -> None:
    typer.echo(json_text(data, default=str))


@app.command()
@reports_errors
def plan(
    request: Annotated[Optional[str], typer.Argument(help="What you want done (\"-\" reads stdin).")] = None,
    audio: AudioOpt = None,
    model: ModelOpt = None,
    backend: BackendOpt = None,
    no_grammar: NoGrammarOpt = False,
    now: NowOpt = None,
    tool_rag: ToolRagOpt = None,
    lora: LoraOpt = None,
    prompt_style: PromptStyleOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Print the plan for a request without running it."""
    import asyncio

    from rich.console import Console

    from pocketagent.agent.build import build_planner
    from pocketagent.agent.events import PlanToken

    if (request is None) == (audio is None):
        raise CommandLineError("give either a REQUEST or --audio FILE")
    text = read_request(request) if request is not None else ""
    transcript = None
    settings = settings_from_flags(
        model=model, backend=backend, no_grammar=no_grammar, now=now, verbose=verbose, tool_rag=tool_rag,
        lora=lora, prompt_style=prompt_style,
    )
    if audio is not None:
        transcript = spoken_request(audio, settings, show=not as_json)
        text = transcript.text
    planner = build_planner(settings)
    out = Console()
    stream_tokens = not as_json and out.is_terminal

    def show(event: Event) -> None:
        if stream_tokens and isinstance(event, PlanToken):
            out.print(event.text, end="", highlight=False, markup=False)

    ready = asyncio.run(planner.stream_plan(text, settings.current_time(), emit=show, on_action=lambda a: None))
    if as_json:
        _print_json({"request": text, **_heard(transcript), "plan": ready.text, "error": ready.error,
                     "stats": ready.to_dict()["stats"]})
    elif stream_tokens:
        out.print()
    else:
        typer.echo(ready.text)
    if ready.error:
        if not as_json:  # --json has it in its object, like a run's plan_error
            print_error_line(f"the model's plan is not valid: {ready.error}")
        raise typer.Exit(1)


@app.command()
@reports_errors
def run(
    request: Annotated[Optional[str], typer.Argument(help="What you want done (\"-\" reads stdin).")] = None,
    audio: AudioOpt = None,
    plan_file: Annotated[
        Optional[Path], typer.Option("--plan", help="Execute this plan text file instead of asking the model.")
    ] = None,
    model: ModelOpt = None,
    backend: BackendOpt = None,
    no_grammar: NoGrammarOpt = False,
    now: NowOpt = None,
    tool_rag: ToolRagOpt = None,
    lora: LoraOpt = None,
    prompt_style: PromptStyleOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what each action would do; change nothing.")] = False,
    send: Annotated[bool, typer.Option("--send", help="Really send email/SMS instead of saving drafts.")] = False,
    apps: Annotated[Optional[str], typer.Option("--apps", help="App backends for the tools (e.g. recorder).")] = None,
    as_json: JsonOpt = False,
    events_format: Annotated[
        Optional[EventFormat],
        typer.Option(
            "--events",
            help="Print each event as one JSON line as it happens (jsonl), then a summary line; no live view.",
        ),
    ] = None,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Do not log this run (see pocketagent logs).")
    ] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Plan a request and run it, showing actions as they start, finish or fail."""
    from pocketagent.agent.build import build_agent
    from pocketagent.agent.events import PlanReady
    from pocketagent.agent.history import model_label

    if [request, audio, plan_file].count(None) != 2:
        raise CommandLineError("give one of a REQUEST, --audio FILE or --plan PLAN.txt")
    if as_json and events_format is not None:
        raise CommandLineError("give either --json or --events jsonl, not both")
    events_jsonl = events_format is EventFormat.jsonl
    text = read_request(request) if request is not None else ""
    transcript = None
    settings = settings_from_flags(
        model=model, backend=backend, no_grammar=no_grammar, now=now, verbose=verbose,
        dry_run=dry_run or None, send=send or None, apps=apps, tool_rag=tool_rag,
        lora=lora, prompt_style=prompt_style, history=False if no_history else None,
    )
    if audio is not None:  # then it is a typed request, word for word the transcript
        transcript = spoken_request(audio, settings, show=not (as_json or events_jsonl))
        text = transcript.text
    if plan_file is not None:
        try:
            plan_text = plan_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandLineError(f"cannot read plan file {plan_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise CommandLineError(
                f"plan file {plan_file} is not UTF-8 text (invalid byte at offset {exc.start})"
            ) from None
        agent = build_agent(settings, with_planner=False)
        recorder = CliRunRecorder(settings, text, model="")  # a given plan: no model
        try:
            events = agent.run_plan(plan_text)
        except PlanParseError as exc:
            if not (as_json or events_jsonl):
                recorder.seen(PlanReady(text=plan_text, plan=None, error=str(exc)))
                recorder.finish()
                raise
            # --json always prints its object: a plan that does not parse is reported like
            # the model's (plan_error set, exit 1), not as a bare stderr line.
            events = _unparsable(plan_text, str(exc))
    else:
        agent = build_agent(settings)
        recorder = CliRunRecorder(settings, text, model=model_label(settings))
        events = agent.run(text, settings.current_time())
    summary = recorder.consume(lambda seen: _consume(events, as_json, events_jsonl, verbose, seen))
    result = summary.to_dict()
    if as_json:
        _print_json({"request": text or None, **_heard(transcript), **result})
    elif events_jsonl:
        # The last line: the folded run (as --json prints it) and its id in the run history.
        typer.echo(json_text({"kind": "summary", "request": text or None, **_heard(transcript), **result,
                              "run_id": recorder.run_id},
                             default=str, indent=None))
    if not result["ok"]:
        raise typer.Exit(1)


def _heard(transcript: Transcript | None) -> dict[str, Any]:
    """The `transcript` field of --json output for a spoken request (nothing for a typed one)."""
    return {"transcript": transcript.to_dict()} if transcript is not None else {}


async def _unparsable(plan_text: str, error: str) -> AsyncIterator[Event]:
    """The event stream of a given plan that does not parse: only its PlanReady, with the error."""
    from pocketagent.agent.events import PlanReady

    yield PlanReady(text=plan_text, plan=None, error=error)


def _consume(
    events: Any, as_json: bool, events_jsonl: bool, verbose: bool, seen: Callable[[Event], None]
) -> RunSummary:
    import asyncio

    from rich.console import Console

    from pocketagent.agent.agent import collect
    from pocketagent.cli.view import LiveRunView

    if events_jsonl:

        def print_line(event: Event) -> None:
            seen(event)
            typer.echo(json_text(event.to_dict(), default=str, indent=None))  # echo flushes: lines arrive live

        return asyncio.run(collect(events, print_line))
    if as_json:
        return asyncio.run(collect(events, seen))
    with LiveRunView(Console(), verbose=verbose) as view:

        def show(event: Event) -> None:
            seen(event)
            view(event)

        return asyncio.run(collect(events, show))


class CliRunRecorder:
    """Logs one `run` to the run history (dry runs too, marked). A history that cannot be
    written (damaged, locked) costs a warning on stderr, never the run."""

    def __init__(self, settings: Settings, request: str, model: str) -> None:
        from pocketagent.agent.history import RunLog

        self.log = RunLog.for_settings(settings)
        self.request, self.model, self.dry_run = request, model, settings.dry_run
        self.events: list[Event] = []
        self.run_id: int | None = None
        self.started_at = datetime.now().astimezone()
        self._clock = time.monotonic()

    def seen(self, event: Event) -> None:
        """Keep one event of the run."""
        self.events.append(event)

    def consume(self, drive: Callable[[Callable[[Event], None]], RunSummary]) -> RunSummary:
        """Run `drive(on_event)` and log what it saw, also when it fails or is interrupted."""
        try:
            summary = drive(self.seen)
        except KeyboardInterrupt:
            self.finish("interrupted")
            raise
        except Exception as exc:
            self.finish(str(exc) or type(exc).__name__)
            raise
        self.finish()
        return summary

    def finish(self, error: str | None = None) -> None:
        """Log the run seen so far (`error`: what ended it early); sets `run_id`."""
        from pocketagent.agent.history import RunRecord

        if self.log is None:
            return
        record = RunRecord.from_events(
            self.request, self.events, model=self.model, source="cli", started_at=self.started_at,
            total_s=time.monotonic() - self._clock, dry_run=self.dry_run, error=error,
        )
        try:
            self.run_id = self.log.record(record)
        except HistoryError as exc:
            typer.echo(f"warning: this run was not logged: {exc}", err=True)


@app.command()
@reports_errors
def tools(
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """List the tools the planner can use (built-in and plugins)."""
    from rich.console import Console

    from pocketagent.agent.build import build_registry
    from pocketagent.settings import load_settings

    registry = build_registry(load_settings())
    if as_json:
        _print_json({"tools": [tool.json_schema() for tool in registry]})
        return
    console = Console()
    for tool in registry:
        console.print(f"[bold]{tool.signature_text()}[/]", highlight=False)
        console.print(f"    {tool.description}", highlight=False)


@app.command("config")
@reports_errors
def show_config(as_json: JsonOpt = False) -> None:
    """Show the effective settings and where the config file is read from."""
    from pocketagent.paths import default_config_path
    from pocketagent.settings import load_settings

    settings = load_settings()
    data = settings.redacted_dump()  # passwords and tokens are never printed
    if as_json:
        _print_json({"config_file": str(default_config_path()), "settings": data})
        return
    typer.echo(f"# config file: {default_config_path()}" + ("" if default_config_path().exists() else " (not present)"))
    for key, value in data.items():
        typer.echo(f"{key} = {json.dumps(value)}")


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"pocketagent {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Function calling at the edge."""


def make_plan_fn(overrides: dict[str, Any]) -> Any:
    """The evaluation's planner callable: (query, now) -> PlanOutcome, built from settings."""
    from pocketagent.agent.build import build_planner
    from pocketagent.evaluation.harness import PlanOutcome
    from pocketagent.settings import load_settings

    settings = load_settings(**overrides)
    planner = build_planner(settings)

    def plan_fn(query: str, now: datetime | None) -> PlanOutcome:
        ready = planner.plan(query, now or settings.current_time(), replans=settings.max_replans)
        return PlanOutcome(ready.text, ready.plan, ready.error, ready.stats.plan_s, ready.stats.prompt_tokens)

    plan_fn.model_name = planner.backend.model_name  # type: ignore[attr-defined]
    return plan_fn


def make_planner(overrides: dict[str, Any], registry: Any) -> Any:
    """A planner over a given tool set (BFCL items bring their own tools), built from settings."""
    from pocketagent.agent.build import build_planner
    from pocketagent.settings import load_settings

    return build_planner(load_settings(**overrides), registry)


# The command groups of cli/<group>.py (a new group: one import above, one line here).
evaluate.register(app, make_plan_fn)
bfcl.register(app, make_planner)
datagen.register(app)
workspace.register(app)
toolrag.register(app)
finetune.register(app)
logs.register(app)
mcp.register(app)
serve.register(app)
voice.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
