"""The server with the real default planner (packaged SmolLM2-135M + the shipped adapter) on the demo workspace."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import openai
import pytest
from server_kit import LiveServer, live_server, run_stream, wait_until
from typer.testing import CliRunner

from pocketagent.agent.history import RunLog
from pocketagent.cli.main import app
from pocketagent.server import create_app
from pocketagent.settings import load_settings

pytestmark = [pytest.mark.model, pytest.mark.server]
HEADLINE = "email Sid and Nick the summary of budget.pdf and put a review on Friday at 3"


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[LiveServer]:
    assert CliRunner().invoke(app, ["init", "--demo"]).exit_code == 0  # into POCKETAGENT_HOME (tmp)
    settings = load_settings(history_path=tmp_path / "history.sqlite")
    with live_server(create_app(settings)) as server:
        yield server


def test_the_headline_request_runs_over_the_event_stream(real_server: LiveServer, tmp_path: Path) -> None:
    events = run_stream(real_server.url, {"request": HEADLINE})
    finished = {e["tool"] for e in events if e["kind"] == "action_finished"}
    assert {"compose_new_email", "create_calendar_event", "summarize_pdf"} <= finished
    assert events[-1]["kind"] == "answer" and events[-1]["ok"] is True
    drafts = list((tmp_path / "home" / "mail" / ".Drafts" / "cur").iterdir())
    assert len(drafts) == 1
    to = message_from_bytes(drafts[0].read_bytes())["To"].lower()
    assert "sid" in to and "nick" in to


def test_a_chat_completion_without_tools_answers_as_the_agent(real_server: LiveServer, tmp_path: Path) -> None:
    client = openai.OpenAI(base_url=f"{real_server.url}/v1", api_key="unused", max_retries=0, timeout=600)
    (model,) = client.models.list().data
    assert "+" in model.id  # "<gguf>+<adapter>": the fine-tuned planner
    reply = client.chat.completions.create(
        model=model.id, messages=[{"role": "user", "content": "remind me to call mom tomorrow at 6"}]
    )
    assert reply.choices[0].finish_reason == "stop"
    wait_until(lambda: real_server.runtime.recorded == 1, "the run to be logged")
    (record,) = RunLog(tmp_path / "history.sqlite").recent()
    # The content is the agent's final answer for that run, whatever the model planned.
    assert reply.choices[0].message.content == record.answer != ""
    assert record.request == "remind me to call mom tomorrow at 6" and record.source == "server"
