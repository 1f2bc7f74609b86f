"""A small plan-success check on validation examples, run with llama.cpp on a just-written adapter.

Val loss says whether the model fits the data; success says whether it writes the right plans.
At each checkpoint the trainer plans a handful of val requests through the real runtime path
(packaged GGUF + the exported adapter, compact prompt, grammar) and scores them with the
evaluation metrics, so a run that stops improving shows it while it trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pocketagent.data.example import Example
from pocketagent.errors import ModelFixableError
from pocketagent.plan.language import parse_plan
from pocketagent.timefmt import NOW_FORMAT
from pocketagent.tools.registry import ToolRegistry


@dataclass(frozen=True)
class ValCheck:
    """Success and strict success on `count` val examples."""

    count: int
    success: float
    strict: float

    def describe(self) -> str:
        return f"val success {self.success:.0%} strict {self.strict:.0%} (n={self.count})"


def check_adapter(
    base_model: Path, adapter: Path, examples: list[Example], registry: ToolRegistry, threads: int
) -> ValCheck:
    """Plan `examples` with the base model + `adapter` and score them against their plans."""
    from pocketagent.agent.planner import Planner, PlannerConfig
    from pocketagent.evaluation.metrics import plan_success, strict_success
    from pocketagent.llm.llamacpp import LlamaCppBackend

    if not examples:
        return ValCheck(0, 0.0, 0.0)
    backend = LlamaCppBackend(base_model, n_ctx=1024, n_threads=threads, lora_path=adapter)
    planner = Planner(backend, registry, PlannerConfig(max_tokens=300, prompt_style="compact"))
    wins = strict_wins = 0
    try:
        for example in examples:
            now = datetime.strptime(example.now, NOW_FORMAT)
            try:
                ready = planner.plan(example.query, now)
                reference = parse_plan(example.plan)
            except ModelFixableError:
                continue  # a planning failure is a miss; the run goes on
            if ready.plan is not None and plan_success(ready.plan, reference):
                wins += 1
                strict_wins += strict_success(ready.plan, reference, now=now)
    finally:
        backend.close()
    return ValCheck(len(examples), wins / len(examples), strict_wins / len(examples))
