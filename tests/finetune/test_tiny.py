"""Fine-tuning maths on a tiny RANDOM Llama: no GGUF, no real weights; ~2 s of tests after the imports.

test_finetune.py checks the same code against the real SmolLM2-135M (the `model` marker, tens of
seconds per load); these tests pin the arithmetic and the files a run leaves behind on a
2-layer, 64-wide Llama built from a config with a fixed seed, so a regression shows up in any
quick run:

- LoRA starts as the identity, trains only its own tensors, and a few steps lower the loss;
- the shared-prefix loss (system prompt run once, KV broadcast) equals the plain loss, gradients too;
- bf16 autocast really switches on, stays close to fp32 and still trains fp32 master weights;
- the peft export has peft's key names and shapes and reproduces our logits (with peft itself, if installed);
- the training card and loss curve of a synthetic run directory;
- a whole `train()` run (tiny model through `model_loader`): its checkpoint loads with
  `weights_only=True`, and an interrupted-then-resumed run ends where an uninterrupted one does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import shutil
import zlib
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")  # the train extra
transformers = pytest.importorskip("transformers")

from pocketagent.errors import ConfigError
from pocketagent.finetune.card import (
    CARD_JSON,
    CARD_MD,
    CHECKS_LOG,
    LOSS_CURVE,
    PEFT_DIR,
    PEFT_TARGETS,
    export_peft,
    plot_loss_curve,
    write_card,
)
from pocketagent.finetune.dataset import Sequence
from pocketagent.finetune.lora import GGUF_NAMES, LoraSpec, adapter_state, inject, load_adapter_state
from pocketagent.finetune.trainer import (
    CHECKPOINT,
    LOG,
    TrainConfig,
    _autocast,
    _loss,
    _warm_start_state,
    evaluate_loss,
    finalize_from_checkpoint,
    shared_prefix_length,
    train,
)
from pocketagent.tools.builtin import builtin_registry

VOCAB = 300
TINY = {
    "vocab_size": VOCAB,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,  # grouped-query attention, as in SmolLM2: k/v narrower than q
    "max_position_embeddings": 1024,
    # Weights ~N(0, 0.05) instead of transformers' 0.02: the default leaves a random 64-wide model so
    # flat that a rank-4 adapter needs many steps to move the loss; 0.05 shows learning in a dozen.
    "initializer_range": 0.05,
}
PREFIX_LENGTH = 24


@pytest.fixture(scope="module")
def pristine():  # type: ignore[no-untyped-def]
    """The tiny random base model, never injected; tests work on deep copies of it."""
    torch.set_num_threads(1)  # tiny matmuls; leave the cores to whatever else runs
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(transformers.LlamaConfig(**TINY)).eval()


@pytest.fixture
def model(pristine):  # type: ignore[no-untyped-def]
    return copy.deepcopy(pristine)


def _sequences(count: int = 6, seed: int = 0) -> list[Sequence]:
    """Synthetic sequences: a 24-token shared "system prompt", a distinct request, a target of varied length.

    Lengths differ so batches are right-padded, which the masks and labels must handle.
    """
    rng = random.Random(seed)
    prefix = tuple(rng.randrange(3, VOCAB) for _ in range(PREFIX_LENGTH))
    out = []
    for index in range(count):
        # The request's first token differs per sequence, so the shared prefix is exactly PREFIX_LENGTH.
        request = (3 + index, *(rng.randrange(3, VOCAB) for _ in range(rng.randint(1, 5))))
        target = tuple(rng.randrange(3, VOCAB) for _ in range(rng.randint(4, 10)))
        out.append(Sequence(str(index), prefix + request, target))
    return out


def _randomize_lora_b(wrapped, std: float = 0.05, seed: int = 0) -> None:  # type: ignore[no-untyped-def]
    """B starts at zero (LoRA is the identity); give it values so the adapter changes the output."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for lora in wrapped.values():
            lora.lora_b.copy_(torch.randn(lora.lora_b.shape, generator=generator) * std)


def _logits(model, tokens: list[int]):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        return model(torch.tensor([tokens])).logits[0]


PROBE = [5, 17, 42, 99, 123, 250, 7, 8, 9, 10, 11, 200]


# --- LoRA training ---------------------------------------------------------------------------


