"""`pocketagent finetune`: LoRA fine-tuning of the planner on CPU, exported as a GGUF adapter.

Needs the `train` extra (torch, transformers, gguf); nothing else in pocketagent imports them.
Progress goes to stderr; the summary to stdout (text or `--json`).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.cli.output import progress
from pocketagent.errors import ConfigError


def _training_modules() -> None:
    """A clear message when the train extra is missing; looked up, not imported: only
    `pocketagent.finetune` imports the training stack (an import-linter contract)."""
    for name in ("gguf", "torch", "transformers"):
        if importlib.util.find_spec(name) is None:
            raise ConfigError(
                f"fine-tuning needs the train extra ({name} is missing): pip install -e '.[train]' "
                "(installs torch==2.13.0, the CPU build)"
            )


def _data_file(path: Path, split: str) -> Path:
    """A JSONL file, or DIR/<split>.jsonl when given a dataset directory."""
    candidate = path / f"{split}.jsonl" if path.is_dir() else path
    if not candidate.is_file():
        raise ConfigError(f"training data not found: {candidate}")
    return candidate


@reports_errors
def train_command(
    data: Annotated[Path, typer.Argument(help="dataset directory (train.jsonl, val.jsonl) or a train JSONL file")],
    out: Annotated[Path, typer.Option("--out", help="run directory: checkpoint.pt, adapter.gguf, logs")],
    resume: Annotated[bool, typer.Option("--resume", help="continue the run in --out from its checkpoint")] = False,
    init_from: Annotated[
        Path | None,
        typer.Option("--init-from", help="start from the adapter of an earlier run (its directory or checkpoint.pt)"),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="use only the first N training examples")] = None,
    epochs: Annotated[float, typer.Option(min=0.01, help="passes over the data")] = 1.0,
    rank: Annotated[int, typer.Option(min=1, help="LoRA rank")] = 16,
    alpha: Annotated[float, typer.Option(min=0.0, help="LoRA alpha (scale = alpha / rank)")] = 32.0,
    learning_rate: Annotated[float, typer.Option("--lr", min=0.0, help="peak learning rate")] = 1e-3,
    batch_tokens: Annotated[int, typer.Option(min=64, help="tokens per batch after the shared prompt")] = 2048,
    checkpoint_every: Annotated[int, typer.Option(min=1, help="steps between checkpoints")] = 50,
    val_check: Annotated[
        int, typer.Option(min=0, help="val requests planned with llama.cpp at each checkpoint (plan success)")
    ] = 10,
    bf16: Annotated[
        bool, typer.Option("--bf16/--fp32", help="bfloat16 autocast (fast on AMX/AVX512-BF16 CPUs); weights stay fp32")
    ] = False,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads")] = os.cpu_count() or 1,
    seed: Annotated[int, typer.Option(help="random seed (data order, LoRA init)")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Fine-tune the planner (LoRA on the default GGUF) on generated (request, plan) data.

    The adapter (OUT/adapter.gguf, a few MB) is written at every checkpoint; use it with
    `--lora OUT/adapter.gguf --prompt-style compact` or `lora = ...` in the config file.
    """
    _training_modules()
    from pocketagent.finetune.trainer import Progress as TrainProgress
    from pocketagent.finetune.trainer import TrainConfig, train
    from pocketagent.llm.llamacpp import LlamaCppBackend
    from pocketagent.llm.models import default_model_path
    from pocketagent.tools.builtin import builtin_registry

    val_path = data / "val.jsonl" if data.is_dir() and (data / "val.jsonl").is_file() else None
    config = TrainConfig(
        train=_data_file(data, "train"),
        val=val_path,
        out=out,
        init_from=init_from,
        limit=limit,
        epochs=epochs,
        rank=rank,
        alpha=alpha,
        learning_rate=learning_rate,
        batch_tokens=batch_tokens,
        checkpoint_every=checkpoint_every,
        val_check=val_check,
        bf16=bf16,
        threads=threads,
        seed=seed,
    )
    tokenizer = LlamaCppBackend(default_model_path(), n_ctx=1024)
    with progress(quiet=as_json) as display:
        bar = display.bar("training")  # the number of steps is known once the data is read

        def on_progress(step: TrainProgress) -> None:
            status = f"loss {step.loss:.3f}  {step.tokens_per_s:.0f} tok/s"
            bar.update(completed=step.step, total=step.total_steps, status=status)

        summary = train(
            config, builtin_registry(), tokenizer, resume=resume, on_progress=on_progress, say=display.say
        )
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        val = summary["val_loss"]
        val_text = f"; val loss {val:.3f}" if val is not None else ""
        typer.echo(f"trained {summary['steps']} steps on {summary['sequences']} examples{val_text}")
        typer.echo(f"adapter: {summary['adapter']}")


@reports_errors
def card_command(
    run: Annotated[Path, typer.Argument(help="a finished run directory (summary.json, logs, adapter.gguf)")],
    reports: Annotated[
        list[Path] | None,
        typer.Option("--eval", help="an `eval --report` file whose figures go into the card (repeatable)"),
    ] = None,
) -> None:
    """Rebuild a run's card.md/card.json and loss curve, adding evaluation figures.

    A run stopped for good at a checkpoint (no summary.json) gets its summary, peft copy and card
    from the checkpoint.
    """
    from pocketagent.evaluation.report import load_report
    from pocketagent.finetune.card import plot_loss_curve, write_card

    summary_path = run / "summary.json"
    if not summary_path.is_file():
        _training_modules()
        from pocketagent.finetune.trainer import finalize_from_checkpoint

        finalize_from_checkpoint(run)  # a run stopped for good: document its last checkpoint
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    figures = dict(summary.get("figures") or {})
    for path in reports or []:
        report = load_report(path)
        latency = report.get("latency_s") or {}
        figures[str(report.get("dataset") or path.stem)] = (
            f"success {report['success_rate']:.1%}, strict {report['strict_success_rate']:.1%}, "
            f"parse failures {report['parse_failure_rate']:.1%}, n={report['n']}"
            + (f", latency p50 {latency['p50']:.2f} s" if latency.get("p50") is not None else "")
        )
    summary["figures"] = figures
    summary_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    plot_loss_curve(run)
    typer.echo(f"card: {write_card(run, summary)}")


def register(app: typer.Typer) -> None:
    """Attach `pocketagent finetune ...` to the main app."""
    group = typer.Typer(help="Fine-tune the planner (LoRA, CPU) and export a GGUF adapter.", no_args_is_help=True)
    group.command("train")(train_command)
    group.command("card")(card_command)
    app.add_typer(group, name="finetune")
