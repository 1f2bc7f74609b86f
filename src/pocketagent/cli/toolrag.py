"""`pocketagent toolrag train | eval | select`: train, measure and try Tool RAG.

Wire into the main app with `register(app)`. Progress goes to stderr (rich), results to
stdout (text, or JSON with --json). Typed errors become one line and exit code 2 (bad or
missing data, model or head) or 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.cli.output import ProgressBar, emit, progress
from pocketagent.errors import CommandLineError, ToolRagError

DEFAULT_DATA = Path("data/generated")


@contextmanager
def _stages(quiet: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """The `(stage, n, total)` callback Tool RAG's training reports to: one bar per stage."""
    with progress(quiet=quiet) as display:
        bars: dict[str, ProgressBar] = {}

        def advance(stage: str, n: int, total: int) -> None:
            if stage not in bars:
                bars[stage] = display.bar(stage, total)
            bars[stage].advance(n)

        yield advance


def _stage(stages: Callable[[str, int, int], None], label: str, total: int) -> Callable[[int], None]:
    """A per-item callback for one stage of `stages`."""
    return lambda n: stages(label, n, total)


def _figures(metrics: dict[str, Any]) -> str:
    return (
        f"recall {metrics['recall']:.3f}  precision {metrics['precision']:.3f}  "
        f"all needed {metrics['all_needed']:.3f}  tools {metrics['mean_selected']:.2f} "
        f"(needed {metrics['mean_needed']:.2f})"
    )


def _settings_and_registry() -> tuple[Any, Any]:
    from pocketagent.agent.build import build_registry
    from pocketagent.settings import load_settings

    settings = load_settings()
    return settings, build_registry(settings)


def _default_eval_sets() -> list[Path]:
    from pocketagent.data.pipeline import default_holdout_paths

    test = DEFAULT_DATA / "test.jsonl"
    return ([test] if test.is_file() else []) + default_holdout_paths()


