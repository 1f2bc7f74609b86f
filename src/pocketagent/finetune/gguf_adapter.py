"""Write trained LoRA tensors as a GGUF adapter that llama.cpp applies on top of the base GGUF.

llama.cpp stores a Llama's q/k projection rows permuted (its converter interleaves the
rotary halves per head; transformers undoes that when it loads a GGUF), so the adapter's
B matrices for q and k get the same row permutation. Tensor layout and metadata follow
llama.cpp's own `convert_lora_to_gguf.py`: `blk.N.<name>.weight.lora_a` (r x in) and
`.lora_b` (out x r), `general.type = adapter`, `adapter.type = lora`, `adapter.lora.alpha`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pocketagent.finetune.lora import GGUF_NAMES


def permute_rows(weights: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's q/k row permutation (`permute` in convert_hf_to_gguf.py) on a 2-D array."""
    rows = weights.shape[0]
    return weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def write_adapter(
    path: Path, state: dict[str, Any], alpha: float, n_head: int, n_head_kv: int, name: str = "pocketagent-planner"
) -> Path:
    """Write `state` (from `lora.adapter_state`, torch tensors) as a GGUF LoRA adapter in float16."""
    import gguf  # training-only dependency

    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_name(name)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    for key in sorted(state, key=_natural_key):
        layer, module, part = _split(key)
        array = state[key].detach().float().numpy()
        gguf_module = GGUF_NAMES[module]
        if part == "lora_b" and gguf_module in ("attn_q", "attn_k"):
            array = permute_rows(array, n_head if gguf_module == "attn_q" else n_head_kv)
        writer.add_tensor(f"blk.{layer}.{gguf_module}.weight.{part}", np.ascontiguousarray(array.astype(np.float16)))
    path.parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _split(key: str) -> tuple[int, str, str]:
    layer, rest = key.split(".", 1)
    module, part = rest.rsplit(".", 1)
    return int(layer), module, part


def _natural_key(key: str) -> tuple[int, str]:
    layer, _, rest = key.partition(".")
    return int(layer), rest
