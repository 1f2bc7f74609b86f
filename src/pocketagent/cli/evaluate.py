"""CLI commands of the evaluation: ``score`` (stored predictions) and ``eval`` (run the planner).

``cli/main.py`` calls ``register(app, make_plan_fn)``. Progress goes to stderr, results to
stdout, whose last line is always a one-line summary. Bad input files end in a one-line
``error: ...`` message and exit code 2; other pocketagent errors exit with code 1 (cli/errors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.cli.output import given_options, progress
from pocketagent.errors import CommandLineError

if TYPE_CHECKING:
    from pocketagent.evaluation.harness import PlanFn, ProgressFn
    from pocketagent.evaluation.report import ItemResult

    # make_plan_fn(settings overrides) -> plan_fn. Overrides hold only the flags the user gave,
    # keyed by Settings field name (model, backend, examples, grammar, tool_rag, max_tokens, seed).
    MakePlanFn = Callable[[dict[str, Any]], PlanFn]


@contextmanager
def _progress_bar(description: str, total: int, quiet: bool) -> Iterator[ProgressFn]:
    """The harness's progress callback as a bar on stderr showing the running success count."""
    with progress(quiet=quiet) as display:
        bar = display.bar(description, total)
        successes = 0

        def advance(done: int, _total: int, result: ItemResult) -> None:
            nonlocal successes
            successes += result.success
            bar.update(completed=done, status=f"success {successes}/{done}")

        yield advance


def _check_report_path(report_path: Path | None) -> None:
    """Fail before a long run, not after it, when the report cannot be written."""
    from pocketagent.evaluation.datasets import EvalFileError

    if report_path is not None and not report_path.parent.is_dir():
        raise EvalFileError(f"{report_path}: cannot write report: directory {report_path.parent} does not exist")


def _finish(report: dict[str, Any], report_path: Path | None, as_json: bool) -> None:
    from pocketagent.evaluation.report import breakdown_text, summary_json, summary_line, write_report

    if report_path is not None:
        write_report(report, report_path)
    if not as_json and (breakdown := breakdown_text(report)):
        typer.echo(breakdown)  # before the summary: the last line stays the one-line result
    typer.echo(summary_json(report) if as_json else summary_line(report))


def register(app: typer.Typer, make_plan_fn: MakePlanFn) -> None:
    """Add the ``score`` and ``eval`` commands to `app`.

    `make_plan_fn(overrides)` builds the planner callable for ``eval``; the report's ``model``
    is the returned callable's ``model_name`` attribute if it has one, else the ``--model`` flag.
    """

    @app.command("score")
    @reports_errors
    def score_command(
        reference: Annotated[Path, typer.Argument(help="reference items (JSONL or TinyAgent JSON)")],
        predictions: Annotated[Path, typer.Argument(help="predictions JSONL: id, plan per line")],
        report: Annotated[Path | None, typer.Option("--report", help="write the full report JSON here")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the summary line as JSON")] = False,
        edit_distance_timeout: Annotated[
            float, typer.Option(help="seconds per failed item for graph edit distance; 0 turns it off", min=0)
        ] = 1.0,
    ) -> None:
        """Score stored predictions against reference plans (no model)."""
        from pocketagent.evaluation.datasets import load_items, load_predictions
        from pocketagent.evaluation.harness import score

        _check_report_path(report)
        items = load_items(reference)
        preds = load_predictions(predictions)
        with _progress_bar("scoring", len(items), quiet=as_json) as advance:
            result = score(
                items,
                preds,
                progress=advance,
                model=f"predictions:{predictions.name}",
                dataset=str(reference),
                edit_distance_timeout_s=edit_distance_timeout or None,
            )
        _finish(result, report, as_json)

    @app.command("eval")
    @reports_errors
    def eval_command(
        data: Annotated[Path | None, typer.Argument(help="eval items (JSONL or TinyAgent JSON)")] = None,
        report: Annotated[Path | None, typer.Option("--report", help="write the full report JSON here")] = None,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="only the first N items")] = None,
        skip: Annotated[
            int, typer.Option("--skip", min=0, help="leave out the first N items (with --limit: a slice, e.g. items 401-600)")
        ] = 0,
        compare: Annotated[
            tuple[Path, Path] | None,
            typer.Option("--compare", help="print two reports side by side (A.json B.json) instead of evaluating"),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the summary line as JSON")] = False,
        model: Annotated[str | None, typer.Option(help="model (GGUF path or name)")] = None,
        backend: Annotated[str | None, typer.Option(help="LLM backend")] = None,
        examples: Annotated[int | None, typer.Option(help="in-context examples in the prompt")] = None,
        grammar: Annotated[
            bool | None, typer.Option("--grammar/--no-grammar", help="grammar-constrained decoding")
        ] = None,
        tool_rag: Annotated[
            bool | None, typer.Option("--tool-rag/--no-tool-rag", help="per-request tool and example selection")
        ] = None,
        lora: Annotated[str | None, typer.Option(help="GGUF LoRA adapter on the model (fine-tuned planner)")] = None,
        prompt_style: Annotated[str | None, typer.Option(help="full, compact (fine-tuned) or auto")] = None,
        max_tokens: Annotated[int | None, typer.Option(help="max tokens per plan")] = None,
        seed: Annotated[int | None, typer.Option(help="sampling seed")] = None,
        now: Annotated[
            str | None,
            typer.Option(help='"YYYY-MM-DD HH:MM:SS": the planner\'s today for items without their own `now`'),
        ] = None,
        edit_distance_timeout: Annotated[
            float, typer.Option(help="seconds per failed item for graph edit distance; 0 turns it off", min=0)
        ] = 1.0,
    ) -> None:
        """Run the planner on DATA and report plan success; or compare two reports."""
        from pocketagent.evaluation.datasets import load_items, parse_now
        from pocketagent.evaluation.harness import evaluate
        from pocketagent.evaluation.report import compare_reports, compare_summary, load_report

        if compare is not None:
            if data is not None:
                raise CommandLineError("give DATA to evaluate or --compare A.json B.json, not both")
            first, second = load_report(compare[0]), load_report(compare[1])
            typer.echo(compare_reports(first, second, names=(compare[0].name, compare[1].name)), nl=False)
            typer.echo(compare_summary(first, second))
            return
        if data is None:
            raise CommandLineError("missing DATA: the eval items file (or use --compare A.json B.json)")
        _check_report_path(report)
        items = load_items(data)[skip:][:limit]
        if now is not None:
            try:
                default_now = parse_now(now)
            except ValueError as exc:
                raise CommandLineError(f"--now: {exc}") from None
            # Items that carry their own `now` keep it: their reference dates depend on it.
            items = [item if item.when is not None else item.at(default_now) for item in items]
        overrides = given_options(
            model=model,
            backend=backend,
            examples=examples,
            grammar=grammar,
            tool_rag=tool_rag,
            lora=lora,
            prompt_style=prompt_style,
            max_tokens=max_tokens,
            seed=seed,
        )
        plan_fn = make_plan_fn(overrides)
        model_name = getattr(plan_fn, "model_name", None) or model
        with _progress_bar("planning", len(items), quiet=as_json) as advance:
            result = evaluate(
                items,
                plan_fn,
                progress=advance,
                model=model_name,
                dataset=str(data),
                edit_distance_timeout_s=edit_distance_timeout or None,
            )
        _finish(result, report, as_json)
