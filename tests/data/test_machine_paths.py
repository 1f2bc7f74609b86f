"""No path that only the developers' machine has: the default held-out sets are a checkout's data/ files,
and code and docs point at files in the repository (docs/, data/), never at ../shared or /work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pocketagent.data.pipeline import DEFAULT_HOLDOUT_PATHS, default_holdout_paths

ROOT = Path(__file__).resolve().parents[2]
# Files another helper is rewriting this session; remove an entry once its text is fixed.
PENDING = {"src/pocketagent/data/example.py"}
MACHINE_PATH = re.compile(r"\.\./shared/|/work/|(?<![\w.])shared/(spec|data)/")


def test_default_holdout_paths_are_relative_files_of_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert all(not path.is_absolute() and path.parts[0] == "data" for path in DEFAULT_HOLDOUT_PATHS)
    assert all((ROOT / path).is_file() for path in DEFAULT_HOLDOUT_PATHS)  # committed, so CI finds them
    monkeypatch.chdir(tmp_path)
    assert default_holdout_paths() == []
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "handwritten-dev.jsonl").write_text("")
    assert default_holdout_paths() == [Path("data/handwritten-dev.jsonl")]


def test_code_and_docs_name_no_machine_paths():
    files = [*ROOT.glob("src/pocketagent/**/*.py"), *ROOT.glob("docs/**/*.md"), *ROOT.glob("docs/**/*.json")]
    files += [ROOT / "README.md", ROOT / "pyproject.toml"]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        if path.relative_to(ROOT).as_posix() not in PENDING
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if MACHINE_PATH.search(line)
    ]
    assert offenders == []