def test_lora_linear_equals_the_merged_weight_w_plus_alpha_over_r_b_a() -> None:
    """The update is (alpha / r) * B A, as peft and llama.cpp apply it (works without peft installed)."""
    from pocketagent.finetune.lora import LoraLinear

    torch.manual_seed(3)
    base = torch.nn.Linear(8, 6)
    lora = LoraLinear(base, LoraSpec(rank=2, alpha=6.0))
    assert lora.lora_a.shape == (2, 8) and lora.lora_b.shape == (6, 2)
    with torch.no_grad():
        lora.lora_b.normal_()
        x = torch.randn(5, 8)
        merged = x @ (base.weight + 3.0 * lora.lora_b @ lora.lora_a).T + base.bias
        assert torch.allclose(lora(x), merged, atol=1e-5)


def test_lora_starts_as_the_identity_and_a_few_steps_lower_the_loss(model) -> None:  # type: ignore[no-untyped-def]
    before = _logits(model, PROBE)
    base_weights = {name: p.detach().clone() for name, p in model.named_parameters()}
    wrapped = inject(model, LoraSpec(rank=4, alpha=8))
    assert len(wrapped) == TINY["num_hidden_layers"] * len(GGUF_NAMES)
    # B = 0 at the start, so the injected model computes exactly the base model.
    assert torch.equal(_logits(model, PROBE), before)
    lora_parameters = [p for lora in wrapped.values() for p in (lora.lora_a, lora.lora_b)]
    assert {id(p) for p in model.parameters() if p.requires_grad} == {id(p) for p in lora_parameters}

    sequences = _sequences()
    prefix = sequences[0].tokens[: shared_prefix_length(sequences)]
    optimizer = torch.optim.AdamW(lora_parameters, lr=1e-2, weight_decay=0.0)
    model.train()
    losses = []
    for _ in range(12):
        loss = _loss(model, sequences, prefix)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    # Random init: near chance, ln(300) = 5.7 per token; memorising 6 short targets drops that fast
    # (12 steps: ~5.85 -> ~3.7 with this seed; no gradient, a wrong sign or an unapplied adapter: no drop).
    assert 5.2 < losses[0] < 6.5
    assert losses[-1] < 0.75 * losses[0], losses
    assert _loss(model, sequences, prefix).item() < losses[-1]  # the last step helped too
    # Only the adapter moved: the frozen base weights are bit-identical (module names now go via `.base`).
    after = {name.replace(".base.", "."): p for name, p in model.named_parameters() if "lora_" not in name}
    assert after.keys() == base_weights.keys()
    assert all(torch.equal(after[name], base_weights[name]) for name in base_weights)


def test_shared_prefix_loss_and_gradients_equal_the_plain_ones(model) -> None:  # type: ignore[no-untyped-def]
    sequences = _sequences()
    assert shared_prefix_length(sequences) == PREFIX_LENGTH
    prefix = sequences[0].tokens[:PREFIX_LENGTH]
    wrapped = inject(model, LoraSpec(rank=4, alpha=8))
    _randomize_lora_b(wrapped)  # with B = 0 the gradient of A would be zero and prove nothing
    probes = [
        wrapped["0.self_attn.q_proj"].lora_a,
        wrapped["1.mlp.up_proj"].lora_a,
        wrapped["1.self_attn.v_proj"].lora_b,
    ]

    plain = _loss(model, sequences)
    plain.backward()
    plain_grads = [p.grad.clone() for p in probes]
    for p in probes:
        p.grad = None
    shared = _loss(model, sequences, prefix)
    shared.backward()

    assert shared.item() == pytest.approx(plain.item(), rel=1e-5)
    for grad, plain_grad in zip((p.grad for p in probes), plain_grads, strict=True):
        assert plain_grad.abs().max() > 0  # the prefix's KV carries gradient to layer-0 q as well
        assert torch.allclose(grad, plain_grad, rtol=1e-4, atol=1e-7)


