"""Fine-tuning: the shared-prefix loss, the GGUF adapter llama.cpp applies, a short real run, resume.

All on the real packaged SmolLM2-135M (dequantized by transformers for torch, the GGUF itself for
llama.cpp), fixed seeds. Loading the model for torch takes ~10-60 s, so it is loaded once.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the train extra; CI installs it with the test extra
from typer.testing import CliRunner

from pocketagent.agent.compact_prompt import compact_messages, compact_system_prompt
from pocketagent.cli.main import app
from pocketagent.finetune.dataset import Sequence, batches, read_examples, render, render_all
from pocketagent.finetune.gguf_adapter import permute_rows, write_adapter
from pocketagent.finetune.lora import LoraSpec, adapter_state, inject
from pocketagent.finetune.trainer import _load_base, _loss, shared_prefix_length
from pocketagent.llm.llamacpp import LlamaCppBackend
from pocketagent.tools.builtin import builtin_registry

pytestmark = pytest.mark.model



@pytest.fixture(scope="module")
def tokenizer(default_model_path: Path) -> LlamaCppBackend:
    return LlamaCppBackend(default_model_path, n_ctx=1024, prompt_cache_dir=None)


@pytest.fixture(scope="module")
def base_model(default_model_path: Path):  # type: ignore[no-untyped-def]
    torch.set_num_threads(2)
    return _load_base(default_model_path)


def _write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_compact_prompt_lists_every_tool_signature_and_the_date() -> None:
    registry = builtin_registry()
    system = compact_system_prompt(registry)
    assert all(tool.signature_text() in system for tool in registry)
    messages = compact_messages("walk to the park", datetime(2026, 3, 11, 9), registry)
    assert [m.role for m in messages] == ["system", "user"]
    assert "Wednesday 2026-03-11 09:00:00" in messages[1].content
    assert messages[1].content.endswith("Request: walk to the park")


def test_rendered_target_is_the_plan_and_end_of_turn(tokenizer: LlamaCppBackend, plan_examples) -> None:  # type: ignore[no-untyped-def]
    sequence = render(plan_examples[0], builtin_registry(), tokenizer)
    prompt_text = tokenizer.format_prompt(
        compact_messages("text Ana that I'm late", datetime(2026, 3, 11, 9), builtin_registry())
    )
    assert list(sequence.prompt) == tokenizer.tokenize(prompt_text)
    assert list(sequence.target) == tokenizer.tokenize(plan_examples[0].plan + tokenizer.end_of_turn)


def test_batches_cover_every_sequence_once_within_the_budget() -> None:
    sequences = [Sequence(str(i), tuple(range(100)), tuple(range(i % 37 + 1))) for i in range(300)]
    seen: list[str] = []
    for batch in batches(sequences, batch_tokens=400, seed=1, epoch=0, skip=100):
        assert max(len(s) for s in batch) * len(batch) - 100 * len(batch) <= 400 or len(batch) == 1
        seen += [s.id for s in batch]
    assert sorted(seen) == sorted(s.id for s in sequences)
    again = [s.id for b in batches(sequences, 400, seed=1, epoch=0, skip=100) for s in b]
    other_epoch = [s.id for b in batches(sequences, 400, seed=1, epoch=1, skip=100) for s in b]
    assert again == seen and other_epoch != seen


def test_read_examples_names_the_bad_line(tmp_path: Path) -> None:
    from pocketagent.errors import ConfigError

    path = tmp_path / "bad.jsonl"
    path.write_text('{"query": "x", "plan": "1. join()<END_OF_PLAN>", "now": "2026-01-01 00:00:00"}\n{"query": 1}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:2"):
        read_examples(path)


def test_permute_rows_matches_llama_cpp_converter_layout() -> None:
    # Per head, rows [0..d/2) and [d/2..d) are interleaved: 0, d/2, 1, d/2+1, ...
    weights = np.arange(8, dtype=np.float32).reshape(8, 1)  # 2 heads of 4 rows
    assert permute_rows(weights, 2).ravel().tolist() == [0, 2, 1, 3, 4, 6, 5, 7]


def test_shared_prefix_loss_and_gradients_equal_the_plain_ones(base_model, tokenizer, plan_examples) -> None:  # type: ignore[no-untyped-def]
    sequences, _ = render_all(plan_examples, builtin_registry(), tokenizer, 1024)
    prefix = sequences[0].tokens[: shared_prefix_length(sequences)]
    assert len(prefix) > 200  # the whole system prompt is shared
    wrapped = inject(base_model, LoraSpec(rank=4, alpha=8))
    try:
        torch.manual_seed(0)
        with torch.no_grad():
            for lora in wrapped.values():
                lora.lora_b.normal_(0, 0.05)
        probe = wrapped["3.mlp.up_proj"].lora_a
        plain = _loss(base_model, sequences)
        plain.backward()
        plain_grad = probe.grad.clone()
        probe.grad = None
        shared = _loss(base_model, sequences, prefix)
        shared.backward()
        assert shared.item() == pytest.approx(plain.item(), rel=1e-4)
        assert torch.allclose(probe.grad, plain_grad, rtol=1e-3, atol=1e-6)
    finally:
        _uninject(base_model, wrapped)


def test_exported_adapter_makes_llama_cpp_compute_what_torch_trained(  # type: ignore[no-untyped-def]
    base_model, default_model_path: Path, tmp_path: Path
) -> None:
    import llama_cpp

    tokens = llama_cpp.Llama(model_path=str(default_model_path), vocab_only=True, verbose=False).tokenize(
        b"Plan: email Sid the budget and text Nick that the review is on Friday", add_bos=False
    )
    wrapped = inject(base_model, LoraSpec(rank=4, alpha=8))
    try:
        torch.manual_seed(1)
        with torch.no_grad():
            for lora in wrapped.values():
                lora.lora_b.normal_(0, 0.1)
            torch_logits = base_model(torch.tensor([tokens])).logits[0].numpy()
        adapter = write_adapter(
            tmp_path / "adapter.gguf",
            adapter_state(wrapped),
            alpha=8,
            n_head=base_model.config.num_attention_heads,
            n_head_kv=base_model.config.num_key_value_heads,
        )
    finally:
        _uninject(base_model, wrapped)

    def cpp_logits(lora_path: Path | None) -> np.ndarray:
        llm = llama_cpp.Llama(
            model_path=str(default_model_path), n_ctx=256, n_threads=2, logits_all=True, verbose=False,
            lora_path=str(lora_path) if lora_path else None,
        )  # fmt: skip
        llm.eval(tokens)
        return np.array(llm.scores[: len(tokens)])

    def correlation(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    with_adapter = correlation(torch_logits, cpp_logits(adapter))
    without = correlation(torch_logits, cpp_logits(None))
    # Q4_1 activations in llama.cpp leave a small difference; a missing or mis-laid adapter a large one.
    assert with_adapter > 0.998
    assert without < 0.97


def test_finetune_cli_trains_exports_resumes_and_the_adapter_plans(  # type: ignore[no-untyped-def]
    tmp_path: Path, default_model_path: Path, plan_rows
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _write_jsonl(data / "train.jsonl", plan_rows * 2)
    _write_jsonl(data / "val.jsonl", plan_rows[:2])
    out = tmp_path / "run"
    args = ["finetune", "train", str(data), "--out", str(out), "--batch-tokens", "256", "--checkpoint-every", "1"]
    result = CliRunner().invoke(app, [*args, "--epochs", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout[result.stdout.index("{") :])
    assert (out / "adapter.gguf").stat().st_size > 100_000
    assert first["val_loss"] is not None and first["steps"] >= 1

    again = CliRunner().invoke(app, [*args, "--epochs", "0.5"])
    assert again.exit_code == 2 and "--resume" in again.output  # never silently overwrites a run

    other = CliRunner().invoke(app, [*args, "--epochs", "1", "--resume"])
    assert other.exit_code == 2 and "other settings" in other.output

    # The planner with the adapter (barely trained here, so only the format is checked): the
    # compact prompt is chosen automatically and the grammar keeps the output a plan.
    planned = CliRunner().invoke(
        app,
        ["plan", "text Ana that I'm late", "--lora", str(out / "adapter.gguf"), "--now", "2026-03-11 09:00:00",
         "--no-tool-rag", "--json"],
        env={"POCKETAGENT_MAX_TOKENS": "48"},
    )  # fmt: skip
    payload = json.loads(planned.stdout)
    assert payload["plan"].startswith("1. ")
    assert payload["stats"]["prompt_tokens"] < 600  # signatures only, not the ~1,600-token full prompt


def test_auto_prompt_style_follows_the_adapter_setting(default_model_path: Path) -> None:
    from pocketagent.llm.models import effective_prompt_style
    from pocketagent.settings import load_settings

    adapter = str(default_model_path)  # any existing file stands in for an adapter here
    assert effective_prompt_style(load_settings()) == "compact"  # the shipped fine-tuned adapter
    assert effective_prompt_style(load_settings(lora="none")) == "full"
    assert effective_prompt_style(load_settings(lora=adapter)) == "compact"
    assert effective_prompt_style(load_settings(lora=adapter, prompt_style="full")) == "full"
    assert effective_prompt_style(load_settings(backend="openai")) == "full"  # a server applies its own weights


def test_finetune_cli_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["finetune", "train", str(tmp_path / "nope"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "training data not found" in result.output
    assert "Traceback" not in result.output


def _uninject(model, wrapped) -> None:  # type: ignore[no-untyped-def]
    """Put the original linear layers back so the module-scoped model is reusable."""
    for name, lora in wrapped.items():
        index, target = name.split(".", 1)
        parent_name, _, attr = target.rpartition(".")
        setattr(model.model.layers[int(index)].get_submodule(parent_name), attr, lora.base)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
