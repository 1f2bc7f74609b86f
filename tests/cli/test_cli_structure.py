"""The CLI as one app: complete at import (and cheap to import), one error report, one progress helper."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

from pocketagent.cli.errors import (
    INTERRUPTED,
    JSON_PARAM,
    RUN_ERROR,
    USAGE_ERROR,
    VERBOSE_PARAM,
    error_message,
    exit_code,
    reports_errors,
)
from pocketagent.cli.main import app
from pocketagent.cli.output import progress
from pocketagent.errors import (
    BackendError,
    CommandLineError,
    ConfigError,
    HistoryError,
    ModelNotFoundError,
    ToolError,
    ToolRagError,
    VoiceUnavailableError,
)

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

# Modules a command may need, never `import pocketagent.cli.main` (nor `pocketagent --help`).
HEAVY = ("torch", "transformers", "llama_cpp", "fastapi", "uvicorn", "faster_whisper", "mcp", "numpy", "networkx")


def _documented_commands() -> set[tuple[str, str]]:
    """(command, word after it) for every `pocketagent ...` in the code of README.md and docs/*.md."""
    found: set[tuple[str, str]] = set()
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        spans = re.findall(r"```.*?```", text, re.DOTALL)
        spans += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
        for span in spans:
            for match in re.finditer(r"(?<![\w./-])pocketagent ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", span):
                found.add((match.group(1), match.group(2) or ""))
    return found


def test_a_fresh_import_has_every_documented_command_and_no_heavy_module() -> None:
    # A new interpreter: nothing registered by other tests, nothing imported by them.
    probe = (
        "import json, sys\n"
        "from typer.main import get_command\n"
        "from pocketagent.cli.main import app\n"
        "root = get_command(app)\n"
        "tree = {name: sorted(getattr(cmd, 'commands', {})) for name, cmd in root.commands.items()}\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'tree': tree, 'heavy': heavy}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    seen = json.loads(done.stdout)
    assert seen["heavy"] == []
    tree: dict[str, list[str]] = seen["tree"]
    documented = _documented_commands()
    assert len(documented) > 20  # the docs were read
    for command, word in documented:
        assert command in tree, f"`pocketagent {command}` is documented but not a command"
        if tree[command]:  # a group: the next word is its subcommand
            assert word == "" or word in tree[command], f"`pocketagent {command} {word}` is not a command"
    help_text = subprocess.run(
        [sys.executable, "-m", "pocketagent.cli.main", "--help"], capture_output=True, text=True, check=True,
        cwd=ROOT, env={**os.environ, "COLUMNS": "200"},
    ).stdout  # fmt: skip
    assert {command for command, _ in documented} <= set(re.findall(r"^│ ([a-z][a-z-]*) ", help_text, re.MULTILINE))


def _commands(command: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(command path, click command) of every command and group under the app's root command."""
    for name, sub in getattr(command, "commands", {}).items():
        yield f"{path} {name}".strip(), sub
        yield from _commands(sub, f"{path} {name}".strip())


def _unwrapped(function: Any) -> Iterator[Any]:
    while function is not None:
        yield function
        function = getattr(function, "__wrapped__", None)


def test_every_command_reports_errors_the_one_way() -> None:
    reporting = reports_errors(lambda: None).__code__
    commands = dict(_commands(get_command(app)))
    assert {
        "plan",
        "run",
        "datagen offline",
        "eval",
        "eval-bfcl",
        "finetune train",
        "toolrag eval",
        "mcp tools",
    } <= set(commands)
    json_options = 0
    for name, command in commands.items():
        if command.callback is None:  # a group without a callback of its own (datagen, mail, ...)
            continue
        assert any(f.__code__ is reporting for f in _unwrapped(command.callback)), (
            f"`pocketagent {name}` is not decorated with reports_errors"
        )
        # reports_errors reads --json and --verbose by these parameter names.
        for param in command.params:
            if "--json" in param.opts:
                json_options += 1
                assert param.name == JSON_PARAM, name
            if "--verbose" in param.opts:
                assert param.name == VERBOSE_PARAM, name
    assert json_options > 15


def test_the_exit_status_is_decided_by_the_error_type() -> None:
    assert exit_code(ConfigError("x")) == exit_code(CommandLineError("x")) == USAGE_ERROR
    assert exit_code(ModelNotFoundError("x")) == USAGE_ERROR  # a BackendError, but a path the user gave
    assert exit_code(ToolRagError("x")) == exit_code(VoiceUnavailableError("x")) == USAGE_ERROR
    assert exit_code(BackendError("x")) == exit_code(ToolError("x")) == exit_code(HistoryError("x")) == RUN_ERROR
    assert exit_code(FileNotFoundError(2, "No such file or directory", "/x/y")) == RUN_ERROR
    assert exit_code(KeyboardInterrupt()) == INTERRUPTED
    assert (
        error_message(FileNotFoundError(2, "No such file or directory", "/x/y")) == "No such file or directory (/x/y)"
    )
    assert error_message(ToolError("first line\n  second line")) == "first line second line"
    assert error_message(KeyboardInterrupt()) == "interrupted"


def _one_error_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    message: str = lines[0].removeprefix("error: ")
    return message


BAD_SETTING = {"POCKETAGENT_NOW": "tomorrow"}  # load_settings refuses it: a ConfigError in every command


@pytest.mark.parametrize(
    "command",
    [["config"], ["tools"], ["logs"], ["mail", "list"], ["mcp", "tools"], ["toolrag", "select", "text Ana"]],
)
def test_a_bad_setting_is_the_same_line_and_status_in_every_command(command: list[str], tmp_path: Path) -> None:
    env = {**BAD_SETTING, "POCKETAGENT_CONFIG": str(tmp_path / "none.toml")}
    reference = runner.invoke(app, ["config"], env=env)
    result = runner.invoke(app, command, env=env)
    assert result.exit_code == reference.exit_code == USAGE_ERROR
    assert _one_error_line(result) == _one_error_line(reference)
    assert "YYYY-MM-DD HH:MM:SS" in _one_error_line(result)
    as_json = runner.invoke(app, [*command, "--json"], env=env)
    assert as_json.exit_code == USAGE_ERROR
    assert _one_error_line(as_json) == _one_error_line(reference)  # stderr keeps the line for people
    assert json.loads(as_json.stdout) == {
        "ok": False, "error": _one_error_line(reference), "error_type": "ConfigError", "exit_code": USAGE_ERROR,
    }  # fmt: skip


def test_a_missing_data_file_is_the_same_error_in_eval_and_score(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.jsonl")
    results = {
        "eval": runner.invoke(app, ["eval", missing]),
        "score": runner.invoke(app, ["score", missing, missing]),
    }
    messages = {name: _one_error_line(result) for name, result in results.items()}
    assert messages["eval"] == messages["score"] and "nope.jsonl" in messages["eval"]
    assert {result.exit_code for result in results.values()} == {USAGE_ERROR}
    for args in (["eval", missing, "--json"], ["score", missing, missing, "--json"]):
        result = runner.invoke(app, args)
        assert result.exit_code == USAGE_ERROR
        assert json.loads(result.stdout) == {
            "ok": False, "error": messages["eval"], "error_type": "EvalFileError", "exit_code": USAGE_ERROR,
        }  # fmt: skip


def test_a_tool_error_is_exit_1_from_two_mail_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"POCKETAGENT_CONFIG": str(tmp_path / "none.toml")}
    assert runner.invoke(app, ["init", "--home", str(home)], env=env).exit_code == 0  # an empty inbox
    select = runner.invoke(app, ["mail", "select", "5", "--home", str(home)], env=env)
    show = runner.invoke(app, ["mail", "show", "5", "--home", str(home)], env=env)
    assert select.exit_code == show.exit_code == RUN_ERROR
    assert _one_error_line(select) == _one_error_line(show) == "there is no message number 5; the inbox has 0"
    as_json = runner.invoke(app, ["mail", "show", "5", "--home", str(home), "--json"], env=env)
    assert as_json.exit_code == RUN_ERROR
    assert json.loads(as_json.stdout)["error_type"] == "ToolError"


def test_a_command_line_mistake_is_the_same_error_as_a_bad_setting() -> None:
    result = runner.invoke(app, ["run", "hi", "--json", "--events", "jsonl"])
    assert result.exit_code == USAGE_ERROR
    assert _one_error_line(result) == "give either --json or --events jsonl, not both"
    assert json.loads(result.stdout)["error_type"] == "CommandLineError"


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=120, color_system=None), out


def test_progress_is_silent_when_quiet_even_on_a_terminal() -> None:
    for terminal in (True, False):
        console, out = _console(terminal)
        with progress(quiet=True, console=console) as display:
            bar = display.bar("planning", 3)
            for _ in range(3):
                bar.advance()
        assert out.getvalue() == ""


def test_progress_off_a_terminal_is_one_plain_line_per_bar_and_none_after_a_failure() -> None:
    console, out = _console(terminal=False)
    with progress(console=console) as display:
        first, second = display.bar("scoring", 2), display.bar("embedding")
        first.advance(2)
        first.update(status="success 1/2")
        second.update(completed=5, total=5)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"scoring: 2/2  success 1/2  in \d+\.\d s", lines[0])
    assert re.fullmatch(r"embedding: 5/5  in \d+\.\d s", lines[1])
    console, out = _console(terminal=False)
    with pytest.raises(ToolError), progress(console=console) as display:
        display.bar("scoring", 2).advance()
        raise ToolError("broken")
    assert out.getvalue() == ""  # the error alone is the command's last word


def test_progress_on_a_terminal_draws_the_bar_with_an_eta() -> None:
    console, out = _console(terminal=True)
    with progress(console=console) as display:
        bar = display.bar("planning", 4, status="success 0/0")
        bar.update(completed=4, status="success 3/4")
    drawn = out.getvalue()
    assert "planning" in drawn and "4/4" in drawn and "success 3/4" in drawn and "ETA" in drawn


def test_a_long_command_with_json_prints_no_progress(tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    plan = '1. maps_open_location("Machu Picchu")\n2. join()<END_OF_PLAN>'
    data.write_text(json.dumps({"id": "a", "query": "show me machu picchu", "plan": plan}) + "\n", encoding="utf-8")
    predictions = tmp_path / "pred.jsonl"
    predictions.write_text(json.dumps({"id": "a", "plan": plan}) + "\n", encoding="utf-8")
    quiet = runner.invoke(app, ["score", str(data), str(predictions), "--json"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == "" and json.loads(quiet.stdout)["success_rate"] == 1.0
    plain = runner.invoke(app, ["score", str(data), str(predictions)])
    assert plain.exit_code == 0, plain.output
    assert re.fullmatch(r"scoring: 1/1  success 1/1  in \d+\.\d s\n", plain.stderr)