def test_evaluate_loss_is_the_token_weighted_mean_whatever_the_batching(model) -> None:  # type: ignore[no-untyped-def]
    sequences = _sequences(count=8)
    _randomize_lora_b(inject(model, LoraSpec(rank=4, alpha=8)))
    with torch.no_grad():
        whole = _loss(model, sequences).item()
    one_batch = evaluate_loss(model, sequences, batch_tokens=10_000)
    several = evaluate_loss(model, sequences, batch_tokens=24)  # one or two sequences per batch
    assert one_batch == pytest.approx(whole, rel=1e-5)
    assert several == pytest.approx(whole, rel=1e-5)


def test_shared_prefix_loss_with_a_prompt_that_is_the_whole_prefix(model) -> None:  # type: ignore[no-untyped-def]
    """A single sequence (e.g. `--limit 1`): its whole prompt is shared, yet every target token counts."""
    sequences = _sequences(count=1)
    prefix = sequences[0].tokens[: shared_prefix_length(sequences)]
    assert prefix == sequences[0].prompt[:-1]
    with torch.no_grad():
        assert _loss(model, sequences, prefix).item() == pytest.approx(_loss(model, sequences).item(), rel=1e-5)


# --- bf16 autocast ---------------------------------------------------------------------------


def test_bf16_autocast_is_on_close_to_fp32_and_still_trains(model) -> None:  # type: ignore[no-untyped-def]
    with _autocast(True):
        assert torch.is_autocast_enabled("cpu")
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16
    with _autocast(False):
        assert not torch.is_autocast_enabled("cpu")

    sequences = _sequences()
    prefix = sequences[0].tokens[:PREFIX_LENGTH]
    wrapped = inject(model, LoraSpec(rank=4, alpha=8))
    _randomize_lora_b(wrapped)
    with torch.no_grad():
        fp32 = _loss(model, sequences, prefix).item()
        with _autocast(True):
            bf16 = _loss(model, sequences, prefix).item()
    assert bf16 != fp32  # bfloat16 matmuls round differently: proof the context did something
    assert bf16 == pytest.approx(fp32, rel=2e-2)  # bf16 has ~3 significant digits

    parameters = [p for lora in wrapped.values() for p in (lora.lora_a, lora.lora_b)]
    optimizer = torch.optim.AdamW(parameters, lr=1e-2, weight_decay=0.0)
    model.train()
    losses = []
    for _ in range(10):
        with _autocast(True):
            loss = _loss(model, sequences, prefix)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], losses  # ~5.8 -> ~3.8 with this seed
    # Master weights and their gradients stay float32 (autocast only lowers the matmuls).
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in parameters)


# --- peft export -----------------------------------------------------------------------------


def _peft_export(model, tmp_path: Path, rank: int = 4, alpha: float = 8.0):  # type: ignore[no-untyped-def]
    wrapped = inject(model, LoraSpec(rank=rank, alpha=alpha))
    _randomize_lora_b(wrapped, std=0.2)
    out = export_peft(tmp_path, adapter_state(wrapped), rank, alpha)
    return wrapped, out


