"""bfcl-eval's side of the BFCL benchmark: its private virtualenv, its checker process, its data.

bfcl-eval pins numpy==1.26.4, networkx==3.3, tree_sitter==0.21.3 and imports every model
provider's SDK at import time, so it lives in a private virtualenv (created on first use)
and `bfcl_runner.py` runs there as a subprocess speaking JSON lines. The datasets are read
from that installed package. How our plans reach it: `bfcl.py`; docs/bfcl.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Self

from pocketagent import paths
from pocketagent.errors import BfclError

BFCL_EVAL_VERSION = "2026.3.23"
# What importing bfcl-eval's checker (ast_checker -> model_config -> every handler) needs,
# with bfcl-eval's own pins; verified in a fresh venv. Left out on purpose:
# sentence-transformers (pulls torch, GBs) and faiss-cpu, used only by its agentic/memory
# categories, and pandas/networkx/... used only by its generation and leaderboard tools.
# soundfile is imported by qwen-agent without being one of its requirements.
CHECKER_REQUIREMENTS = (
    "anthropic>=0.75.0",
    "boto3",
    "cohere==5.18.0",
    "datamodel-code-generator==0.25.7",
    "filelock==3.20.0",
    "google-genai>=1.52.0",
    "mistralai==1.7.0",
    "numpy==1.26.4",
    "openai>=1.86.0",
    "overrides",
    "pydantic>=2.8.2",
    "python-dotenv>=1.0.1",
    "qwen-agent",
    "requests",
    "soundfile",
    "tenacity>=8.5.0",
    "tqdm",
    "tree_sitter==0.21.3",
    "tree-sitter-java==0.21.0",
    "tree-sitter-javascript==0.21.4",
    "writer-sdk>=2.1.0",
)
# The checker takes a model name to decide whether "." in function names was written "_".
# FunctionGemma's entry keeps dots (underscore_to_dot=False): we score under the same rule as
# the figures we compare with, and we write the original dotted names back.
CHECKER_MODEL_NAME = "google_functiongemma-270m-it-FC"
READY_MARKER = ".pocketagent-bfcl-ready"

# Our category name -> BFCL test category (its data files are "<prefix>_<category>.json").
CATEGORIES: dict[str, str] = {
    "simple": "simple_python",
    "multiple": "multiple",
    "parallel": "parallel",
    "parallel_multiple": "parallel_multiple",
    "irrelevance": "irrelevance",
    "live_simple": "live_simple",
    "live_multiple": "live_multiple",
    "live_parallel": "live_parallel",
    "live_parallel_multiple": "live_parallel_multiple",
    "live_irrelevance": "live_irrelevance",
}

# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class BfclItem:
    """One BFCL test item: the question, the function docs, and (except irrelevance) the answers."""

    id: str
    category: str  # our name, e.g. "simple"
    question: str
    functions: tuple[dict[str, Any], ...]
    possible_answer: tuple[dict[str, Any], ...] | None = None

    @property
    def test_category(self) -> str:
        """BFCL's name for the category (what its checker dispatches on)."""
        return CATEGORIES[self.category]


def parse_categories(text: str) -> list[str]:
    """`"simple,multiple"` -> `["simple", "multiple"]`, checking every name."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in CATEGORIES]
    if unknown or not names:
        raise BfclError(
            f"unknown BFCL categor{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(CATEGORIES)}"
        )
    return list(dict.fromkeys(names))


def question_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The request for the planner: the last user message, earlier turns prepended as context."""
    if not messages:
        return ""
    *earlier, last = messages
    context = [f"({m.get('role', 'user')}: {m.get('content', '')})" for m in earlier]
    return "\n".join([*context, str(last.get("content", ""))]).strip()


