"""`pocketagent finetune` without the train extra: one clear line naming the extra (never a traceback)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pocketagent.cli.main import app


def test_a_missing_training_module_is_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # how Python marks a module as not importable
    result = CliRunner().invoke(app, ["finetune", "train", str(tmp_path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        (
            "error: fine-tuning needs the train extra (torch is missing): pip install -e '.[train]' "
            "(installs torch==2.13.0, the CPU build)"
        )
    ]
