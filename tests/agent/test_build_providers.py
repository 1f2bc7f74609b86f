"""The `workspace` apps provider is registered by the agent's assembly, not by the tools layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pocketagent.agent.build import build_agent
from pocketagent.settings import load_settings
from pocketagent.tools.apps import app_provider_names, build_apps

PROBE = """
import sys
from pocketagent.tools.apps import app_provider_names
before = app_provider_names()
import pocketagent.agent.build
print(before, app_provider_names(), "pocketagent.backends.provider" in sys.modules)
"""


def test_tools_alone_know_only_the_recorder_and_the_build_adds_workspace_lazily() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    # The backends module is still not imported: it loads when workspace apps are first built.
    assert result.stdout.strip() == "['recorder'] ['recorder', 'workspace'] False"


def test_workspace_apps_built_by_name_write_to_the_users_home(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", now="2026-11-23 10:00:00", open_in_desktop=False)
    assert "workspace" in app_provider_names() and settings.apps == "workspace"
    apps = build_apps("workspace", settings)
    apps.notes.create_note("Packing", "tent, stove", "Trips")
    assert "tent, stove" in (tmp_path / "home" / "notes" / "Trips" / "Packing.md").read_text(encoding="utf-8")


def test_an_agent_without_planner_gets_the_workspace_apps(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", now="2026-11-23 10:00:00", open_in_desktop=False)
    agent = build_agent(settings, with_planner=False)
    agent.context.apps.notes.create_note("Errands", "post office", "")
    written = list((tmp_path / "home" / "notes").rglob("Errands.md"))
    assert len(written) == 1 and "post office" in written[0].read_text(encoding="utf-8")
