"""Fixtures of the web UI tests: a server on a copy of the demo workspace, and Debian's Chromium.

The server is the real app (`create_app`) under uvicorn on a free loopback port (tests/server's
`live_server`); its planner is scripted by request text (tests/fakes.py's `ScriptedLLM`) unless a
test uses the real default model. The tools are the real built-ins on a copy of the demo
workspace, so an approved email really lands in its Maildir.

The browser is /usr/bin/chromium (apt's `chromium`; `.ci/run` installs it), driven by Playwright
with that executable: Playwright never downloads a browser here. Each test gets its own
profile directory. A missing Chromium fails the test: CI must have it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_kit import SCRIPTED, LiveServer, register_scripted_plans, server_starter
from ui_kit import BrowserPage

from fakes import ScriptedLLM
from pocketagent.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # A fake microphone (a beep) that needs no permission prompt: the mic button can record.
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
]  # fmt: skip
DEMO_NOW = "2026-11-23 10:00:00"  # the demo workspace's "today" (tests/conftest.py)
UI_TIMEOUT_MS = 60_000  # waits for the page (not timing assertions): generous for a busy CI machine


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedLLM:
    """The scripted planner backend, registered as `backend = "scripted-plans"` for this test only."""
    return register_scripted_plans(monkeypatch)


@pytest.fixture
def workspace(tmp_path: Path, demo_template: Path) -> Path:
    """A fresh copy of the demo workspace (contacts, mail, files ...) for this test."""
    home = tmp_path / "home"
    shutil.copytree(demo_template, home)
    return home


@pytest.fixture
def ui_settings(tmp_path: Path, workspace: Path) -> Callable[..., Settings]:
    """Settings for a UI server on the demo workspace: scripted planner, nothing opened on the desktop."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "backend": SCRIPTED, "home": workspace, "grammar": False, "tool_rag": False,
            "history_path": tmp_path / "history.sqlite", "now": DEMO_NOW, "open_in_desktop": False,
        }  # fmt: skip
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def ui_server(ui_settings: Callable[..., Settings], scripted: ScriptedLLM) -> Iterator[Callable[..., LiveServer]]:
    """`ui_server(**settings)` starts a server for this test (stopped at its end)."""
    with server_starter(ui_settings) as start:
        yield start


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread
# while it is open, and the CLI tests that come after tests/ui call asyncio.run().
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def open_page(playwright_driver: Any, tmp_path: Path) -> Iterator[Callable[..., BrowserPage]]:
    """`open_page(url, width=1280, height=900)`: a fresh Chromium profile, the page loaded and ready
    (`ready=False`: loaded, not waited for: a page that asks for the token is not ready until it has it)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does)")
    contexts: list[Any] = []

    def open_(url: str, width: int = 1280, height: int = 900, ready: bool = True) -> BrowserPage:
        context = playwright_driver.chromium.launch_persistent_context(
            str(tmp_path / f"chromium-profile-{len(contexts)}"),
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height}, service_workers="block",
        )  # fmt: skip
        contexts.append(context)
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        seen = BrowserPage(page)
        context.on("request", lambda request: seen.requests.append(request.url))
        page.on("pageerror", lambda error: seen.errors.append(str(error)))
        page.goto(url)
        if ready:
            page.wait_for_selector("body[data-ready]")
        return seen

    yield open_
    for context in contexts:
        context.close()
