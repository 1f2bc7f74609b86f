"""`pocketagent datagen ...`: generate, check and convert planner datasets.

Wire into the main app with `register(app)`. Progress goes to stderr, results to stdout (text,
or JSON with --json). Errors are one-line messages with the exit status of their type
(cli/errors.py: 2 for bad input: options, data files, endpoints that never answer); `check`
exits 1 when it rejected anything.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from pocketagent.cli.errors import reports_errors
from pocketagent.cli.output import emit, progress
from pocketagent.errors import BackendError, CommandLineError, ConfigError

# Options shared by the generating commands.
HoldoutOpt = Annotated[
    list[Path] | None,
    typer.Option(
        help="JSONL whose requests must not appear (exact or near) in the data; repeatable. "
        "Default: the hand-written eval set if found."
    ),
]
NoHoldoutOpt = Annotated[bool, typer.Option("--no-holdout", help="Skip the held-out leakage check.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


@reports_errors
def offline(
    out: Annotated[Path, typer.Option("--out", help="Directory for train/val/test.jsonl and card.md.")],
    train: Annotated[int, typer.Option(min=0, help="Training examples.")] = 20000,
    val: Annotated[int, typer.Option(min=0, help="Validation examples.")] = 1000,
    test: Annotated[int, typer.Option(min=0, help="Test examples.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 0,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes making candidates (output does not depend on it).")
    ] = 1,
    shape_mix: Annotated[
        str | None,
        typer.Option(
            "--shape-mix",
            help='Share of each plan-size bucket, e.g. "1=0.15,2=0.25,3-6=0.35,7+=0.25" (default: 0.20/0.28/0.38/0.14).',
        ),
    ] = None,
    holdout: HoldoutOpt = None,
    no_holdout: NoHoldoutOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate a checked dataset offline from compositional scenarios (no LLM needed)."""
    from pocketagent.data.generate.offline import OfflineGenerator, generate_offline, parse_shape_mix
    from pocketagent.data.pipeline import command_line, default_holdout_paths, load_holdout, write_dataset

    paths = [] if no_holdout else (holdout if holdout else default_holdout_paths())
    queries = load_holdout(paths)
    sizes = {"train": train, "val": val, "test": test}
    # The card names what determines the data (not --out or --workers), so it is the same wherever written.
    args = [
        "pocketagent",
        "datagen",
        "offline",
        "--out",
        "DIR",
        "--train",
        str(train),
        "--val",
        str(val),
        "--test",
        str(test),
        "--seed",
        str(seed),
    ]
    generator = None
    if shape_mix is not None:
        generator = OfflineGenerator(buckets=parse_shape_mix(shape_mix))
        args += ["--shape-mix", shape_mix]
    started = time.perf_counter()
    with progress(quiet=quiet or as_json) as display:
        bar = display.bar("generating", sum(sizes.values()))
        run = generate_offline(
            sizes, seed, workers, queries, generator=generator, progress=bar.advance, command=command_line(args)
        )
    written = write_dataset(out, run)
    seconds = time.perf_counter() - started
    total = sum(len(v) for v in run.splits.values())
    payload = {
        "out": str(out),
        "files": [str(p) for p in written],
        "examples": {k: len(v) for k, v in run.splits.items()},
        "candidates": run.card.candidates,
        "rejections": run.card.rejections,
        "holdout_requests": len(queries),
        "seconds": round(seconds, 2),
        "examples_per_second": round(total / seconds, 1) if seconds else None,
    }
    emit(
        payload,
        as_json,
        [
            f"wrote {total} examples ({', '.join(f'{k} {len(v)}' for k, v in run.splits.items())}) to {out}",
            f"candidates {run.card.candidates}, rejected {sum(run.card.rejections.values())} {run.card.rejections}",
            f"held-out requests checked: {len(queries)}; {seconds:.1f} s ({payload['examples_per_second']} examples/s)",
        ],
    )