def test_peft_export_has_peft_names_and_shapes_and_reloads_to_the_same_logits(  # type: ignore[no-untyped-def]
    pristine, model, tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    rank = 4
    wrapped, out = _peft_export(model, tmp_path, rank=rank, alpha=8.0)
    assert out == tmp_path / PEFT_DIR
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["task_type"] == "CAUSAL_LM"
    assert config["r"] == rank and config["lora_alpha"] == 8.0 and config["lora_dropout"] == 0.0
    assert config["target_modules"] == sorted(PEFT_TARGETS)

    tensors = load_file(str(out / "adapter_model.safetensors"))
    assert len(tensors) == TINY["num_hidden_layers"] * len(PEFT_TARGETS) * 2
    hidden = TINY["hidden_size"]
    kv_width = TINY["num_key_value_heads"] * (hidden // TINY["num_attention_heads"])  # grouped-query k/v
    expected_shapes = {  # (out, in) of each projection; A is (r, in), B is (out, r)
        "self_attn.q_proj": (hidden, hidden),
        "self_attn.k_proj": (kv_width, hidden),
        "self_attn.v_proj": (kv_width, hidden),
        "self_attn.o_proj": (hidden, hidden),
        "mlp.gate_proj": (TINY["intermediate_size"], hidden),
        "mlp.up_proj": (TINY["intermediate_size"], hidden),
        "mlp.down_proj": (hidden, TINY["intermediate_size"]),
    }
    key_pattern = re.compile(r"base_model\.model\.model\.layers\.(\d+)\.(\w+\.\w+)\.lora_([AB])\.weight")
    state = {}
    for key, tensor in tensors.items():
        match = key_pattern.fullmatch(key)
        assert match, key
        layer, module, letter = match.groups()
        out_features, in_features = expected_shapes[module]
        assert tuple(tensor.shape) == ((rank, in_features) if letter == "A" else (out_features, rank)), key
        assert tensor.dtype == torch.float16  # as in the GGUF adapter: half the size
        state[f"{layer}.{module}.lora_{letter.lower()}"] = tensor.float()
    assert "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight" in tensors

    # The exported tensors, put into a fresh injected copy of the base, compute the same logits.
    fresh = copy.deepcopy(pristine)
    load_adapter_state(inject(fresh, LoraSpec(rank=rank, alpha=8.0)), state)
    expected = _logits(model, PROBE)
    # float16 rounding of A and B only: a few per cent of what the adapter changes, at most.
    effect = (_logits(pristine, PROBE) - expected).abs().max()
    assert effect > 1e-3  # the adapter matters
    assert (_logits(fresh, PROBE) - expected).abs().max() < 0.05 * effect


def test_peft_itself_loads_the_export_and_computes_our_logits(  # type: ignore[no-untyped-def]
    pristine, model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    peft = pytest.importorskip("peft")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the directory is local; never ask the hub
    _, out = _peft_export(model, tmp_path, rank=4, alpha=8.0)
    peft_model = peft.PeftModel.from_pretrained(copy.deepcopy(pristine), str(out)).eval()
    expected = _logits(model, PROBE)
    # A missed key only warns in peft (its B would stay zero): the logits check catches it.
    effect = (_logits(pristine, PROBE) - expected).abs().max()
    assert effect > 1e-3
    assert (_logits(peft_model, PROBE) - expected).abs().max() < 0.05 * effect  # float16 export rounding


# --- training card and loss curve ------------------------------------------------------------


def _synthetic_run(tmp_path: Path) -> tuple[Path, dict, Path]:  # type: ignore[type-arg]
    """A run directory as train() leaves it (logs only) plus its summary and a fake base file."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "card.md").write_text("# dataset\n\nMade with: `pocketagent datagen offline --n 40 --seed 7`\n")
    base = tmp_path / "base.gguf"
    base.write_bytes(b"GGUF not really a model" * 100)
    run = tmp_path / "run"
    run.mkdir()
    steps = [{"step": s, "total_steps": 15, "loss": 3.0 / s, "tokens_per_s": 900.0, "learning_rate": 1e-3}
             for s in range(1, 16)]  # fmt: skip
    (run / LOG).write_text("".join(json.dumps(row) + "\n" for row in steps))
    checks = [
        {"step": 10, "val_loss": 1.23456, "val_success": 0.5, "val_strict": 0.25, "val_checked": 4},
        {"step": 15, "val_loss": 0.8123, "val_success": 0.75, "val_strict": 0.5, "val_checked": 4},
    ]
    # A last line cut by an interruption must not break the card.
    (run / CHECKS_LOG).write_text("".join(json.dumps(row) + "\n" for row in checks) + '{"step": 2')
    config = TrainConfig(train=data / "train.jsonl", out=run, val=data / "val.jsonl", base_model=base, rank=8,
                         alpha=16.0, threads=2)  # fmt: skip
    summary = {
        "steps": 15, "sequences": 40, "val_loss": 0.8123, "tokens_per_s": 1234.4, "wall_time_s": 600.0,
        "base_model": str(base), "base_model_sha256": None, "config": config.describe(),
    }  # fmt: skip
    return run, summary, base


def test_write_card_records_base_hash_data_hyperparameters_and_checks(tmp_path: Path) -> None:
    run, summary, base = _synthetic_run(tmp_path)
    base_sha = hashlib.sha256(base.read_bytes()).hexdigest()

    assert write_card(run, summary) == run / CARD_MD  # no sha given: computed from the base file
    card = json.loads((run / CARD_JSON).read_text())
    assert card["base_model"] == "base.gguf" and card["base_model_sha256"] == base_sha
    assert card["data"] == str(tmp_path / "data" / "train.jsonl")
    assert card["data_command"] == "pocketagent datagen offline --n 40 --seed 7"
    assert card["hyperparameters"]["rank"] == 8 and card["hyperparameters"]["alpha"] == 16.0
    assert not {"train", "val", "out", "base_model"} & card["hyperparameters"].keys()  # paths are not hyperparameters
    assert [c["step"] for c in card["checkpoint_checks"]] == [10, 15]
    assert card["steps"] == 15 and card["final_val_loss"] == 0.8123

    markdown = (run / CARD_MD).read_text()
    assert f"- Base model sha256: `{base_sha}`" in markdown
    assert "made with `pocketagent datagen offline --n 40 --seed 7`" in markdown
    assert "- Steps: 15 on 40 sequences; wall time 10.0 min; 1234 tokens/s" in markdown
    assert "- Final val loss: 0.8123" in markdown
    assert "| 10 | 1.2346 | 50% | 25% |" in markdown and "| 15 | 0.8123 | 75% | 50% |" in markdown
    assert LOSS_CURVE not in markdown  # no plot written, so no broken image link

    # The sha train() passes wins over re-hashing (the base may have moved since).
    write_card(run, summary | {"base_model_sha256": "ab" * 32})
    assert json.loads((run / CARD_JSON).read_text())["base_model_sha256"] == "ab" * 32


def test_loss_curve_png_and_the_card_links_it(tmp_path: Path) -> None:
    run, summary, _ = _synthetic_run(tmp_path)
    assert plot_loss_curve(tmp_path) is None  # no train-log.jsonl there: nothing to draw, and no error
    pytest.importorskip("matplotlib")
    assert plot_loss_curve(run) == run / LOSS_CURVE
    assert (run / LOSS_CURVE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    write_card(run, summary)
    assert f"![loss curve]({LOSS_CURVE})" in (run / CARD_MD).read_text()


# --- a whole train() run on the tiny model ---------------------------------------------------


class WordTokenizer:
    """Stands in for the llama.cpp backend: a ChatML-like template and one id per word (hashed)."""

    end_of_turn = "<|im_end|>"

    def format_prompt(self, messages, prefill: str = "") -> str:  # type: ignore[no-untyped-def]
        turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n" + prefill

    def tokenize(self, text: str) -> list[int]:
        return [zlib.crc32(word.encode()) % VOCAB for word in re.findall(r"<\|\w+\|>|\w+|[^\w\s]", text)]




class Interrupted(Exception):
    pass


def test_train_run_checkpoint_loads_weights_only_and_resume_matches_a_straight_run(  # type: ignore[no-untyped-def]
    pristine, tmp_path: Path, plan_rows
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in plan_rows * 2))
    (data / "val.jsonl").write_text("".join(json.dumps(row) + "\n" for row in plan_rows[:2]))
    base = tmp_path / "base.gguf"
    base.write_bytes(b"stand-in for the GGUF: only hashed")
    loads: list[Path] = []

    def loader(path: Path):  # type: ignore[no-untyped-def]
        loads.append(path)
        return copy.deepcopy(pristine)

    def config(out: str, **changes) -> TrainConfig:  # type: ignore[no-untyped-def]
        settings = {"train": data / "train.jsonl", "val": data / "val.jsonl", "out": tmp_path / out,
                    "base_model": base, "rank": 4, "alpha": 8.0, "learning_rate": 1e-2, "warmup_steps": 2,
                    "batch_tokens": 64, "max_sequence_tokens": 2048, "checkpoint_every": 2, "val_check": 0,
                    "threads": 1} | changes  # fmt: skip
        return TrainConfig(**settings)

    registry, tokenizer = builtin_registry(), WordTokenizer()
    straight = train(config("straight"), registry, tokenizer, model_loader=loader)
    assert loads == [base]
    assert straight["steps"] == straight["sequences"] == 8  # 64 tokens after the shared prompt: one per batch
    assert straight["base_model_sha256"] == hashlib.sha256(base.read_bytes()).hexdigest()
    assert straight["val_loss"] is not None
    run = tmp_path / "straight"
    assert {"adapter.gguf", "summary.json", CARD_MD, CARD_JSON, PEFT_DIR} <= {p.name for p in run.iterdir()}

    # The checkpoint is plain tensors and Python values: loadable without unpickling arbitrary code.
    saved = torch.load(run / CHECKPOINT, weights_only=True)
    assert saved.keys() == {"config", "adapter", "optimizer", "step", "wall_s"}
    assert saved["config"] == config("straight").describe() and saved["step"] == 8
    assert len(saved["adapter"]) == TINY["num_hidden_layers"] * len(GGUF_NAMES) * 2
    assert saved["wall_s"] > 0 and saved["optimizer"]["state"]  # AdamW moments were saved

    # Stopped during step 3 (after the step-2 checkpoint), then resumed: same end as the straight run.
    def stop_at_three(progress) -> None:  # type: ignore[no-untyped-def]
        if progress.step == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        train(config("resumed"), registry, tokenizer, on_progress=stop_at_three, model_loader=loader)
    assert torch.load(tmp_path / "resumed" / CHECKPOINT, weights_only=True)["step"] == 2
    # A run stopped for good is documented from its last checkpoint (`finetune card RUN`).
    stopped = tmp_path / "stopped"
    shutil.copytree(tmp_path / "resumed", stopped)
    summary = finalize_from_checkpoint(stopped)
    assert summary["steps"] == 2 and summary["stopped_at_checkpoint"] and summary["total_steps"] == 8
    assert summary["base_model_sha256"] == hashlib.sha256(base.read_bytes()).hexdigest()
    assert (stopped / PEFT_DIR / "adapter_model.safetensors").is_file() and (stopped / CARD_MD).is_file()
    with pytest.raises(ConfigError, match="--resume"):
        train(config("resumed"), registry, tokenizer, model_loader=loader)  # never overwrites a run
    with pytest.raises(ConfigError, match="other settings"):
        train(config("resumed", epochs=2.0), registry, tokenizer, resume=True, model_loader=loader)
    resumed = train(config("resumed"), registry, tokenizer, resume=True, model_loader=loader)
    assert resumed["steps"] == 8
    final = torch.load(tmp_path / "resumed" / CHECKPOINT, weights_only=True)["adapter"]
    assert final.keys() == saved["adapter"].keys()
    for key, tensor in saved["adapter"].items():
        assert torch.allclose(final[key], tensor, atol=1e-6), key
    logged = [json.loads(line)["step"] for line in (tmp_path / "resumed" / LOG).read_text().splitlines()]
    assert logged == list(range(1, 9))  # each step logged once across the two sessions

    # A warm start takes the straight run's weights (not its optimizer or schedule) and trains on.
    def second_step(progress) -> None:  # type: ignore[no-untyped-def]
        if progress.step == 2:
            raise Interrupted  # after the step-1 checkpoint

    with pytest.raises(Interrupted):
        train(config("warm", init_from=run, checkpoint_every=1), registry, tokenizer, on_progress=second_step,
              model_loader=loader)  # fmt: skip
    warm = torch.load(tmp_path / "warm" / CHECKPOINT, weights_only=True)
    assert warm["step"] == 1 and len(warm["optimizer"]["state"]) > 0
    moved = [key for key, tensor in saved["adapter"].items() if not torch.allclose(warm["adapter"][key], tensor)]
    close = [key for key, tensor in saved["adapter"].items() if torch.allclose(warm["adapter"][key], tensor, atol=0.1)]
    assert moved and len(close) == len(saved["adapter"])  # one small step away from the straight run's end
    with pytest.raises(ConfigError, match="rank"):
        train(config("warm-rank", init_from=run, rank=8), registry, tokenizer, model_loader=loader)
    with pytest.raises(ConfigError, match="no checkpoint"):
        train(config("warm-none", init_from=tmp_path / "nowhere"), registry, tokenizer, model_loader=loader)
    # A peft export (what ships next to the adapter) is a warm start too: the same weights, in fp16.
    from_peft = _warm_start_state(run / PEFT_DIR, saved["config"]["rank"])
    assert from_peft.keys() == saved["adapter"].keys()
    for key, tensor in saved["adapter"].items():
        assert torch.allclose(from_peft[key], tensor, atol=1e-3, rtol=1e-2), key
    with pytest.raises(ConfigError, match="rank"):
        _warm_start_state(run / PEFT_DIR, saved["config"]["rank"] + 1)
