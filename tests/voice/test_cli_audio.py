"""`run --audio`, `plan --audio` and `transcribe`: a spoken request is a typed one, word for word.

Real speech (espeak-ng) and the real Whisper model everywhere; the planner is a backend that
answers any request with one plan, except in the one test that plans with the real default model
on a copy of the demo workspace.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner
from voice_kit import ONE_PLAN, TEXT_MOM, words

from fakes import ScriptedLLM
from pocketagent.cli.main import app

runner = CliRunner()
SMS_PLAN = '1. get_phone_number("Mom")\n2. send_sms(["$1"], "I\'m running late")\n3. join()<END_OF_PLAN>'
SCRIPTED_FLAGS = ("--backend", ONE_PLAN, "--no-grammar", "--no-tool-rag", "--apps", "recorder")
DEMO_NOW = "2026-11-23 10:00:00"
MOMS_NUMBER = "+1-415-555-0133"  # Maria Alves, "Mom" in the demo contacts


def assert_heard_text_mom(text: str) -> None:
    assert {"text", "mom", "late"} <= set(words(text)), text


def test_run_audio_plans_and_runs_the_transcript_like_a_typed_request(
    one_plan: Callable[[str], ScriptedLLM], say: Callable[[str], Path]
) -> None:
    backend = one_plan(SMS_PLAN)
    result = runner.invoke(app, ["run", "--audio", str(say(TEXT_MOM)), *SCRIPTED_FLAGS, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    transcript = data["transcript"]
    assert_heard_text_mom(transcript["text"])
    assert data["request"] == transcript["text"] == backend.requests[0]
    assert transcript["language"] == "en" and transcript["duration_s"] > 1 and transcript["seconds"] > 0
    assert [(a["tool"], a["status"]) for a in data["actions"]] == [("get_phone_number", "ok"), ("send_sms", "ok")]
    assert data["ok"] is True and "heard:" not in result.stderr  # --json: the transcript is in the object


def test_run_audio_shows_what_it_heard_before_the_live_view(
    one_plan: Callable[[str], ScriptedLLM], say: Callable[[str], Path]
) -> None:
    one_plan(SMS_PLAN)
    result = runner.invoke(app, ["run", "--audio", str(say(TEXT_MOM)), *SCRIPTED_FLAGS])
    assert result.exit_code == 0, result.output
    heard = [line for line in result.stderr.splitlines() if line.startswith("heard: ")]
    assert len(heard) == 1
    assert_heard_text_mom(heard[0])


def test_run_audio_events_summary_carries_the_transcript(
    one_plan: Callable[[str], ScriptedLLM], say: Callable[[str], Path]
) -> None:
    one_plan(SMS_PLAN)
    result = runner.invoke(app, ["run", "--audio", str(say(TEXT_MOM)), *SCRIPTED_FLAGS, "--events", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["kind"] == "planning_started" and lines[0]["request"] == lines[-1]["transcript"]["text"]
    assert lines[-1]["kind"] == "summary" and lines[-1]["request"] == lines[-1]["transcript"]["text"]


def test_plan_audio_prints_the_plan_of_the_transcript(
    one_plan: Callable[[str], ScriptedLLM], say: Callable[[str], Path]
) -> None:
    backend = one_plan(SMS_PLAN)
    result = runner.invoke(app, ["plan", "--audio", str(say(TEXT_MOM)), *SCRIPTED_FLAGS[:4], "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["plan"] == SMS_PLAN and data["request"] == data["transcript"]["text"] == backend.requests[0]
    assert_heard_text_mom(data["request"])


def test_transcribe_prints_the_text(say: Callable[[str], Path]) -> None:
    plain = runner.invoke(app, ["transcribe", str(say(TEXT_MOM))])
    assert plain.exit_code == 0, plain.output
    assert_heard_text_mom(plain.stdout)
    as_json = runner.invoke(app, ["transcribe", str(say(TEXT_MOM)), "--json"])
    assert json.loads(as_json.stdout)["text"] == plain.stdout.strip()


@pytest.mark.parametrize("command", ["run", "plan", "transcribe"])
def test_a_missing_audio_file_is_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "request.wav"
    args = [command, str(missing)] if command == "transcribe" else [command, "--audio", str(missing)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: audio file {missing} not found"
    assert "Traceback" not in result.output


def test_a_file_that_is_not_audio_is_one_line_and_exit_2(tmp_path: Path) -> None:
    notes = tmp_path / "request.wav"
    notes.write_text("text mom that I'm running late")
    result = runner.invoke(app, ["run", "--audio", str(notes)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: audio file {notes} is not audio in a known format (WAV, WebM, Ogg, MP3, FLAC, M4A)"
    )


def test_without_the_voice_extra_run_audio_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, say: Callable[[str], Path]
) -> None:
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    result = runner.invoke(app, ["run", "--audio", str(say(TEXT_MOM))])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: voice input needs: pip install 'pocketagent[voice]'"


RUN_ONE_WAY = "error: give one of a REQUEST, --audio FILE or --plan PLAN.txt"
PLAN_ONE_WAY = "error: give either a REQUEST or --audio FILE"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["run", "text mom", "--audio", "x.wav"], RUN_ONE_WAY),
     (["run", "--audio", "x.wav", "--plan", "p.txt"], RUN_ONE_WAY), (["run"], RUN_ONE_WAY),
     (["plan", "text mom", "--audio", "x.wav"], PLAN_ONE_WAY), (["plan"], PLAN_ONE_WAY)],
)  # fmt: skip
def test_a_request_comes_one_way_only(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message


@pytest.mark.model
def test_spoken_request_with_the_default_model_texts_mom_on_the_demo_workspace(
    demo_template: Path, tmp_path: Path, say: Callable[[str], Path]
) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_template, home)
    result = runner.invoke(app, ["run", "--audio", str(say(TEXT_MOM)), "--now", DEMO_NOW, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert_heard_text_mom(data["transcript"]["text"])
    lookup, sms = data["actions"]
    assert lookup["tool"] == "get_phone_number" and lookup["args"][0].lower() == "mom"
    assert sms["tool"] == "send_sms" and sms["args"][0] == [MOMS_NUMBER] and "late" in sms["args"][1].lower()
    outbox = [json.loads(p.read_text()) for p in (home / "sms" / "outbox").glob("*.json")]
    assert [(m["to"], "late" in m["message"].lower()) for m in outbox] == [([MOMS_NUMBER], True)]
