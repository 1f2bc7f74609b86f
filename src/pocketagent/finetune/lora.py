"""LoRA adapters on a transformers Llama model: inject, save, load (torch only).

`W x + (alpha / r) * B (A x)` with A (r x in) random and B (out x r) zero at the start, as
in the LoRA paper and as llama.cpp applies a GGUF adapter, so the exported adapter computes
exactly what was trained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

# transformers' Llama module names -> llama.cpp's GGUF tensor names (per block).
GGUF_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


@dataclass(frozen=True)
class LoraSpec:
    """Rank, alpha and which projections get an adapter."""

    rank: int = 16
    alpha: float = 32.0
    targets: tuple[str, ...] = tuple(GGUF_NAMES)

    @property
    def scale(self) -> float:
        return self.alpha / self.rank


class LoraLinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update."""

    def __init__(self, base: nn.Linear, spec: LoraSpec) -> None:
        super().__init__()
        self.base = base
        self.scale = spec.scale
        self.lora_a = nn.Parameter(torch.empty(spec.rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, spec.rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale
        return out


def inject(model: Any, spec: LoraSpec) -> dict[str, LoraLinear]:
    """Freeze `model` and wrap the target projections of every block; returns them by name."""
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    wrapped: dict[str, LoraLinear] = {}
    for index, layer in enumerate(model.model.layers):
        for target in spec.targets:
            parent_name, _, attr = target.rpartition(".")
            parent = layer.get_submodule(parent_name)
            lora = LoraLinear(getattr(parent, attr), spec)
            setattr(parent, attr, lora)
            wrapped[f"{index}.{target}"] = lora
    return wrapped


def adapter_state(wrapped: dict[str, LoraLinear]) -> dict[str, torch.Tensor]:
    """The trainable tensors only (what a checkpoint and the exported adapter hold)."""
    state = {}
    for name, lora in wrapped.items():
        state[f"{name}.lora_a"] = lora.lora_a.detach().clone()
        state[f"{name}.lora_b"] = lora.lora_b.detach().clone()
    return state


def load_adapter_state(wrapped: dict[str, LoraLinear], state: dict[str, torch.Tensor]) -> None:
    """Put saved adapter tensors back (shapes must match the spec they were trained with)."""
    with torch.no_grad():
        for name, lora in wrapped.items():
            lora.lora_a.copy_(state[f"{name}.lora_a"])
            lora.lora_b.copy_(state[f"{name}.lora_b"])
