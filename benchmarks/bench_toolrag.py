"""Tool RAG benchmark: tool recall/precision, prompt tokens with vs without, embedder latency and memory.

    .venv/bin/python benchmarks/bench_toolrag.py [--test data/generated/test.jsonl]
        [--handwritten data/handwritten-dev.jsonl] [--limit N] [--json] [--latency-only]

Figures, in one run:
- tool recall/precision (and the share of requests with every needed tool) of the planner's
  selector on the test split and the hand-written dev set, plus the similarity-only fallback;
- mean prompt tokens with vs without Tool RAG, counted with the default model's tokenizer
  through the llama.cpp backend on the planner's own messages (1, 2 and 3 retrieved examples);
- mean grammar size with vs without;
- embedder latency per request (one text, and the selector's whole-request + clauses batch),
  the full selection latency, the first-use bank embedding time (cold cache), and memory.

Success rate and plan latency with vs without need the model: run `pocketagent eval` twice
(see docs/benchmarks.md). Results go to docs/benchmarks.md by hand (with the date and command).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.data.example import Example
from pocketagent.llm.llamacpp import LlamaCppBackend
from pocketagent.llm.models import default_model_path
from pocketagent.toolrag.classifier import segments
from pocketagent.toolrag.embedder import DATA_DIR, MiniLMEmbedder
from pocketagent.toolrag.selector import AllToolsSelector, ToolRagConfig, ToolRagSelector
from pocketagent.toolrag.training import evaluate_selection, load_examples
from pocketagent.tools import builtin_registry

FALLBACK_NOW = datetime(2026, 11, 23, 10, 0, 0)


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timed_ms(fn: Any, repeat: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) * 1000 / repeat


def now_of(example: Example) -> datetime:
    try:
        return datetime.strptime(example.now, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return FALLBACK_NOW


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", type=Path, default=Path("data/generated/test.jsonl"))
    parser.add_argument("--handwritten", type=Path, default=Path("data/handwritten-dev.jsonl"))
    parser.add_argument("--limit", type=int, default=None, help="only the first N test items")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--latency-only", action="store_true", help="stop after memory and latency (JSON)")
    args = parser.parse_args()

    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "load_average": os.getloadavg()}
    registry = builtin_registry()
    sets = {"test": load_examples(args.test)[: args.limit], "handwritten": load_examples(args.handwritten)}

    # -- memory and first use ------------------------------------------------------------
    before = rss_mb()
    embedder = MiniLMEmbedder()
    load_ms = timed_ms(lambda: embedder.embed(["warm up"]))
    after_embedder = rss_mb()
    # The usual case first: head and bank with the bank's embeddings in the on-disk cache
    # (the default cache; computed here if this machine never ran Tool RAG).
    selector = ToolRagSelector(ToolRagConfig(DATA_DIR, 2), embedder)
    selector.load()
    after_bank = rss_mb()
    with tempfile.TemporaryDirectory() as cold:
        cold_ms = timed_ms(ToolRagSelector(ToolRagConfig(DATA_DIR, 2, Path(cold)), embedder).load)
        after_cold = rss_mb()
        warm_ms = timed_ms(ToolRagSelector(ToolRagConfig(DATA_DIR, 2, Path(cold)), embedder).load)
    report["memory"] = {
        "rss_before_mb": round(before, 1),
        "embedder_rss_delta_mb": round(after_embedder - before, 1),
        "bank_and_head_from_cache_rss_delta_mb": round(after_bank - after_embedder, 1),
        # freed heap that glibc keeps after embedding 2,744 texts in batches (first use only)
        "after_first_use_bulk_embedding_rss_delta_mb": round(after_cold - after_bank, 1),
        "embedder_load_ms": round(load_ms, 1),
        "bank_examples": len(selector.bank or ()),
        "bank_first_use_embedding_s": round(cold_ms / 1000, 2),
        "bank_load_from_cache_ms": round(warm_ms, 1),
    }

    # -- latency per request -------------------------------------------------------------
    queries = [ex.query for ex in sets["handwritten"]] + [ex.query for ex in sets["test"][:160]]
    one_text, with_clauses, selecting = [], [], []
    for q in queries:  # interleaved, so the three see the same machine load
        one_text.append(timed_ms(lambda q=q: embedder.embed([q])))
        with_clauses.append(timed_ms(lambda q=q: embedder.embed([q, *segments(q)])))
        selecting.append(selector.select(q, registry).select_s * 1000)
    report["latency_ms"] = {
        name: {"p50": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2),
               "mean": round(statistics.fmean(values), 2)}
        for name, values in {
            "embed_request": one_text, "embed_request_and_clauses": with_clauses, "select_total": selecting,
        }.items()
    }
    report["latency_ms"]["requests"] = len(queries)
    if args.latency_only:
        print(json.dumps(report, indent=2))
        return

    # -- recall / precision ----------------------------------------------------------------
    empty = tempfile.TemporaryDirectory()
    fallback = ToolRagSelector(ToolRagConfig(Path(empty.name), 0), embedder)
    report["selection"] = {
        name: {
            "toolrag": evaluate_selection(selector, registry, examples),
            "similarity_fallback": evaluate_selection(fallback, registry, examples),
        }
        for name, examples in sets.items()
    }
    empty.cleanup()

    # -- prompt tokens and grammar size ------------------------------------------------------
    backend = LlamaCppBackend(default_model_path(), n_ctx=4096, n_threads=1)
    planners = {"without": Planner(backend, registry, PlannerConfig(), selector=AllToolsSelector())}
    for k in (1, 2, 3):
        rag = ToolRagSelector(ToolRagConfig(DATA_DIR, k), embedder)
        planners[f"with_k{k}"] = Planner(backend, registry, PlannerConfig(), selector=rag)
    tokens: dict[str, dict[str, Any]] = {}
    for set_name, examples in sets.items():
        per: dict[str, Any] = {}
        for name, planner in planners.items():
            counts, grammar_chars = [], []
            for ex in examples:
                selection = planner.select(ex.query)
                messages = planner.messages(ex.query, now_of(ex), selection=selection)
                counts.append(backend.count_tokens(backend.format_prompt(messages)))
                grammar_chars.append(len(planner.request_options(selection).grammar or ""))
            per[name] = {"mean_prompt_tokens": round(statistics.fmean(counts), 1),
                         "mean_grammar_chars": round(statistics.fmean(grammar_chars))}
        base = per["without"]["mean_prompt_tokens"]
        for figures in per.values():
            figures["fewer_tokens_x"] = round(base / figures["mean_prompt_tokens"], 2)
        tokens[set_name] = per
    report["prompt_tokens"] = tokens
    backend.close()

    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Tool RAG benchmark {report['date']}, load average {report['load_average'][0]:.1f}")
    for name, figures in report["selection"].items():
        for method, m in figures.items():
            print(f"  {name:11s} {method:19s} recall {m['recall']:.3f} precision {m['precision']:.3f} "
                  f"all-needed {m['all_needed']:.3f} tools {m['mean_selected']:.2f}/{m['mean_needed']:.2f} "
                  f"(n={m['items']})")
    for name, per in report["prompt_tokens"].items():
        for variant, t in per.items():
            print(f"  {name:11s} {variant:8s} prompt tokens {t['mean_prompt_tokens']:7.1f} "
                  f"({t['fewer_tokens_x']:.2f}x fewer)  grammar {t['mean_grammar_chars']} chars")
    for name, lat in report["latency_ms"].items():
        if isinstance(lat, dict):
            print(f"  latency {name:26s} p50 {lat['p50']:6.2f} ms  p95 {lat['p95']:6.2f} ms")
    print(f"  memory {report['memory']}")


if __name__ == "__main__":
    main()
