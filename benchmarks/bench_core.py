"""Core benchmark: plan latency, time to first dispatched action, tokens, tokens/s against raw
llama-cpp-python on the same prompt, peak memory, and executor parallel speedup.

    .venv/bin/python benchmarks/bench_core.py [--requests N] [--json]

Prints figures and ratios; results go to docs/benchmarks.md by hand (with the date and command).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
from datetime import datetime

import llama_cpp

from pocketagent.agent.executor import Executor
from pocketagent.agent.planner import Planner, PlannerConfig
from pocketagent.llm.llamacpp import LlamaCppBackend
from pocketagent.llm.models import adapter_path, effective_prompt_style
from pocketagent.plan import parse_plan
from pocketagent.settings import Settings
from pocketagent.tools import ToolContext, ToolRegistry, builtin_registry

NOW = datetime(2026, 11, 23, 10, 0, 0)
REQUESTS = [
    "text Rosalind that the keys are under the mat",
    "email Sid and Nick the summary of budget.pdf and put a review on Friday at 3",
    "remind me to water the plants tomorrow at 8am",
    "directions to the airport by train",
    "make a zoom with Priya next tuesday at 10 about the launch and add it to my calendar",
    "add milk and eggs to my Groceries note",
    "what does the lease pdf say",
    "forward this email to ana@example.com",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def bench_planner(settings: Settings, requests: list[str]) -> dict[str, float]:
    backend = LlamaCppBackend.from_settings(settings)
    # The default planner: the shipped adapter and its compact prompt (POCKETAGENT_LORA=none: the bare model).
    config = PlannerConfig(max_tokens=settings.max_tokens, grammar=True, prompt_style=effective_prompt_style(settings))
    planner = Planner(backend, builtin_registry(), config)
    planner.plan(requests[0], NOW)  # warm-up: fills the KV cache with the fixed prompt prefix
    rows = []
    for request in requests:
        ready = planner.plan(request, NOW)
        rows.append(ready.stats)

    # Raw llama-cpp-python: same model, same formatted prompt, same grammar, same decoding.
    raw = llama_cpp.Llama(
        model_path=str(backend._model_path), n_ctx=settings.n_ctx, n_threads=settings.n_threads,
        n_batch=settings.n_batch, seed=settings.seed, verbose=False,
        lora_path=str(adapter_path(settings)) if adapter_path(settings) else None,
    )
    grammar = llama_cpp.LlamaGrammar.from_string(planner.options().grammar, verbose=False)
    raw_rates = []
    for index, request in enumerate([requests[0], *requests]):
        prompt = backend.format_prompt(planner.messages(request, NOW))
        started = time.perf_counter()
        first = None
        pieces = 0
        text = ""
        for piece in raw.create_completion(
            prompt, max_tokens=settings.max_tokens, temperature=0.0, seed=0, stop=["<END_OF_PLAN>"],
            grammar=grammar, stream=True,
        ):
            first = first or time.perf_counter()
            pieces += 1
            text += piece["choices"][0]["text"]
        finished = time.perf_counter()
        tokens = len(raw.tokenize(text.encode(), add_bos=False, special=True))
        if index > 0 and first is not None and finished > first:
            raw_rates.append(tokens / (finished - first))
    ours = [s.tokens_per_s for s in rows]
    return {
        "requests": len(rows),
        "plan_latency_p50_s": percentile([s.plan_s for s in rows], 0.5),
        "plan_latency_p95_s": percentile([s.plan_s for s in rows], 0.95),
        "first_action_p50_s": percentile([s.time_to_first_action_s or s.plan_s for s in rows], 0.5),
        "prompt_tokens_mean": statistics.mean(s.prompt_tokens for s in rows),
        "cached_prompt_tokens_mean": statistics.mean(s.cached_prompt_tokens for s in rows),
        "completion_tokens_mean": statistics.mean(s.completion_tokens for s in rows),
        "tokens_per_s_ours": statistics.mean(ours),
        "tokens_per_s_raw": statistics.mean(raw_rates),
        "tokens_per_s_ratio": statistics.mean(ours) / statistics.mean(raw_rates),
    }


def bench_executor(n: int = 8, sleep_s: float = 0.2) -> dict[str, float]:
    registry = ToolRegistry()

    @registry.register
    def wait_io(ms: int) -> str:
        """Blocks like an I/O call."""
        time.sleep(ms / 1000)
        return "done"

    plan = parse_plan("\n".join(f"{i}. wait_io({int(sleep_s * 1000)})" for i in range(1, n + 1)) + f"\n{n + 1}. join()")

    async def run() -> float:
        executor = Executor(registry, ToolContext(), lambda e: None)
        started = time.perf_counter()
        for action in plan.tool_actions:
            executor.submit(action)
        await executor.wait()
        return time.perf_counter() - started

    parallel = min(asyncio.run(run()) for _ in range(3))
    sequential = n * sleep_s
    return {"actions": n, "parallel_s": parallel, "sequential_s": sequential, "speedup": sequential / parallel,
            "target_speedup": 0.9 * n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=len(REQUESTS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    results = {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "threads": settings.n_threads,
        "planner": bench_planner(settings, REQUESTS[: args.requests]),
        "executor": bench_executor(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    p, e = results["planner"], results["executor"]
    print(f"date {results['date']}, {results['threads']} threads, {p['requests']} requests (prefix cache warm)")
    print(f"plan latency       p50 {p['plan_latency_p50_s']:.2f} s   p95 {p['plan_latency_p95_s']:.2f} s")
    print(f"first action       p50 {p['first_action_p50_s']:.2f} s after the request")
    print(f"prompt tokens      {p['prompt_tokens_mean']:.0f} mean ({p['cached_prompt_tokens_mean']:.0f} reused from cache)")
    print(f"generated tokens   {p['completion_tokens_mean']:.0f} mean")
    print(f"tokens/s           ours {p['tokens_per_s_ours']:.1f}  raw llama-cpp-python {p['tokens_per_s_raw']:.1f}  "
          f"ratio {p['tokens_per_s_ratio']:.3f} (target >= 0.95)")
    print(f"executor           {e['actions']} independent 200 ms actions: {e['parallel_s']:.3f} s vs "
          f"{e['sequential_s']:.1f} s sequential = {e['speedup']:.2f}x (target >= {e['target_speedup']:.1f}x)")
    print(f"peak RSS           {results['peak_rss_mb']:.0f} MB (both models loaded)")


if __name__ == "__main__":
    main()
