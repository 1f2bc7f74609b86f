"""`pocketagent toolrag train | eval | select` through the real Typer app, on small generated data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pocketagent.cli import datagen, toolrag
from pocketagent.data.example import Example
from pocketagent.errors import ToolRagError
from pocketagent.toolrag.bank import read_bank, read_bank_embeddings
from pocketagent.toolrag.embedder import DATA_DIR, MODEL_ID
from pocketagent.toolrag.training import check_no_holdout

HANDWRITTEN = Path(__file__).resolve().parents[2] / "data" / "handwritten-dev.jsonl"
runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    application = typer.Typer()
    datagen.register(application)
    toolrag.register(application)

    @application.callback()
    def _root() -> None:  # keeps the groups sub-commands, as in the main app
        pass

    return application


@pytest.fixture(scope="module")
def small_data(app: typer.Typer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("toolrag-data")
    args = ["datagen", "offline", "--out", str(out), "--train", "300", "--val", "120", "--test", "60", "--seed", "11"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def test_select_json_lists_tools_and_example_ids(app: typer.Typer) -> None:
    result = runner.invoke(app, ["toolrag", "select", "text Ana that I'm running late", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["method"] == "toolrag"
    assert {"get_phone_number", "send_sms"} <= set(data["tools"])
    # The default number of retrieved examples (settings.tool_rag_examples) is 1.
    assert len(data["examples"]) == 1 and all(ex["id"].startswith("train-") for ex in data["examples"])
    plain = runner.invoke(app, ["toolrag", "select", "walking directions to the station", "--examples", "1"])
    assert plain.exit_code == 0 and "maps_show_directions" in plain.stdout


def test_select_empty_request_is_a_usage_error(app: typer.Typer) -> None:
    result = runner.invoke(app, ["toolrag", "select", "   "])
    assert result.exit_code == 2 and "error: empty request" in result.output


def test_train_without_data_says_how_to_make_it(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["toolrag", "train", "--data", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "pocketagent datagen offline" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_train_eval_select_round_trip(app: typer.Typer, small_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "head"
    args = ["toolrag", "train", "--data", str(small_data), "--out", str(out), "--hidden", "32", "--epochs", "150",
            "--bank-size", "200", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["val"]["recall"] >= 0.99 and 0 < summary["threshold"] < 1
    assert {p.name for p in out.iterdir()} == {"head.npz", "head.json", "bank.jsonl.gz", "bank-embeddings.npz"}
    bank_queries = [ex.query for ex in read_bank(out / "bank.jsonl.gz")]
    assert read_bank_embeddings(MODEL_ID, bank_queries, out / "bank-embeddings.npz") is not None
    train_sets = {frozenset(json.loads(line)["tools"]) for line in (small_data / "train.jsonl").open()}
    assert len(train_sets) <= summary["bank_examples"] <= 200  # every tool set, then in proportion
    assert {frozenset(ex.tools) for ex in read_bank(out / "bank.jsonl.gz")} == train_sets
    meta = json.loads((out / "head.json").read_text())
    assert meta["train"]["examples"] == 300 and meta["segmenter"] == "clauses-v1"

    result = runner.invoke(app, ["toolrag", "eval", str(small_data / "test.jsonl"), "--dir", str(out), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["sets"][str(small_data / "test.jsonl")]
    assert figures["toolrag"]["recall"] > 0.85 and figures["toolrag"]["examples_subset_rule"] is True
    assert figures["toolrag"]["mean_selected"] < 12  # 300 training examples: still narrower than all 16
    assert figures["similarity"]["examples_mean"] == 0

    result = runner.invoke(app, ["toolrag", "select", "remind me to call mom at 6", "--dir", str(out), "--json"])
    assert result.exit_code == 0, result.output
    bank_ids = {ex.id for ex in read_bank(out / "bank.jsonl.gz")}
    assert {ex["id"] for ex in json.loads(result.stdout)["examples"]} <= bank_ids


def test_eval_of_a_missing_file_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["toolrag", "eval", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "error:" in result.output


def test_training_refuses_the_handwritten_eval_set() -> None:
    leaked = Example("x-1", "  Public transit to the de Young musuem please ", "1. join()<END_OF_PLAN>", "", ())
    with pytest.raises(ToolRagError, match="evaluation only"):
        check_no_holdout([leaked], [HANDWRITTEN])
    check_no_holdout([Example("x-2", "text Bo hi", "", "", ())], [HANDWRITTEN])


def test_the_shipped_bank_holds_no_handwritten_request() -> None:
    check_no_holdout(read_bank(DATA_DIR / "bank.jsonl.gz"), [HANDWRITTEN])
