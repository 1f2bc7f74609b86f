"""The command line: --json shapes, exit codes, one-line errors, config precedence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pocketagent.cli.main import app
from pocketagent.settings import load_settings

runner = CliRunner()

PLAN = '1. get_phone_number("Ana")\n2. get_phone_number("Bo")\n3. send_sms(["$1", "$2"], "late")\n4. join()<END_OF_PLAN>\n'


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_run_plan_json(tmp_path: Path):
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text(PLAN)
    result = invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert [a["status"] for a in data["actions"]] == ["ok", "ok", "ok"]
    third = data["actions"][2]
    assert third["tool"] == "send_sms" and third["args"][0] == [data["actions"][0]["result"], data["actions"][1]["result"]]
    assert data["answer"].startswith("SMS recorded to +1-555-")
    assert data["plan"] == PLAN.strip()


def test_run_plan_with_failing_action_exits_1(tmp_path: Path):
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text('1. get_phone_number("Ana", "x")\n2. join()<END_OF_PLAN>')
    result = invoke("run", "--plan", str(plan_file), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["actions"][0]["status"] == "failed" and "takes 1 arguments" in data["actions"][0]["error"]


def test_dry_run_changes_nothing(tmp_path: Path):
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text(PLAN)
    result = invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--dry-run", "--json")
    data = json.loads(result.stdout)
    assert data["actions"][2]["result"].startswith("[dry run] would call send_sms(")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run"], "give one of a REQUEST, --audio FILE or --plan PLAN.txt"),
        (["run", "   "], "empty request"),
        (["plan", ""], "empty request"),
        (["run", "--plan", "/nonexistent/plan.txt"], "cannot read plan file"),
        (["plan", "hi", "--model", "/nonexistent/model.gguf"], "model file not found"),
        (["plan", "hi", "--now", "tomorrow"], "expected 'YYYY-MM-DD HH:MM:SS'"),
        (["plan", "hi", "--backend", "nope"], "unknown LLM backend 'nope'"),
        (["run", "hi", "--apps", "nope"], "unknown apps provider 'nope'"),
    ],
)
def test_bad_input_gives_one_line_error_and_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_unparsable_plan_file(tmp_path: Path):
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text("1. send_sms(")
    result = invoke("run", "--plan", str(plan_file))
    assert result.exit_code == 1
    assert "expected an action" in result.stderr and "Traceback" not in result.output


def test_plan_file_that_is_not_utf8_is_one_error_line_and_exit_2(tmp_path: Path):
    plan_file = tmp_path / "plan.txt"
    plan_file.write_bytes(b'1. get_phone_number("Ana\xff")\n2. join()<END_OF_PLAN>')
    for extra in ([], ["--json"]):
        result = invoke("run", "--plan", str(plan_file), *extra)
        assert result.exit_code == 2, result.output
        assert "is not UTF-8 text" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("plan_text", "message"),
    [
        ("1. send_sms(", "expected an action"),
        ('1. get_phone_number("\\ud800")\n2. join()<END_OF_PLAN>', "lone surrogate"),
        ("9" * 5000 + '. get_phone_number("Ana")\n2. join()<END_OF_PLAN>', "action id has 5000 digits"),
        ('1. get_phone_number("Ana")\n2. send_sms(["$' + "1" * 5000 + '"], "hi")\n3. join()', "too many digits"),
    ],
)
def test_run_plan_json_prints_a_parse_error_as_json(tmp_path: Path, plan_text: str, message: str):
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text(plan_text)
    result = invoke("run", "--plan", str(plan_file), "--json")
    assert result.exit_code == 1, result.output  # README: 1 = no valid plan
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["actions"] == [] and data["plan"] == plan_text
    assert message in data["plan_error"]
    # Without --json the same error is one line on stderr.
    result = invoke("run", "--plan", str(plan_file))
    assert result.exit_code == 1 and message in result.stderr and result.stdout == ""


def test_json_output_survives_a_lone_surrogate_in_a_tool_result(tmp_path: Path, monkeypatch):
    plugin = tmp_path / "oddtools.py"
    plugin.write_text(
        "def odd_file_name() -> str:\n"
        '    """Names a file whose name is not valid UTF-8."""\n'
        "    return 'report-' + bytes([0xFF]).decode('utf-8', 'surrogateescape')\n\n"
        "def register_tools(registry):\n"
        "    registry.register(odd_file_name)\n"
    )
    monkeypatch.setenv("POCKETAGENT_PLUGINS", json.dumps([str(plugin)]))
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text("1. odd_file_name()\n2. join()<END_OF_PLAN>")
    result = invoke("run", "--plan", str(plan_file), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answer"].startswith("report-\udcff")


RAISES = 'raise RuntimeError("TOOLS_TOKEN is not set\\nsecond line")\n'


@pytest.mark.parametrize(
    ("kind", "source", "reason"),
    [
        ("file", RAISES, "RuntimeError: TOOLS_TOKEN is not set"),
        ("module", RAISES, "RuntimeError: TOOLS_TOKEN is not set"),
        ("file", "def broken(:\n", "SyntaxError: "),
        ("module", "import json\njson.loads('{')\n", "JSONDecodeError: Expecting property name"),
    ],
)
def test_plugin_that_raises_on_import_is_a_config_error(tmp_path: Path, monkeypatch, kind, source, reason):
    name = f"broken_plugin_{kind}_{abs(hash(source))}"
    (tmp_path / f"{name}.py").write_text(source)
    if kind == "module":
        monkeypatch.syspath_prepend(str(tmp_path))
        spec = name
    else:
        spec = str(tmp_path / f"{name}.py")
    monkeypatch.setenv("POCKETAGENT_PLUGINS", json.dumps([spec]))
    result = invoke("tools")
    assert result.exit_code == 2, result.output
    assert f"cannot load tool plugin {spec!r}: {reason}" in result.stderr
    assert "second line" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_unreachable_openai_endpoint_is_a_clear_error():
    result = invoke("plan", "hi", "--backend", "openai", "--no-grammar")
    assert result.exit_code == 1, result.output
    assert "cannot reach" in result.stderr


def test_tools_json_lists_the_16_builtins():
    result = invoke("tools", "--json")
    names = [tool["name"] for tool in json.loads(result.stdout)["tools"]]
    assert len(names) == 16 and names[0] == "get_phone_number"


def test_user_tools_from_a_plugin_file(tmp_path: Path, monkeypatch):
    plugin = tmp_path / "mytools.py"
    plugin.write_text(
        "def book_table(restaurant: str, party_size: int) -> str:\n"
        '    """Books a table."""\n'
        '    return f"Booked {restaurant} for {party_size}."\n\n'
        "def register_tools(registry):\n"
        "    registry.register(book_table)\n"
    )
    monkeypatch.setenv("POCKETAGENT_PLUGINS", json.dumps([str(plugin)]))
    assert "book_table" in [t["name"] for t in json.loads(invoke("tools", "--json").stdout)["tools"]]
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text('1. book_table("Nopa", 4)\n2. join()<END_OF_PLAN>')
    data = json.loads(invoke("run", "--plan", str(plan_file), "--json").stdout)
    assert data["answer"] == "Booked Nopa for 4."


def test_config_precedence_flag_over_env_over_file(isolated_config: Path, monkeypatch):
    isolated_config.write_text('max_replans = 3\nexamples = 2\nbackend = "openai"\n')
    settings = load_settings()
    assert (settings.max_replans, settings.examples, settings.backend) == (3, 2, "openai")
    monkeypatch.setenv("POCKETAGENT_EXAMPLES", "5")
    assert load_settings().examples == 5
    assert load_settings(examples=1, backend=None).examples == 1
    assert load_settings(backend=None).backend == "openai"  # None = flag not given


def test_bad_config_file_is_a_clear_error(isolated_config: Path):
    isolated_config.write_text("max_replans = [oops\n")
    result = invoke("config")
    assert result.exit_code == 2 and "cannot read config file" in result.stderr
    isolated_config.write_text("max_replans = -1\nunknown_key = 1\n")
    result = invoke("config")
    assert result.exit_code == 2
    assert "max_replans" in result.stderr and "unknown_key" in result.stderr


def test_console_script_entry_point(tmp_path: Path):
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text(PLAN)
    exe = Path(sys.executable).with_name("pocketagent")
    out = subprocess.run([str(exe), "run", "--plan", str(plan_file), "--apps", "recorder"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "send_sms" in out.stdout and "SMS recorded" in out.stdout


@pytest.mark.model
def test_plan_json_with_the_real_default_model():
    result = invoke("plan", "directions to the airport by train", "--now", "2026-11-23 10:00:00", "--json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    assert data["error"] is None  # the grammar guarantees a parsable plan
    assert data["plan"].endswith("join()<END_OF_PLAN>")
    assert data["stats"]["prompt_tokens"] > 0


def test_ctrl_c_stops_a_run_promptly_with_a_clear_message(tmp_path: Path):
    import os
    import signal
    import time

    plugin = tmp_path / "slow.py"
    started = tmp_path / "started"
    plugin.write_text(
        "import pathlib, time\n"
        "def slow_tool(seconds: int) -> str:\n"
        '    """Sleeps."""\n'
        f"    pathlib.Path({str(started)!r}).write_text('x')\n"
        "    time.sleep(seconds)\n"
        '    return "done"\n\n'
        "def register_tools(registry):\n"
        "    registry.register(slow_tool, timeout_s=600)\n"
    )
    plan_file = tmp_path / "plan.txt"
    plan_file.write_text("1. slow_tool(300)\n2. join()<END_OF_PLAN>")
    env = {**os.environ, "POCKETAGENT_PLUGINS": json.dumps([str(plugin)])}
    exe = Path(sys.executable).with_name("pocketagent")
    process = subprocess.Popen(
        [str(exe), "run", "--plan", str(plan_file)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the tool never started"
        process.send_signal(signal.SIGINT)
        # The tool sleeps 300 s: a process kept alive by it would time out here (90 s leaves room for a loaded CI).
        _, stderr = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "interrupted" in stderr and "Traceback" not in stderr
