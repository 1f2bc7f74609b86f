"""The web UI with the real default planner (packaged SmolLM2-135M + the shipped adapter), in Chromium.

The README's headline request, typed into the page on a copy of the demo workspace: the plan
appears as a DAG, every side effect is approved from the keyboard as it asks, the email with the
PDF's summary lands in the workspace's Drafts, and a screenshot of the finished page is kept
(`$POCKETAGENT_TEST_ARTIFACTS/web-ui-headline.png` when that is set).
"""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest
from server_kit import live_server
from ui_kit import save_screenshot

from pocketagent.server import create_app
from pocketagent.settings import load_settings

pytestmark = [pytest.mark.model, pytest.mark.server]
HEADLINE = "email Sid and Nick the summary of budget.pdf and put a review on Friday at 3"
DEMO_NOW = "2026-11-23 10:00:00"
MODEL_TIMEOUT_MS = 600_000  # planning on a busy CI core; a wait, not a timing assertion


def test_the_headline_request_in_the_browser_drafts_the_email_once_approved(
    open_page, workspace: Path, tmp_path: Path
) -> None:
    settings = load_settings(
        home=workspace, history_path=tmp_path / "history.sqlite", now=DEMO_NOW, open_in_desktop=False
    )
    drafts = workspace / "mail" / ".Drafts" / "cur"
    before = set(drafts.iterdir())
    with live_server(create_app(settings)) as server:
        seen = open_page(server.url)
        page = seen.page
        page.set_default_timeout(MODEL_TIMEOUT_MS)
        assert "+" in page.inner_text("#model")  # "<gguf>+<adapter>": the fine-tuned planner
        page.fill("#request", HEADLINE)
        page.press("#request", "Enter")

        approved = []
        while True:  # approve each side effect as it asks (its card takes the focus), until the answer
            page.wait_for_selector(".confirm-card button.approve:focus, #answer.ok, #answer.not-ok")
            card = page.locator(".confirm-card:has(button.approve:focus)")
            if not card.count():
                break
            confirm_id = card.get_attribute("data-confirm-id")
            approved.append(card.locator(".card-title").inner_text())
            page.keyboard.press("a")
            page.wait_for_selector(f'.confirm-card[data-confirm-id="{confirm_id}"]', state="detached")

        assert page.locator("#answer.ok").count() == 1, page.inner_text("#answer")
        tools = {
            n.get_attribute("data-tool"): n.get_attribute("data-status")
            for n in page.locator("#dag [data-action-id]").all()
        }
        assert (
            tools.get("summarize_pdf") == tools.get("compose_new_email") == tools.get("create_calendar_event") == "done"
        )
        assert any("compose_new_email" in title for title in approved)
        assert any("create_calendar_event" in title for title in approved)

        (made,) = set(drafts.iterdir()) - before
        to = message_from_bytes(made.read_bytes())["To"].lower()
        assert "sid" in to and "nick" in to
        page.locator("#drafts li.new button").first.click()
        page.wait_for_selector("#draft-view:not([hidden]) .draft-text")
        save_screenshot(page, tmp_path, "web-ui-headline")
        assert seen.errors == [] and seen.foreign_requests(server.url) == []