@reports_errors
def train(
    data: Annotated[Path, typer.Option(help="Directory with train.jsonl and val.jsonl (pocketagent datagen offline).")]
    = DEFAULT_DATA,
    out: Annotated[
        Path | None, typer.Option(help="Where head.npz, head.json and bank.jsonl.gz go (default: the packaged ones).")
    ] = None,
    hidden: Annotated[int, typer.Option(min=0, help="Hidden units of the head; 0 = logistic regression.")] = 256,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs.")] = 40,
    target_recall: Annotated[
        float, typer.Option(min=0.5, max=1.0, help="Threshold: this share of needed tools selected on val.")
    ] = 0.99,
    fallback_recall: Annotated[
        float, typer.Option(min=0.1, max=1.0, help="The description-similarity fallback's recall on val.")
    ] = 0.8,
    bank_size: Annotated[
        int, typer.Option(min=1, help="Examples in the bank (one per tool set, the rest in proportion).")
    ] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed and data: same files).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Train the tool classifier on the generated train split; pick thresholds on val; write the bank."""
    from pocketagent.toolrag.classifier import TrainConfig
    from pocketagent.toolrag.embedder import DATA_DIR, EmbeddingCache, default_embedder
    from pocketagent.toolrag.training import train_toolrag

    for name in ("train.jsonl", "val.jsonl"):
        if not (data / name).is_file():
            raise ToolRagError(
                f"{data / name} not found; generate the data first: pocketagent datagen offline --out {data}"
            )
    _, registry = _settings_and_registry()
    config = TrainConfig(hidden=hidden, epochs=epochs, seed=seed)
    with _stages(as_json) as stages:
        summary = train_toolrag(
            data / "train.jsonl", data / "val.jsonl", out or DATA_DIR, registry, default_embedder(),
            EmbeddingCache(), config=config, target_recall=target_recall, fallback_recall=fallback_recall,
            bank_size=bank_size, progress=stages,
        )
    thresholds = (
        f"threshold {summary['threshold']:.4f} (val recall >= {target_recall}); "
        f"fallback threshold {summary['fallback_threshold']:.4f}"
    )
    emit(summary, as_json, [
        f"wrote head.npz, head.json, bank.jsonl.gz to {summary['out']} in {summary['seconds']} s",
        thresholds,
        f"val, classifier: {_figures(summary['val'])}",
        f"val, fallback:   {_figures(summary['fallback_val'])}",
        f"bank: {summary['bank_examples']} examples",
    ])


@reports_errors
def evaluate(
    data: Annotated[
        list[Path] | None,
        typer.Argument(help="JSONL sets (default: data/generated/test.jsonl and the hand-written dev set)."),
    ] = None,
    head_dir: Annotated[Path | None, typer.Option("--dir", help="Trained head and bank (default: packaged).")] = None,
    fallback: Annotated[
        bool, typer.Option("--fallback/--no-fallback", help="Also measure the similarity-only fallback.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Tool recall/precision of Tool RAG (and of the similarity fallback) on eval sets."""
    import tempfile

    from pocketagent.toolrag.embedder import DATA_DIR, default_embedder
    from pocketagent.toolrag.selector import ToolRagConfig, ToolRagSelector
    from pocketagent.toolrag.training import evaluate_selection, load_examples

    sets = data or _default_eval_sets()
    if not sets:
        raise ToolRagError("no eval set given and none found (data/generated/test.jsonl, data/handwritten-dev.jsonl)")
    settings, registry = _settings_and_registry()
    directory = head_dir or settings.tool_rag_dir or DATA_DIR
    selectors: dict[str, Any] = {
        "toolrag": ToolRagSelector(ToolRagConfig(directory, settings.tool_rag_examples), default_embedder())
    }
    empty = tempfile.TemporaryDirectory(prefix="toolrag-nohead-")
    if fallback:  # the same embedder with no head and no bank: descriptions only
        selectors["similarity"] = ToolRagSelector(ToolRagConfig(Path(empty.name), 0), default_embedder())
    results: dict[str, dict[str, Any]] = {}
    with empty, _stages(as_json) as stages:
        selectors["toolrag"].load(lambda n, total: stages("embedding the example bank (once)", n, total))
        for path in sets:
            examples = load_examples(path)
            for name, selector in selectors.items():
                advance = _stage(stages, f"{name}: {path.name}", len(examples))
                results.setdefault(str(path), {})[name] = evaluate_selection(selector, registry, examples, advance)
    lines = []
    for set_name, by_selector in results.items():
        for name, metrics in by_selector.items():
            lines.append(f"{set_name} [{name}] {_figures(metrics)}  select {metrics['select_ms_p50']:.1f} ms p50")
    emit({"sets": results}, as_json, lines)


@reports_errors
def select(
    request: Annotated[str, typer.Argument(help="The request to choose tools for.")],
    examples: Annotated[int | None, typer.Option(min=0, max=16, help="Examples to retrieve.")] = None,
    head_dir: Annotated[Path | None, typer.Option("--dir", help="Trained head and bank (default: packaged).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the selection as JSON.")] = False,
) -> None:
    """Show which tools and worked examples Tool RAG picks for a request."""
    from pocketagent.toolrag.embedder import DATA_DIR
    from pocketagent.toolrag.selector import ToolRagConfig, ToolRagSelector

    if not request.strip():
        raise CommandLineError('empty request: say what you want done, e.g. pocketagent toolrag select "text Ana"')
    settings, registry = _settings_and_registry()
    count = settings.tool_rag_examples if examples is None else examples
    selector = ToolRagSelector(ToolRagConfig(head_dir or settings.tool_rag_dir or DATA_DIR, count))
    with _stages(as_json) as stages:
        selector.load(lambda n, total: stages("embedding the example bank (once)", n, total))
    selection = selector.select(request.strip(), registry)
    payload = {"request": request.strip(), **selection.to_dict()}
    lines = [f"tools ({selection.method}, {len(selection.tools)} of {len(registry)}):"]
    lines += [f"  {name}  {selection.scores.get(name, 0.0):.3f}" for name in selection.tools]
    lines += ["examples:"] + [f"  {ex['id']}  {ex['score']:.3f}  {ex['query']}" for ex in payload["examples"]]
    emit(payload, as_json, lines)


def register(app: typer.Typer) -> None:
    """Add the `toolrag` command group to `app`."""
    group = typer.Typer(help="Tool RAG: choose the tools and examples each request needs.", no_args_is_help=True)
    group.command("train")(train)
    group.command("eval")(evaluate)
    group.command("select")(select)
    app.add_typer(group, name="toolrag")
