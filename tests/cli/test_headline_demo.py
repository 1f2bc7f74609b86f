"""The README's headline request, as `scripts/demo.sh` runs it: the default planner gets it right.

Default settings (the packaged model with the shipped fine-tuned adapter), the demo workspace,
the real clock: Sid and Nick get one draft with the summary of budget.pdf, and the review lands
on the coming Friday at 15:00. The plan is also checked for several "today"s, so the date
resolution is not right by luck of the weekday the suite runs on. (The adapter alone stops after
the email clause; the planner's day coverage makes it write the dated action it left out.)
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pocketagent.agent.build import build_planner
from pocketagent.cli.main import app
from pocketagent.llm.models import adapter_path, effective_prompt_style, packaged_adapter
from pocketagent.settings import load_settings

pytestmark = pytest.mark.model
HEADLINE = "email Sid and Nick the summary of budget.pdf and put a review on Friday at 3"


def coming_friday_at_3(now: datetime) -> datetime:
    """The data convention: a bare weekday is its next occurrence strictly after today."""
    days = (4 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=15, minute=0, second=0, microsecond=0)


def test_the_default_planner_is_the_shipped_fine_tuned_adapter() -> None:
    """`lora = "auto"` (the default) is the packaged adapter and its compact prompt; "none" the bare model."""
    settings = load_settings()
    assert adapter_path(settings) == packaged_adapter(None) is not None
    assert effective_prompt_style(settings) == "compact"
    assert adapter_path(load_settings(lora="none")) is None
    assert effective_prompt_style(load_settings(lora="none")) == "full"


@pytest.fixture(scope="module")
def planner():  # type: ignore[no-untyped-def]
    return build_planner(load_settings())


@pytest.mark.parametrize("today", ["2026-11-30 09:00:00", "2026-12-03 16:30:00", "2027-01-08 08:15:00"])
def test_headline_plan_is_right_for_any_today(planner, today: str) -> None:  # type: ignore[no-untyped-def]
    now = datetime.strptime(today, "%Y-%m-%d %H:%M:%S")
    plan = planner.plan(HEADLINE, now, replans=1).plan
    assert plan is not None
    calls = {action.tool: action for action in plan.tool_actions}
    lookups = sorted(a.args[0] for a in plan.tool_actions if a.tool == "get_email_address")
    assert lookups == ["Nick", "Sid"]
    assert "budget" in str(calls["open_and_get_file_path"].args[0]).lower()
    summary = calls["summarize_pdf"]
    assert summary.dependencies == (calls["open_and_get_file_path"].id,)
    email = calls["compose_new_email"]
    assert summary.id in email.dependencies and len(email.args[0]) == 2
    event = calls["create_calendar_event"]
    assert event.args[1] == f"{coming_friday_at_3(now):%Y-%m-%d %H:%M:%S}"


def test_demo_run_drafts_the_email_and_creates_the_event_on_the_coming_friday(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    now = datetime.now().replace(microsecond=0)
    result = runner.invoke(app, ["run", HEADLINE, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ok"], summary
    home = tmp_path / "home"
    drafts = list((home / "mail" / ".Drafts" / "cur").iterdir())
    assert len(drafts) == 1
    draft = message_from_bytes(drafts[0].read_bytes())
    assert "sid" in draft["To"].lower() and "nick" in draft["To"].lower()
    friday = coming_friday_at_3(now)
    events = "".join(p.read_text(encoding="utf-8") for p in (home / "calendars").rglob("*.ics"))
    done = [(step.get("tool"), step.get("args")) for step in summary["actions"]]
    assert f"{friday:%Y%m%dT%H%M%S}" in events, f"no event on {friday}; the run did {done}"