@reports_errors
def llm(
    out: Annotated[Path, typer.Option("--out", help="Directory for train/val/test.jsonl and card.md.")],
    endpoint: Annotated[
        list[str] | None,
        typer.Option(
            "--endpoint",
            help="OpenAI-compatible base URL (usually ending in /v1); repeatable, prompts go round-robin. "
            "Default: the openai_base_url setting.",
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model name sent to the endpoints. Default: the model setting.")
    ] = None,
    prompts: Annotated[int, typer.Option(min=1, help="Prompts (LLM requests) to send.")] = 50,
    per_prompt: Annotated[int, typer.Option(min=1, max=20, help="New requests asked for per prompt.")] = 4,
    tools_per_prompt: Annotated[int, typer.Option(min=1, max=16, help="Size of the sampled tool subset.")] = 4,
    seeds_per_prompt: Annotated[int, typer.Option(min=1, max=10, help="Seed examples shown per prompt.")] = 3,
    val: Annotated[int, typer.Option(min=0, help="Validation examples (taken from what passed the checks).")] = 0,
    test: Annotated[int, typer.Option(min=0, help="Test examples (taken from what passed the checks).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed for prompts, sampling and splits.")] = 0,
    temperature: Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling temperature.")] = 0.8,
    max_tokens: Annotated[int, typer.Option(min=16, help="Most tokens per reply.")] = 768,
    timeout: Annotated[
        float | None, typer.Option(min=0.1, help="Seconds to wait for a reply. Default: request_timeout_s.")
    ] = None,
    grammar: Annotated[
        bool,
        typer.Option("--grammar", help="Send a GBNF grammar for the reply format (llama.cpp servers honour it)."),
    ] = False,
    workers: Annotated[int, typer.Option(min=1, help="Requests in flight (threads, or Ray actors with --ray).")] = 4,
    use_ray: Annotated[
        bool,
        typer.Option("--ray", help="Run the requests as a Ray Data pipeline (needs the 'ray' extra of pocketagent)."),
    ] = False,
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster to join (e.g. ray://head:10001). Default: a local Ray instance.")
    ] = None,
    ray_batch_size: Annotated[int, typer.Option(min=1, help="Prompts per Ray Data batch.")] = 1,
    holdout: HoldoutOpt = None,
    no_holdout: NoHoldoutOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Generate a checked dataset with an LLM: sampled tools + seed examples in, new requests and plans out."""
    from pocketagent.data.checks import DatasetChecker
    from pocketagent.data.pipeline import command_line, default_holdout_paths, load_holdout, write_dataset
    from pocketagent.datagen import teacher as gen
    from pocketagent.llm import GenerationOptions, create_backend
    from pocketagent.settings import load_settings
    from pocketagent.tools.builtin import builtin_registry

    backends: list[Any] = []
    try:
        if ray_address and not use_ray:
            raise CommandLineError("--ray-address needs --ray")
        if use_ray:
            from pocketagent.datagen.ray_runner import import_ray

            import_ray()  # fail before any work when Ray is missing
        settings = load_settings(backend="openai", model=model, request_timeout_s=timeout, openai_grammar=grammar)
        urls = endpoint or [settings.openai_base_url]
        endpoint_settings = [settings.model_copy(update={"openai_base_url": url}) for url in urls]
        registry = builtin_registry()
        queries = load_holdout([] if no_holdout else (holdout if holdout else default_holdout_paths()))
        checker = DatasetChecker(registry, holdout_queries=queries)
        pool = gen.admit_seeds(checker, gen.seed_pool(seed))
        jobs = gen.sample_jobs(
            prompts, seed, pool, registry, per_prompt, tools_per_prompt, seeds_per_prompt, endpoints=len(urls)
        )
        options = GenerationOptions(max_tokens=max_tokens, temperature=temperature)
        if use_ray:
            from pocketagent.datagen.ray_runner import run_ray

            replies = run_ray(jobs, endpoint_settings, registry, options, workers, grammar, ray_address, ray_batch_size)
        else:
            backends = [create_backend(s) for s in endpoint_settings]
            replies = gen.run_threaded(jobs, backends, registry, options, workers, grammar)
        model_name = settings.model or "default"
        args = ["pocketagent", "datagen", "llm", "--out", "DIR", "--endpoint", "URL", "--model", model_name]
        args += ["--prompts", str(prompts), "--per-prompt", str(per_prompt), "--tools-per-prompt"]
        args += [str(tools_per_prompt), "--seeds-per-prompt", str(seeds_per_prompt), "--val", str(val)]
        args += ["--test", str(test), "--seed", str(seed), "--temperature", str(temperature)]
        args += ["--max-tokens", str(max_tokens)] + (["--grammar"] if grammar else [])
        started = time.perf_counter()
        try:
            with progress(quiet=quiet or as_json) as display:
                collected = gen.collect_replies(replies, jobs, checker, display.bar("prompts", len(jobs)).advance)
        except BackendError as error:
            # No request succeeded (collect_replies): the endpoints the user named are wrong or down.
            raise ConfigError(str(error)) from None
        finally:
            replies.close()  # stops the thread pool or the Ray pipeline (and a Ray started for it)
        notes = gen.summary_notes(collected, jobs, model_name)
        run = gen.build_llm_dataset(collected, val, test, seed, len(queries), command_line(args), notes)
        written = write_dataset(out, run)
        seconds = time.perf_counter() - started
    finally:
        for backend in backends:
            backend.close()
    total = sum(len(v) for v in run.splits.values())
    payload = {
        "out": str(out),
        "files": [str(p) for p in written],
        "examples": {k: len(v) for k, v in run.splits.items()},
        "prompts": len(jobs),
        "replies": collected.replies,
        "empty_replies": collected.empty_replies,
        "request_errors": collected.request_errors,
        "first_request_error": collected.first_error,
        "candidates": collected.candidates,
        "rejections": run.card.rejections,
        "rejection_samples": {k: r.detail for k, r in sorted(run.samples.items())},
        "holdout_requests": len(queries),
        "runner": "ray" if use_ray else "threads",
        "endpoints": len(urls),
        "completion_tokens": collected.completion_tokens,
        "request_seconds": round(collected.request_seconds, 2),  # summed over requests (they overlap)
        "seconds": round(seconds, 2),
    }
    emit(
        payload,
        as_json,
        [
            f"wrote {total} examples ({', '.join(f'{k} {len(v)}' for k, v in run.splits.items())}) to {out}",
            (
                f"prompts {len(jobs)}, replies {collected.replies} ({collected.empty_replies} without a "
                f"request/plan pair, {collected.request_errors} failed requests)"
            ),
            f"candidates {collected.candidates}, rejected {sum(run.card.rejections.values())} {run.card.rejections}",
            f"held-out requests checked: {len(queries)}; {seconds:.1f} s",
        ],
    )


@reports_errors
def check(
    file: Annotated[Path, typer.Argument(help="A dataset JSONL (id, query, plan, now, tools).")],
    holdout: Annotated[
        list[Path] | None, typer.Option(help="JSONL whose requests must not appear; repeatable.")
    ] = None,
    threshold: Annotated[float, typer.Option(min=0.01, max=1.0, help="Near-duplicate Jaccard threshold.")] = 0.8,
    show: Annotated[int, typer.Option(min=0, help="How many rejections to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run the sanity checks on a dataset and report rejections by reason (exit 1 if any)."""
    from pocketagent.data.checks import DatasetChecker
    from pocketagent.data.formats import iter_jsonl
    from pocketagent.data.pipeline import load_holdout
    from pocketagent.tools.builtin import builtin_registry

    checker = DatasetChecker(
        builtin_registry(), holdout_queries=load_holdout(holdout or []), near_duplicate_threshold=threshold
    )
    report = checker.run(iter_jsonl(file))
    counts = report.counts()
    payload = {
        "file": str(file),
        "examples": len(report.kept) + len(report.rejected),
        "kept": len(report.kept),
        "rejected": len(report.rejected),
        "by_reason": counts,
        "rejections": [{"id": r.example_id, "reason": r.reason.value, "detail": r.detail} for r in report.rejected],
    }
    lines = [f"{file}: {payload['examples']} examples, {len(report.kept)} pass, {len(report.rejected)} rejected"]
    lines += [f"  {reason}: {n}" for reason, n in counts.items()]
    lines += [f"  - {r.example_id}: {r.reason.value}: {r.detail}" for r in report.rejected[:show]]
    emit(payload, as_json, lines)
    if report.rejected:
        raise typer.Exit(1)


@reports_errors
def import_tinyagent_command(
    file: Annotated[Path, typer.Argument(help="A TinyAgent dataset JSON (dict of id -> {input, output}).")],
    out: Annotated[Path, typer.Option("--out", help="Directory; writes <file stem>.jsonl there.")],
    now: Annotated[
        str, typer.Option(help="`now` for entries that carry no date, YYYY-MM-DD HH:MM:SS.")
    ] = "2024-06-03 10:00:00",
    keep_failing: Annotated[
        bool, typer.Option("--keep-failing", help="Keep examples that fail the sanity checks.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Convert a TinyAgent-format dataset to our JSONL (examples failing the checks are dropped)."""
    from pocketagent.data.checks import DatasetChecker
    from pocketagent.data.formats import import_tinyagent, write_jsonl
    from pocketagent.timefmt import NOW_FORMAT
    from pocketagent.tools.builtin import builtin_registry

    try:
        time.strptime(now, NOW_FORMAT)
    except ValueError:
        raise CommandLineError(f"--now {now!r} is not YYYY-MM-DD HH:MM:SS") from None
    registry = builtin_registry()
    examples, problems = import_tinyagent(file, registry, now)
    report = DatasetChecker(registry).run(examples)
    kept = examples if keep_failing else report.kept
    target = out / f"{file.stem}.jsonl"
    write_jsonl(target, kept)
    counts = report.counts()
    payload = {
        "out": str(target),
        "read": len(examples),
        "unreadable": len(problems),
        "written": len(kept),
        "failing_checks": counts,
        "problems": [{"id": k, "problem": p} for k, p in problems[:100]],
    }
    emit(
        payload,
        as_json,
        [
            f"read {len(examples)} examples ({len(problems)} unreadable) from {file}; wrote {len(kept)} to {target}",
            *(f"  failing check {reason}: {n}" for reason, n in counts.items()),
            *(f"  unreadable {k}: {p}" for k, p in problems[:10]),
        ],
    )


@reports_errors
def export_tinyagent_command(
    file: Annotated[Path, typer.Argument(help="A dataset JSONL.")],
    out: Annotated[Path, typer.Option("--out", help="The TinyAgent-format JSON file to write.")],
    as_json: JsonOpt = False,
) -> None:
    """Convert our JSONL to the TinyAgent dataset JSON format."""
    from pocketagent.data.formats import export_tinyagent, read_jsonl
    from pocketagent.tools.builtin import builtin_registry

    examples = read_jsonl(file)
    count = export_tinyagent(out, examples, builtin_registry())
    tools = Counter(t for e in examples for t in e.tools)
    emit(
        {"out": str(out), "written": count, "tools": dict(sorted(tools.items()))},
        as_json,
        [f"wrote {count} examples to {out}"],
    )


def register(app: typer.Typer) -> None:
    """Add the `datagen` command group to the main CLI app."""
    datagen = typer.Typer(help="Generate, check and convert planner datasets.", no_args_is_help=True)
    datagen.command("offline")(offline)
    datagen.command("llm")(llm)
    datagen.command("check")(check)
    datagen.command("import-tinyagent")(import_tinyagent_command)
    datagen.command("export-tinyagent")(export_tinyagent_command)
    app.add_typer(datagen, name="datagen")


def main() -> None:  # pragma: no cover - convenience for `python -m pocketagent.cli.datagen`
    app = typer.Typer(no_args_is_help=True)
    register(app)
    app(prog_name="pocketagent", args=sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    main()
