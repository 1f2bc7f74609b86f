"""`pocketagent logs`, the runs `pocketagent run` logs, and `run --events jsonl`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pocketagent.agent.history import RunLog, default_history_path
from pocketagent.cli.main import CliRunRecorder, app
from pocketagent.errors import BackendError
from pocketagent.settings import load_settings

runner = CliRunner()

PLAN = '1. get_phone_number("Ana")\n2. get_phone_number("Bo")\n3. send_sms(["$1", "$2"], "late")\n4. join()<END_OF_PLAN>\n'
DEMO_NOW = "2026-11-23 10:00:00"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    return path


def history_file() -> Path:
    return default_history_path(load_settings())


def logged_runs() -> list[dict]:
    result = invoke("logs", "-n", "0", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_run_plan_on_the_demo_workspace_is_logged_as_run_json_printed_it(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "demo"
    shutil.copytree(demo_template, home)
    monkeypatch.setenv("POCKETAGENT_HOME", str(home))
    monkeypatch.setenv("POCKETAGENT_NOW", DEMO_NOW)
    monkeypatch.setenv("POCKETAGENT_OPEN_IN_DESKTOP", "false")
    plan = tmp_path / "demo-plan.txt"
    plan.write_text(
        '1. get_phone_number("Tío Manuel")\n2. get_email_address("Maëlle")\n'
        '3. get_phone_number("Nobody Atall")\n4. join()<END_OF_PLAN>\n',
        encoding="utf-8",
    )
    result = invoke("run", "--plan", str(plan), "--json")
    assert result.exit_code == 1  # the unknown contact fails
    printed = json.loads(result.stdout)

    [logged] = logged_runs()
    assert (home / "state" / "history.sqlite").is_file()
    assert [{k: v for k, v in a.items() if k != "duration_s"} for a in logged["actions"]] == printed["actions"]
    assert [a["status"] for a in logged["actions"]] == ["ok", "ok", "failed"]
    assert logged["plan"] == printed["plan"] and logged["answer"] == printed["answer"]
    assert logged["ok"] is False and logged["source"] == "cli" and logged["model"] == ""
    assert logged["started_at"][:4].isdigit() and logged["started_at"][-6] in "+-"  # ISO 8601 with offset


def test_logs_shows_newest_first_and_n_limits(plan_file: Path) -> None:
    for _ in range(3):
        assert invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--json").exit_code == 0
    assert invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--dry-run", "--json").exit_code == 0

    runs = logged_runs()
    assert [r["id"] for r in runs] == [4, 3, 2, 1]
    assert [r["dry_run"] for r in runs] == [True, False, False, False]  # dry runs are logged, marked

    one = invoke("logs", "-n", "1")
    assert one.exit_code == 0
    assert one.stdout.count("\n# ") + one.stdout.startswith("# ") == 1
    assert "run 4" in one.stdout and "dry run" in one.stdout
    assert '✓ 3. send_sms(["+1-555-' in one.stdout and "[dry run] would call send_sms" in one.stdout
    assert "## Plan" in one.stdout and 'get_phone_number("Bo")' in one.stdout

    default = invoke("logs")
    assert [line.split()[3] for line in default.stdout.splitlines() if line.startswith("# ")] == ["4", "3", "2"]
    assert len(json.loads(invoke("logs", "-n", "2", "--json").stdout)) == 2


def test_logs_id_shows_one_run_and_an_unknown_id_is_one_error_line(plan_file: Path) -> None:
    invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--json")
    invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--json")
    [first] = json.loads(invoke("logs", "--id", "1", "--json").stdout)
    assert first["id"] == 1 and first["actions"][2]["tool"] == "send_sms"

    missing = invoke("logs", "--id", "99")
    assert missing.exit_code != 0
    assert missing.stderr.strip().splitlines() == [f"error: no run with id 99 in {history_file()}"]


def test_logs_with_no_history_yet_says_so(tmp_path: Path) -> None:
    result = invoke("logs")
    assert result.exit_code == 0 and result.stdout == ""
    assert "no runs logged yet" in result.stderr
    assert json.loads(invoke("logs", "--json").stdout) == []
    assert invoke("logs", "--path").stdout.strip() == str(history_file())
    assert not history_file().exists()


def test_no_history_flag_and_setting_turn_logging_off(plan_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--no-history", "--json").exit_code == 0
    monkeypatch.setenv("POCKETAGENT_HISTORY", "false")
    assert invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--json").exit_code == 0
    assert not history_file().exists()


def test_a_plan_that_does_not_parse_is_logged_as_a_failed_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("1. send_sms(", encoding="utf-8")
    assert invoke("run", "--plan", str(bad)).exit_code == 1
    assert invoke("run", "--plan", str(bad), "--events", "jsonl").exit_code == 1
    runs = logged_runs()
    assert len(runs) == 2
    assert all(not r["ok"] and "expected an action" in r["error"] and r["plan"] == "1. send_sms(" for r in runs)


def test_a_damaged_history_is_a_clear_error_for_logs_and_only_a_warning_for_run(plan_file: Path) -> None:
    path = history_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00garbage, not SQLite" * 100)

    logs = invoke("logs")
    assert logs.exit_code == 1
    assert logs.stderr.strip().splitlines() == [
        f"error: the run history {path} is damaged or not a SQLite database (file is not a database); "
        "move it away and a new one is started"
    ]

    run = invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--json")
    assert run.exit_code == 0
    assert json.loads(run.stdout)["ok"] is True
    assert "warning: this run was not logged: the run history" in run.stderr


def test_events_jsonl_prints_each_event_as_a_json_line_in_order(plan_file: Path) -> None:
    result = invoke("run", "--plan", str(plan_file), "--apps", "recorder", "--events", "jsonl")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[:4] == ["plan_ready", "action_planned", "action_planned", "action_planned"]
    assert kinds[-2:] == ["answer", "summary"]
    assert sorted(kinds[4:-2]) == ["action_finished"] * 3 + ["action_started"] * 3
    # Each action starts before it finishes; send_sms starts only after both lookups finished.
    position = {(line["kind"], line.get("id")): index for index, line in enumerate(lines)}
    for action_id in (1, 2, 3):
        assert position[("action_started", action_id)] < position[("action_finished", action_id)]
    assert position[("action_started", 3)] > max(position[("action_finished", 1)], position[("action_finished", 2)])
    finished = {line["id"]: line for line in lines if line["kind"] == "action_finished"}
    assert finished[3]["args"][0] == [finished[1]["result"], finished[2]["result"]]

    summary = lines[-1]
    assert summary["ok"] is True and summary["answer"] == lines[-2]["answer"]
    assert summary["run_id"] == logged_runs()[0]["id"]


def test_events_and_json_together_are_refused(plan_file: Path) -> None:
    result = invoke("run", "--plan", str(plan_file), "--json", "--events", "jsonl")
    assert result.exit_code == 2 and "either --json or --events jsonl" in result.stderr
    assert invoke("run", "--plan", str(plan_file), "--events", "xml").exit_code == 2


def test_a_run_that_fails_midway_is_still_logged_with_its_error() -> None:
    recorder = CliRunRecorder(load_settings(), "text Ana", model="m")

    def drive(seen):  # type: ignore[no-untyped-def]
        raise BackendError("the llama.cpp server at http://127.0.0.1:9/v1 did not answer")

    with pytest.raises(BackendError):
        recorder.consume(drive)
    log = RunLog.for_settings(load_settings())
    assert log is not None
    [run] = log.recent()
    assert run.id == recorder.run_id and not run.ok
    assert run.error == "the llama.cpp server at http://127.0.0.1:9/v1 did not answer"


@pytest.mark.model
def test_a_real_model_run_streams_jsonl_and_logs_the_request_plan_and_model() -> None:
    request = "text Ana that I'm running late"
    result = invoke("run", request, "--apps", "recorder", "--now", DEMO_NOW, "--events", "jsonl")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "planning_started" and "plan_token" in kinds and "plan_ready" in kinds
    assert kinds[-1] == "summary" and kinds[-2] == "answer"
    tokens = "".join(line["text"] for line in lines if line["kind"] == "plan_token")
    ready = next(line for line in lines if line["kind"] == "plan_ready")
    assert tokens and ready["text"].startswith(tokens.strip()[:10])

    [logged] = logged_runs()
    assert logged["request"] == request and logged["id"] == lines[-1]["run_id"]
    assert logged["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf + smollm2-135m-planner"
    assert logged["plan"] == lines[-1]["plan"] and logged["answer"] == lines[-1]["answer"]
    assert logged["timings"]["plan_s"] > 0 and logged["timings"]["completion_tokens"] > 0
