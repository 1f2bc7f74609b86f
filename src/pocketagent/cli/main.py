"""`pocketagent` command line: plan, run, tools, config (and the command groups of other modules).

Errors are turned into one-line messages here, never tracebacks (`--verbose` shows them).
Exit status: 0 done, 1 the plan could not be produced or an action failed, 2 bad input.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from pocketagent import __version__
from pocketagent.agent.agent import RunSummary, collect
from pocketagent.agent.events import Event, PlanReady, PlanToken
from pocketagent.cli.output import json_text
from pocketagent.errors import ConfigError, ModelNotFoundError, PlanParseError, PocketAgentError
from pocketagent.settings import Settings, default_config_path, load_settings

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
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the live view.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show plan text, token counts and error details.")]


def settings_from_flags(**flags: Any) -> Settings:
    """Settings with flags layered over env and config file (None = flag not given)."""
    if flags.pop("no_grammar", False):
        flags["grammar"] = False
    return load_settings(**flags)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error on stderr and return the exit to raise."""
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def read_request(request: str) -> str:
    """The request text; `-` reads it from stdin."""
    text = sys.stdin.read() if request == "-" else request
    if not text.strip():
        raise fail("empty request: say what you want done, e.g. pocketagent run \"text Ana that I'm late\"")
    return text.strip()


def _print_json(data: dict[str, Any]) -> None:
    typer.echo(json_text(data, default=str))


@app.command()
def plan(
    request: Annotated[str, typer.Argument(help="What you want done (\"-\" reads stdin).")],
    model: ModelOpt = None,
    backend: BackendOpt = None,
    no_grammar: NoGrammarOpt = False,
    now: NowOpt = None,
    tool_rag: ToolRagOpt = None,
    lora: LoraOpt = None,
    prompt_style: PromptStyleOpt = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Print the plan for a request without running it."""
    from pocketagent.agent.build import build_planner

    text = read_request(request)
    with handle_errors(verbose):
        settings = settings_from_flags(
            model=model, backend=backend, no_grammar=no_grammar, now=now, verbose=verbose, tool_rag=tool_rag,
            lora=lora, prompt_style=prompt_style,
        )
        planner = build_planner(settings)
        out = Console()
        stream_tokens = not json_output and out.is_terminal

        def show(event: Event) -> None:
            if stream_tokens and isinstance(event, PlanToken):
                out.print(event.text, end="", highlight=False, markup=False)

        ready = asyncio.run(planner.stream_plan(text, settings.current_time(), emit=show, on_action=lambda a: None))
    if json_output:
        _print_json({"request": text, "plan": ready.text, "error": ready.error, "stats": ready.to_dict()["stats"]})
    elif stream_tokens:
        out.print()
    else:
        typer.echo(ready.text)
    if ready.error:
        if not json_output:
            Console(stderr=True).print(f"[bold red]error:[/] the model's plan is not valid: {ready.error}")
        raise typer.Exit(1)


@app.command()
def run(
    request: Annotated[Optional[str], typer.Argument(help="What you want done (\"-\" reads stdin).")] = None,
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
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Plan a request and run it, showing actions as they start, finish or fail."""
    from pocketagent.agent.build import build_agent

    if (request is None) == (plan_file is None):
        raise fail("give either a REQUEST or --plan PLAN.txt")
    text = read_request(request) if request is not None else ""
    with handle_errors(verbose):
        settings = settings_from_flags(
            model=model, backend=backend, no_grammar=no_grammar, now=now, verbose=verbose,
            dry_run=dry_run or None, send=send or None, apps=apps, tool_rag=tool_rag,
            lora=lora, prompt_style=prompt_style,
        )
        if plan_file is not None:
            try:
                plan_text = plan_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise fail(f"cannot read plan file {plan_file}: {exc.strerror or exc}") from None
            except UnicodeDecodeError as exc:
                raise fail(f"plan file {plan_file} is not UTF-8 text (invalid byte at offset {exc.start})") from None
            agent = build_agent(settings, with_planner=False)
            try:
                events = agent.run_plan(plan_text)
            except PlanParseError as exc:
                if not json_output:
                    raise
                # --json always prints its object: a plan that does not parse is reported like
                # the model's (plan_error set, exit 1), not as a bare stderr line.
                events = _unparsable(plan_text, str(exc))
        else:
            agent = build_agent(settings)
            events = agent.run(text, settings.current_time())
        summary = _consume(events, json_output, verbose)
    result = summary.to_dict()
    if json_output:
        _print_json({"request": text or None, **result})
    if not result["ok"]:
        raise typer.Exit(1)


async def _unparsable(plan_text: str, error: str) -> AsyncIterator[Event]:
    """The event stream of a given plan that does not parse: only its PlanReady, with the error."""
    yield PlanReady(text=plan_text, plan=None, error=error)


def _consume(events: Any, json_output: bool, verbose: bool) -> RunSummary:
    from pocketagent.cli.view import LiveRunView

    if json_output:
        return asyncio.run(collect(events))
    with LiveRunView(Console(), verbose=verbose) as view:
        return asyncio.run(collect(events, view))


@app.command()
def tools(
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """List the tools the planner can use (built-in and plugins)."""
    from pocketagent.agent.build import build_registry

    with handle_errors(verbose):
        registry = build_registry(load_settings())
    if json_output:
        _print_json({"tools": [tool.json_schema() for tool in registry]})
        return
    console = Console()
    for tool in registry:
        console.print(f"[bold]{tool.signature_text()}[/]", highlight=False)
        console.print(f"    {tool.description}", highlight=False)


@app.command("config")
def show_config(json_output: JsonOpt = False) -> None:
    """Show the effective settings and where the config file is read from."""
    with handle_errors(False):
        settings = load_settings()
    data = settings.redacted_dump()  # passwords and tokens are never printed
    if json_output:
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


class handle_errors:  # noqa: N801 — used as a context manager, reads like a statement
    """Turn our typed errors (and Ctrl-C) into a one-line message and an exit status."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, typer.Exit):
            return False
        if isinstance(exc, KeyboardInterrupt):
            raise fail("interrupted", 130)
        if isinstance(exc, PocketAgentError):
            if self.verbose:
                Console(stderr=True).print_exception()
            raise fail(str(exc), 2 if isinstance(exc, (ConfigError, ModelNotFoundError)) else 1)
        return False


def make_plan_fn(overrides: dict[str, Any]) -> Any:
    """The evaluation's planner callable: (query, now) -> PlanOutcome, built from settings."""
    from pocketagent.agent.build import build_planner
    from pocketagent.evaluation.harness import PlanOutcome

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

    return build_planner(load_settings(**overrides), registry)


def register_command_groups() -> None:
    """Attach the command groups that live in their own modules."""
    from pocketagent.cli import bfcl, datagen, evaluate, finetune, toolrag, workspace

    evaluate.register(app, make_plan_fn)
    bfcl.register(app, make_planner)
    datagen.register(app)
    workspace.register(app)
    toolrag.register(app)
    finetune.register(app)


def main() -> None:
    """Console-script entry point."""
    register_command_groups()
    app()


if __name__ == "__main__":
    main()
