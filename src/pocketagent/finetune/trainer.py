"""LoRA fine-tuning of the planner on CPU: resumable, checkpointed, exported as a GGUF adapter.

The base weights are the very GGUF file llama.cpp runs (dequantized by transformers), so the
adapter is trained against the weights it will be applied to. Every `checkpoint_every` steps
the run saves adapter + optimizer state (`checkpoint.pt`) and a usable `adapter.gguf`;
`resume=True` continues from the checkpoint after an interruption or a session's end.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pocketagent.errors import ConfigError
from pocketagent.finetune.card import (
    CHECKS_LOG,
    PEFT_DIR,
    TRAIN_LOG,
    export_peft,
    plot_loss_curve,
    read_jsonl_rows,
    sha256_of,
    write_card,
)
from pocketagent.finetune.dataset import Sequence, batches, read_examples, render_all
from pocketagent.finetune.lora import LoraSpec, adapter_state, inject, load_adapter_state
from pocketagent.tools.registry import ToolRegistry

CHECKPOINT = "checkpoint.pt"
ADAPTER = "adapter.gguf"
LOG = TRAIN_LOG


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run (saved with it; a resumed run must match)."""

    train: Path
    out: Path
    val: Path | None = None
    base_model: Path | None = None  # default: the packaged GGUF
    init_from: Path | None = None  # warm start: adapter weights of an earlier run (its checkpoint.pt)
    limit: int | None = None  # first N training examples
    epochs: float = 1.0
    rank: int = 16
    alpha: float = 32.0
    learning_rate: float = 1e-3
    warmup_steps: int = 20
    batch_tokens: int = 2048
    max_sequence_tokens: int = 1024
    val_limit: int = 100
    checkpoint_every: int = 50
    val_check: int = 10  # val requests planned with llama.cpp at each checkpoint (0: off)
    bf16: bool = False  # bfloat16 autocast (AMX/AVX512-BF16 CPUs): faster matmuls, fp32 master weights
    seed: int = 0
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)

    def describe(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


@dataclass
class Progress:
    """What a training step reports to the caller (CLI progress bar, logs)."""

    step: int
    total_steps: int
    loss: float
    tokens_per_s: float
    learning_rate: float


def _load_base(model_path: Path) -> Any:
    """The GGUF's weights as a float32 transformers model (no hub access: everything is local)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(model_path.parent), gguf_file=model_path.name, dtype=torch.float32)


def shared_prefix_length(sequences: list[Sequence]) -> int:
    """Tokens every sequence's prompt starts with (the system prompt): computed once per batch.

    At least one prompt token stays outside the prefix: the first target token is predicted from
    the position before it, which must be part of the batch's own input for the loss to count it.
    """
    first = sequences[0].prompt
    length = max(0, min(len(s.prompt) for s in sequences) - 1)
    for sequence in sequences[1:]:
        prompt = sequence.prompt
        length = min(length, len(prompt))
        while length and prompt[:length] != first[:length]:
            length -= 1
    return length


def _collate(batch: list[Sequence], skip: int) -> tuple[Any, Any, Any]:
    """Right-padded ids after the first `skip` tokens, their attention mask, labels (-100: no loss)."""
    import torch

    width = max(len(s) for s in batch) - skip
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    for row, sequence in enumerate(batch):
        tokens = sequence.tokens[skip:]
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
        labels[row, len(sequence.prompt) - skip : len(tokens)] = torch.tensor(sequence.target)
    return ids, mask, labels


@functools.cache
def _cache_argument(model_class: type[Any]) -> str:
    """transformers renamed `past_key_values` to `cache` (the old name goes in 5.40); asked once per class."""
    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def _loss(model: Any, batch: list[Sequence], prefix: tuple[int, ...] = ()) -> Any:
    """Mean loss on the batch's targets; the shared `prefix` is run once and its KV broadcast.

    The system prompt is ~85 % of a sequence: evaluating it once per batch instead of once per
    sequence cuts the work several-fold, and gradients still flow through it (LoRA changes it).
    """
    import torch

    ids, mask, labels = _collate(batch, len(prefix))
    if not prefix:
        # transformers shifts labels itself: position t predicts token t+1.
        return model(input_ids=ids, attention_mask=mask, labels=labels).loss
    output = model(input_ids=torch.tensor([prefix]), use_cache=True)
    cache = getattr(output, "cache", None) or output.past_key_values
    for layer in cache.layers:
        layer.keys = layer.keys.expand(len(batch), -1, -1, -1)
        layer.values = layer.values.expand(len(batch), -1, -1, -1)
    full_mask = torch.cat([torch.ones((len(batch), len(prefix)), dtype=torch.long), mask], dim=1)
    return model(input_ids=ids, attention_mask=full_mask, labels=labels, **{_cache_argument(model.__class__): cache}).loss


def _warm_start_state(source: Path, rank: int) -> dict[str, Any]:
    """Adapter weights of an earlier run to continue from.

    `source` is a run directory or its checkpoint.pt, or a peft export (a `peft/` folder, or a
    folder holding one, such as the shipped adapter's). Only the weights carry over: the
    optimizer state and the LR schedule start fresh, so a second run can train on new data
    with its own schedule.
    """
    import torch

    path = source / CHECKPOINT if source.is_dir() else source
    if not path.is_file():
        peft_dir = next((d for d in (source, source / PEFT_DIR) if (d / "adapter_model.safetensors").is_file()), None)
        if peft_dir is None:
            raise ConfigError(f"no checkpoint or peft adapter to start from at {source}")
        return _peft_state(peft_dir, rank)
    saved = torch.load(path, weights_only=True)
    if int(saved["config"]["rank"]) != rank:
        raise ConfigError(f"{path} has LoRA rank {saved['config']['rank']}, this run {rank}: use the same --rank")
    adapter: dict[str, Any] = saved["adapter"]
    return adapter


def _peft_state(peft_dir: Path, rank: int) -> dict[str, Any]:
    """The "<layer>.<module>.lora_a|lora_b" state of a peft export (the inverse of `export_peft`)."""
    import re

    from safetensors.torch import load_file

    config = json.loads((peft_dir / "adapter_config.json").read_text(encoding="utf-8"))
    if int(config.get("r", -1)) != rank:
        raise ConfigError(f"{peft_dir} has LoRA rank {config.get('r')}, this run {rank}: use the same --rank")
    state: dict[str, Any] = {}
    pattern = re.compile(r"base_model\.model\.model\.layers\.(\d+)\.(.+)\.lora_([AB])\.weight")
    for key, tensor in load_file(str(peft_dir / "adapter_model.safetensors")).items():
        match = pattern.fullmatch(key)
        if match is None:
            raise ConfigError(f"{peft_dir}: unexpected tensor {key} in the peft adapter")
        layer, module, letter = match.groups()
        state[f"{layer}.{module}.lora_{letter.lower()}"] = tensor.float()
    return state


def _lr_at(step: int, total: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10 % of the peak."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, total - config.warmup_steps)
    return config.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _autocast(enabled: bool) -> Any:
    """bfloat16 autocast on the CPU when asked (weights and optimizer stay float32)."""
    import contextlib

    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def evaluate_loss(model: Any, sequences: list[Sequence], batch_tokens: int, bf16: bool = False) -> float:
    """Mean token loss on `sequences` (no gradient)."""
    import torch

    prefix = sequences[0].tokens[: shared_prefix_length(sequences)] if sequences else ()
    total, count = 0.0, 0
    with torch.no_grad(), _autocast(bf16):
        for batch in batches(sequences, batch_tokens, seed=0, epoch=0, skip=len(prefix)):
            n = sum(len(s.target) for s in batch)
            total += float(_loss(model, batch, prefix)) * n
            count += n
    return total / max(1, count)


def _document_run(out: Path, summary: dict[str, Any], state: dict[str, Any], rank: int, alpha: float) -> None:
    """What every ended run leaves next to its adapter: summary.json, the peft copy, loss curve, card."""
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    export_peft(out, state, rank, alpha)
    plot_loss_curve(out)
    write_card(out, summary)


def finalize_from_checkpoint(out: Path) -> dict[str, Any]:
    """Summary, peft copy, loss curve and card of a run that stopped at a checkpoint (no summary.json).

    A run interrupted for good (the session ended, the budget ran out) still leaves a usable
    `adapter.gguf` at its last checkpoint; this documents that adapter like a finished run.
    """
    import torch

    from pocketagent.llm.models import default_model_path

    checkpoint_path = out / CHECKPOINT
    if not checkpoint_path.is_file():
        raise ConfigError(f"{out} holds no checkpoint ({CHECKPOINT})")
    saved = torch.load(checkpoint_path, weights_only=True)
    config = saved["config"]
    steps = read_jsonl_rows(out / LOG)
    checks = [c for c in read_jsonl_rows(out / CHECKS_LOG) if c.get("step", 0) <= saved["step"]]
    base_path = Path(config["base_model"]) if config.get("base_model") else default_model_path()
    summary = {
        "steps": int(saved["step"]),
        "total_steps": steps[-1]["total_steps"] if steps else None,
        "stopped_at_checkpoint": True,
        "sequences": config.get("limit"),
        "val_loss": checks[-1].get("val_loss") if checks else None,
        "val_success": checks[-1].get("val_success") if checks else None,
        "tokens_per_s": sum(r["tokens_per_s"] for r in steps) / len(steps) if steps else None,
        "wall_time_s": float(saved.get("wall_s", 0.0)) or None,
        "base_model": str(base_path),
        "base_model_sha256": sha256_of(base_path),
        "adapter": str(out / ADAPTER),
        "config": config,
    }
    _document_run(out, summary, saved["adapter"], int(config["rank"]), float(config["alpha"]))
    return summary


def train(
    config: TrainConfig,
    registry: ToolRegistry,
    tokenizer: Any,
    resume: bool = False,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    say: Callable[[str], None] = lambda message: None,
    model_loader: Callable[[Path], Any] | None = None,
) -> dict[str, Any]:
    """Run (or resume) a LoRA fine-tune; returns a summary. `tokenizer` is the llama.cpp backend.

    `model_loader` turns the base model path into a float32 transformers Llama (default: `_load_base`,
    the dequantized GGUF); tests pass a tiny random model instead.
    """
    import torch

    from pocketagent.finetune.gguf_adapter import write_adapter
    from pocketagent.finetune.val_check import check_adapter
    from pocketagent.llm.models import default_model_path

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / CHECKPOINT
    if checkpoint_path.exists() and not resume:
        raise ConfigError(f"{out} already holds a run; pass --resume to continue it or choose another --out")

    rows = read_examples(config.train)[: config.limit]
    sequences, too_long = render_all(rows, registry, tokenizer, config.max_sequence_tokens)
    if not sequences:
        raise ConfigError(f"no usable training examples in {config.train}")
    val_sequences: list[Sequence] = []
    val_rows = []
    if config.val is not None:
        val_rows = read_examples(config.val)[: config.val_limit]
        val_sequences, _ = render_all(val_rows, registry, tokenizer, config.max_sequence_tokens)
    # A fixed, spread-out sample of val requests for the plan-success check at checkpoints.
    check_rows = val_rows[:: max(1, len(val_rows) // config.val_check)][: config.val_check] if config.val_check else []
    prefix = sequences[0].tokens[: shared_prefix_length(sequences)]
    steps_per_epoch = sum(1 for _ in batches(sequences, config.batch_tokens, config.seed, 0, len(prefix)))
    total_steps = max(1, math.ceil(steps_per_epoch * config.epochs))
    say(
        f"{len(sequences)} training sequences ({too_long} longer than {config.max_sequence_tokens} tokens dropped), "
        f"mean {sum(map(len, sequences)) / len(sequences):.0f} tokens; {total_steps} steps"
    )

    base_path = config.base_model or default_model_path()
    say(f"loading {base_path.name} (dequantizing the GGUF for training)...")
    model = (model_loader or _load_base)(base_path)
    spec = LoraSpec(rank=config.rank, alpha=config.alpha)
    wrapped = inject(model, spec)
    parameters = [p for lora in wrapped.values() for p in (lora.lora_a, lora.lora_b)]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=0.0)
    step = 0
    wall_before = 0.0  # training seconds of earlier sessions of a resumed run
    if config.init_from is not None and not (resume and checkpoint_path.exists()):
        load_adapter_state(wrapped, _warm_start_state(config.init_from, config.rank))
        say(f"warm start from {config.init_from}")
    if resume and checkpoint_path.exists():
        saved = torch.load(checkpoint_path, weights_only=True)
        if saved["config"] != config.describe():
            raise ConfigError(f"the run in {out} was started with other settings; use another --out")
        load_adapter_state(wrapped, saved["adapter"])
        optimizer.load_state_dict(saved["optimizer"])
        step = int(saved["step"])
        wall_before = float(saved.get("wall_s", 0.0))
        say(f"resumed at step {step} of {total_steps}")

    n_head = model.config.num_attention_heads
    n_head_kv = model.config.num_key_value_heads

    def save() -> None:
        state = adapter_state(wrapped)
        tmp = checkpoint_path.with_suffix(".tmp")
        torch.save(
            {
                "config": config.describe(),
                "adapter": state,
                "optimizer": optimizer.state_dict(),
                "step": step,
                "wall_s": wall_before + time.perf_counter() - started,
            },
            tmp,
        )
        tmp.replace(checkpoint_path)  # atomic: an interrupted save never loses the last checkpoint
        adapter_tmp = out / (ADAPTER + ".tmp")
        write_adapter(adapter_tmp, state, spec.alpha, n_head, n_head_kv)
        adapter_tmp.replace(out / ADAPTER)

    def check() -> None:
        """Val loss and a small val plan-success check on the adapter just written (checks.jsonl)."""
        if not val_sequences and not check_rows:
            return
        model.eval()
        record: dict[str, Any] = {"step": step}
        if val_sequences:
            record["val_loss"] = evaluate_loss(model, val_sequences, config.batch_tokens, config.bf16)
        if check_rows:
            result = check_adapter(base_path, out / ADAPTER, check_rows, registry, config.threads)
            record |= {"val_success": result.success, "val_strict": result.strict, "val_checked": result.count}
        model.train()
        with (out / CHECKS_LOG).open("a", encoding="utf-8") as checks_log:
            checks_log.write(json.dumps(record) + "\n")
        shown = [f"{k} {v:.3f}" for k, v in record.items() if k in ("val_loss", "val_success", "val_strict")]
        say(f"step {step}: " + ", ".join(shown))

    started = time.perf_counter()
    model.train()
    log = (out / LOG).open("a", encoding="utf-8", buffering=1)  # line-buffered: `tail -f` shows each step
    trained_tokens = 0
    try:
        while step < total_steps:
            epoch, skip = divmod(step, steps_per_epoch)
            for index, batch in enumerate(batches(sequences, config.batch_tokens, config.seed, epoch, len(prefix))):
                if index < skip:
                    continue  # resumed mid-epoch: the order is reproducible, skip what was done
                if step >= total_steps:
                    break
                lr = _lr_at(step, total_steps, config)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                tick = time.perf_counter()
                with _autocast(config.bf16):
                    loss = _loss(model, batch, prefix)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(parameters, 1.0)
                optimizer.step()
                step += 1
                tokens = sum(len(s) for s in batch)
                trained_tokens += tokens
                progress = Progress(step, total_steps, loss.item(), tokens / (time.perf_counter() - tick), lr)
                on_progress(progress)
                log.write(json.dumps(asdict(progress)) + "\n")
                log.flush()  # a step takes seconds: let `tail -f` follow the run
                if step % config.checkpoint_every == 0:
                    save()
                    if step < total_steps:
                        check()
    finally:
        log.close()
    save()
    training_s = time.perf_counter() - started
    check()
    model.eval()
    checks = read_jsonl_rows(out / CHECKS_LOG)
    summary = {
        "steps": step,
        "sequences": len(sequences),
        "dropped_too_long": too_long,
        "val_loss": checks[-1].get("val_loss") if checks else None,
        "val_success": checks[-1].get("val_success") if checks else None,
        "tokens_per_s": trained_tokens / training_s if training_s > 0 else None,
        "wall_time_s": wall_before + training_s,
        "base_model": str(base_path),
        "base_model_sha256": sha256_of(base_path),
        "adapter": str(out / ADAPTER),
        "config": config.describe(),
    }
    _document_run(out, summary, adapter_state(wrapped), config.rank, config.alpha)
    return summary