def _read_json_lines(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BfclError(f"cannot read BFCL data file {path}: {exc.strerror or exc}") from None
    records = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise BfclError(f"{path}:{number}: not JSON: {exc.msg}") from None
    return records


def load_items(
    data_dir: Path,
    category: str,
    limit: int | None = None,
    possible_answer_dir: Path | None = None,
    version_prefix: str = "BFCL_v4",
) -> list[BfclItem]:
    """The first `limit` items of a category from bfcl-eval's data directory (file order)."""
    stem = f"{version_prefix}_{CATEGORIES[category]}.json"
    records = _read_json_lines(data_dir / stem)[:limit]
    answers: dict[str, Any] = {}
    if "irrelevance" not in category:
        answer_path = (possible_answer_dir or data_dir / "possible_answer") / stem
        answers = {r["id"]: r.get("ground_truth") for r in _read_json_lines(answer_path)}
    items = []
    for record in records:
        try:
            turns = record["question"]
            messages = turns[0] if turns and isinstance(turns[0], list) else turns
            possible = answers.get(record["id"])
            if "irrelevance" not in category and possible is None:
                raise BfclError(f"BFCL item {record['id']} has no possible answer in {stem}")
            items.append(
                BfclItem(
                    id=str(record["id"]),
                    category=category,
                    question=question_text(messages),
                    functions=tuple(record["function"]),
                    possible_answer=tuple(possible) if possible is not None else None,
                )
            )
        except (KeyError, TypeError, IndexError) as exc:
            raise BfclError(f"{stem}: item {record.get('id', '?')} is malformed ({exc!r})") from None
    return items


# --------------------------------------------------------------------------- the checker process


def default_venv_dir() -> Path:
    """`paths.cache_dir()/bfcl-venv` (`$XDG_CACHE_HOME/pocketagent/bfcl-venv`, default `~/.cache/...`)."""
    return paths.cache_dir() / "bfcl-venv"


def _venv_python(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready_stamp() -> str:
    return json.dumps({"bfcl_eval": BFCL_EVAL_VERSION, "requirements": CHECKER_REQUIREMENTS})


def ensure_checker_venv(venv_dir: Path, say: Callable[[str], None] = lambda message: None) -> Path:
    """The Python of bfcl-eval's private virtualenv, creating or completing it when needed.

    `say` receives progress messages. The venv is ready when its marker file records the
    current bfcl-eval version and requirements; otherwise bfcl-eval and `CHECKER_REQUIREMENTS`
    are (re)installed into it with pip and the checker's import is tried once (all output goes
    to `bfcl-venv-pip.log` next to the venv).
    """
    python = _venv_python(venv_dir)
    marker = venv_dir / READY_MARKER
    if python.exists() and marker.exists() and marker.read_text(encoding="utf-8") == _ready_stamp():
        return python
    if venv_dir.exists() and (
        not venv_dir.is_dir() or (any(venv_dir.iterdir()) and not (venv_dir / "pyvenv.cfg").exists())
    ):
        raise BfclError(f"{venv_dir} exists and is not a virtualenv; remove it or choose another --bfcl-venv")
    say(
        f"Setting up bfcl-eval {BFCL_EVAL_VERSION} in its own virtualenv at {venv_dir} "
        "(first run only: ~470 MB on disk, a few minutes)..."
    )
    log_path = venv_dir.parent / "bfcl-venv-pip.log"
    steps = [
        [sys.executable, "-m", "venv", str(venv_dir)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-deps",
            f"bfcl-eval=={BFCL_EVAL_VERSION}",
        ],
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", *CHECKER_REQUIREMENTS],
        [str(python), "-I", "-c", "import bfcl_eval.eval_checker.ast_eval.ast_checker, bfcl_eval.utils"],
    ]
    env = {**os.environ, "BFCL_PROJECT_ROOT": str(venv_dir / "bfcl-project")}
    try:
        venv_dir.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w", encoding="utf-8") as log:
            for step in steps:
                log.write(f"$ {' '.join(step)}\n")
                log.flush()
                done = subprocess.run(
                    step, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, check=False
                )
                if done.returncode != 0:
                    raise BfclError(
                        f"setting up bfcl-eval failed ({' '.join(step[1:5])} exited {done.returncode}); "
                        f"see {log_path}:\n{_tail(log_path)}"
                    )
        marker.write_text(_ready_stamp(), encoding="utf-8")
    except OSError as exc:
        raise BfclError(f"cannot set up bfcl-eval in {venv_dir}: {exc.strerror or exc}") from None
    say("bfcl-eval is ready.")
    return python


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


@dataclass(frozen=True)
class Verdict:
    """bfcl-eval's judgement of one item."""

    valid: bool
    error: tuple[str, ...] = ()
    error_type: str | None = None


class BfclChecker:
    """bfcl-eval's checker in its own interpreter; use as a context manager.

    Starting it imports bfcl-eval (a few seconds) and learns where its datasets are.
    """

    def __init__(self, python: Path, model_name: str = CHECKER_MODEL_NAME, work_dir: Path | None = None) -> None:
        self.python = python
        self.model_name = model_name
        # bfcl-eval creates result/score folders under BFCL_PROJECT_ROOT on import.
        self.work_dir = work_dir or python.parent.parent / "bfcl-project"
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> Self:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._stderr = (self.work_dir / "runner-stderr.log").open("w+", encoding="utf-8")
        env = {**os.environ, "BFCL_PROJECT_ROOT": str(self.work_dir)}
        runner = Path(__file__).with_name("bfcl_runner.py")
        try:
            self._process = subprocess.Popen(
                [str(self.python), "-I", str(runner), "--model-name", self.model_name],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                encoding="utf-8",
                env=env,
            )
        except OSError as exc:
            self.close()
            raise BfclError(f"cannot start bfcl-eval's checker with {self.python}: {exc.strerror or exc}") from None
        info = self._receive()
        if not info.get("ready"):
            self.close()
            raise BfclError(f"bfcl-eval's checker did not start: {info.get('error', 'no reason given')}")
        self.info = info
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def data_dir(self) -> Path:
        return Path(self.info["data_dir"])

    def load_items(self, category: str, limit: int | None = None) -> list[BfclItem]:
        """Items of a category from the installed bfcl-eval's datasets."""
        return load_items(
            self.data_dir, category, limit, Path(self.info["possible_answer_dir"]), self.info["version_prefix"]
        )

    def check(self, item: BfclItem, output: list[dict[str, Any]] | None, decode_error: str | None = None) -> Verdict:
        """Score one item's decoded output (None: the model's text could not be decoded)."""
        if self._process is None or self._process.stdin is None:
            raise BfclError("the bfcl-eval checker is not running (use it inside `with`)")
        request = {
            "id": item.id,
            "category": item.test_category,
            "functions": list(item.functions),
            "output": output,
            "possible_answer": list(item.possible_answer) if item.possible_answer is not None else None,
            "decode_error": decode_error,
        }
        try:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        except OSError:
            raise BfclError(f"bfcl-eval's checker stopped:\n{self._stderr_tail()}") from None
        reply = self._receive()
        if reply.get("id") != item.id or "valid" not in reply:
            raise BfclError(f"bfcl-eval's checker answered out of turn: {str(reply)[:200]}")
        return Verdict(bool(reply["valid"]), tuple(reply.get("error") or ()), reply.get("error_type"))

    def _receive(self) -> dict[str, Any]:
        if self._process is None or self._process.stdout is None:
            raise BfclError("the bfcl-eval checker is not running (use it inside `with`)")
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait()
            raise BfclError(f"bfcl-eval's checker exited (code {code}):\n{self._stderr_tail()}")
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            raise BfclError(f"bfcl-eval's checker wrote something that is not JSON: {line[:200]!r}") from None
        return message if isinstance(message, dict) else {}

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.flush()
        return _tail(Path(self._stderr.name))

    def close(self) -> None:
        """Stop the checker process (closing its stdin ends it)."""
        process, self._process = self._process, None
        if process is not None:
            if process.stdin:
                process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
