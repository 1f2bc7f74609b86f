"""``pocketagent eval-bfcl``: our planner on the Berkeley Function Calling Leaderboard.

``cli/main.py`` calls ``register(app, make_planner)``. Setup messages and the progress bar
go to stderr; stdout gets the per-category table and ends with one summary line (with
``--json``: only that line, as JSON). Exit codes: 2 bad input (category, report path,
model/config), 1 anything else pocketagent reports (bfcl-eval setup, backend).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.cli.output import given_options, progress
from pocketagent.errors import BfclError, CommandLineError

if TYPE_CHECKING:
    from rich.table import Table

    from pocketagent.agent.planner import Planner
    from pocketagent.evaluation.bfcl import BfclItemResult
    from pocketagent.evaluation.bfcl_checker import BfclChecker
    from pocketagent.tools.registry import ToolRegistry

    # make_planner(settings overrides, registry) -> Planner. Called ONCE, with the first item's
    # tools: every item then gets its own planner on that planner's backend and config.
    MakePlanner = Callable[[dict[str, Any], ToolRegistry], Planner]


def _default_categories() -> str:
    from pocketagent.evaluation.bfcl import DEFAULT_CATEGORIES

    return ",".join(DEFAULT_CATEGORIES)


def category_table(report: dict[str, Any]) -> Table:
    """Per-category accuracy next to FunctionGemma-270M's published 0-shot figures."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, title=f"BFCL (bfcl-eval {report['bfcl_eval_version']}), model {report['model']}")
    for column in ("category", "n", "correct", "accuracy", "FunctionGemma-270M", "parse failures"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name, c in report["categories"].items():
        published = c["functiongemma_270m_published"]
        table.add_row(
            name,
            str(c["n"]),
            str(c["correct"]),
            f"{c['accuracy'] * 100:.1f}%",
            f"{published:.1f}%" if published is not None else "-",
            f"{c['parse_failure_rate'] * 100:.0f}%",
        )
    return table


def register(app: typer.Typer, make_planner: MakePlanner) -> None:
    """Add the ``eval-bfcl`` command to `app`."""

    @app.command("eval-bfcl")
    @reports_errors
    def eval_bfcl(
        categories: Annotated[
            str,
            typer.Option(
                help="comma-separated BFCL categories (also live_simple, live_multiple, ...); default: the five "
                "FunctionGemma-270M reports (docs/bfcl.md)",
                default_factory=_default_categories,
                show_default=False,
            ),
        ],
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="only the first N items per category")] = None,
        report: Annotated[Path | None, typer.Option("--report", help="write the full report JSON here")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the summary as one JSON line")] = False,
        model: Annotated[str | None, typer.Option("--model", "-m", help="model (GGUF path or name)")] = None,
        backend: Annotated[str | None, typer.Option(help="LLM backend")] = None,
        grammar: Annotated[
            bool | None, typer.Option("--grammar/--no-grammar", help="grammar-constrained decoding")
        ] = None,
        max_tokens: Annotated[int | None, typer.Option(help="max tokens per plan")] = None,
        seed: Annotated[int | None, typer.Option(help="sampling seed")] = None,
        bfcl_venv: Annotated[
            Path | None,
            typer.Option(help="bfcl-eval's private virtualenv (default: $XDG_CACHE_HOME/pocketagent/bfcl-venv)"),
        ] = None,
    ) -> None:
        """Score the planner on BFCL with bfcl-eval's own checker (0-shot)."""
        from rich.console import Console

        from pocketagent.evaluation.bfcl import build_report, build_tools, summary_json, summary_line
        from pocketagent.evaluation.bfcl_checker import (
            BfclChecker,
            default_venv_dir,
            ensure_checker_venv,
            parse_categories,
        )

        try:
            names = parse_categories(categories)
        except BfclError as exc:  # a category name that does not exist: bad input, not a setup failure
            raise CommandLineError(str(exc)) from None
        if report is not None and not report.parent.is_dir():
            raise CommandLineError(f"{report}: cannot write report: directory {report.parent} does not exist")
        python = ensure_checker_venv(bfcl_venv or default_venv_dir(), say=lambda m: typer.echo(m, err=True))
        with BfclChecker(python) as checker:
            items = [item for name in names for item in checker.load_items(name, limit)]
            if not items:
                raise CommandLineError("the chosen BFCL categories have no items")
            overrides = given_options(model=model, backend=backend, grammar=grammar, max_tokens=max_tokens, seed=seed)
            # Every BFCL prompt is different: an on-disk prefix cache would only churn.
            overrides["prompt_cache_dir"] = ""
            template = make_planner(overrides, build_tools(items[0].functions).registry)
            results = _run_with_progress(items, template, checker, quiet=as_json)
            result = build_report(results, template.backend.model_name, checker.info["bfcl_eval_version"])
        if report is not None:
            report.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        if not as_json:
            out = Console()
            # Piped output gets rich's 80-column default, which would truncate the column names.
            (out if out.is_terminal else Console(width=120)).print(category_table(result))
        typer.echo(summary_json(result) if as_json else summary_line(result))


def _run_with_progress(items: list[Any], template: Planner, checker: BfclChecker, quiet: bool) -> list[BfclItemResult]:
    from pocketagent.evaluation.bfcl import run_item

    results: list[BfclItemResult] = []
    with progress(quiet=quiet) as display:
        bar = display.bar("BFCL", len(items))
        correct = 0
        for item in items:
            bar.update(description=f"BFCL {item.category}")
            results.append(run_item(item, template, checker))
            correct += results[-1].valid
            bar.update(completed=len(results), status=f"correct {correct}/{len(results)}")
    return results
