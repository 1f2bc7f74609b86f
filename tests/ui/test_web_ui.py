"""The web UI end to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Each test starts the real server on a free loopback port on a copy of the demo workspace, opens
the page in a fresh Chromium profile and uses it as a person would: types (or tabs), watches the
DAG's nodes change status, approves or rejects, opens drafts and past runs. The planner is
scripted here (plan quality is not under test); tests/ui/test_real_model_ui.py uses the real one.
"""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_kit import run_stream, wait_until
from ui_kit import save_screenshot

pytestmark = [pytest.mark.server, pytest.mark.slow]  # each test drives Chromium

EMAIL_SID = "email Sid the budget summary"
EMAIL_SID_PLAN = (
    '1. get_email_address("Sid")\n'
    '2. compose_new_email(["$1"], [], "budget summary", "the budget summary", [])\n'
    "3. join()<END_OF_PLAN>"
)
# Action 3 needs action 2's result: rejecting 2 skips 3 too, without asking for it.
EMAIL_AND_NOTE = "email Sid the budget summary and note it"
EMAIL_AND_NOTE_PLAN = (
    '1. get_email_address("Sid")\n'
    '2. compose_new_email(["$1"], [], "budget summary", "the budget summary", [])\n'
    '3. create_note("budget summary", "$2", "Notes")\n'
    "4. join()<END_OF_PLAN>"
)
# Four independent look-ups and two dependents: a wide DAG (two columns of depth).
WIDE = "text Sid Nick Ana and Bo that I am running late"
WIDE_PLAN = (
    '1. get_phone_number("Sid")\n2. get_phone_number("Nick")\n3. get_email_address("Sid")\n'
    '4. get_email_address("Nick")\n5. send_sms(["$1", "$2"], "I am running late")\n'
    '6. compose_new_email(["$3", "$4"], [], "running late", "I am running late", [])\n'
    "7. join()<END_OF_PLAN>"
)


def node(page: Any, action_id: int) -> Any:
    return page.locator(f'#dag [data-action-id="{action_id}"]')


def wait_status(page: Any, action_id: int, status: str) -> None:
    page.wait_for_selector(f'#dag [data-action-id="{action_id}"][data-status="{status}"]')


def drafts_on_disk(workspace: Path) -> list[Path]:
    return sorted((workspace / "mail" / ".Drafts" / "cur").iterdir())


def test_type_a_request_watch_it_run_approve_the_draft_and_open_it(
    ui_server, scripted, open_page, workspace: Path, tmp_path: Path
) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    server = ui_server()
    before = drafts_on_disk(workspace)
    seen = open_page(server.url)
    page = seen.page

    page.fill("#request", EMAIL_SID)
    page.press("#request", "Enter")

    wait_status(page, 1, "done")
    # The side effect waits for a yes: its node says so, and its card has the focus.
    wait_status(page, 2, "waiting")
    card = page.locator(".confirm-card")
    assert card.count() == 1
    assert 'compose_new_email(["sid.shah@example.com"], [], "budget summary"' in card.locator(".card-call").inner_text()
    page.wait_for_selector(".confirm-card button.approve:focus")
    assert drafts_on_disk(workspace) == before  # nothing is drafted before the yes
    page.keyboard.press("Enter")

    wait_status(page, 2, "done")
    page.wait_for_selector("#answer.ok")
    assert "Draft saved to Drafts" in page.inner_text("#answer")
    assert page.locator(".confirm-card").count() == 0
    # The edge from $1 to action 2 is drawn, and marked as coming from a finished action.
    assert page.locator('#dag path.edge[data-from="1"][data-to="2"]').get_attribute("class") == "edge from-done"

    # The draft landed in the workspace's Maildir ...
    (made,) = [path for path in drafts_on_disk(workspace) if path not in before]
    stored = message_from_bytes(made.read_bytes())
    assert stored["To"] == "sid.shah@example.com" and stored["Subject"] == "budget summary"
    # ... and the drafts panel lists it as new; opening it shows its text.
    new_draft = page.locator("#drafts li.new button")
    new_draft.wait_for()
    assert "budget summary" in new_draft.inner_text()
    new_draft.click()
    page.wait_for_selector("#draft-view:not([hidden]) .draft-text")
    shown = page.inner_text("#draft-view .draft-text")
    assert shown.strip() == stored.get_payload(decode=True).decode().strip()
    assert page.evaluate("document.activeElement.id") == "draft-view"

    # Clicking a node shows its call and result.
    node(page, 1).click()
    page.wait_for_selector('#node-details[data-action-id="1"]')
    details = page.inner_text("#node-details")
    assert 'get_email_address("Sid")' in details and "sid.shah@example.com" in details

    # The run is in the history panel (newest first).
    page.wait_for_selector("#history [data-run-id]")
    assert EMAIL_SID in page.locator("#history [data-run-id]").first.inner_text()

    save_screenshot(page, tmp_path, "web-ui-approved-draft")
    assert seen.errors == []
    assert seen.foreign_requests(server.url) == []


def test_rejecting_skips_the_action_and_its_dependents(ui_server, scripted, open_page, workspace: Path) -> None:
    scripted.plans[EMAIL_AND_NOTE] = EMAIL_AND_NOTE_PLAN
    server = ui_server()
    before = drafts_on_disk(workspace)
    notes_before = sorted((workspace / "notes").rglob("*.md"))
    seen = open_page(server.url)
    page = seen.page

    page.fill("#request", EMAIL_AND_NOTE)
    page.click("#run")
    wait_status(page, 2, "waiting")
    page.locator(".confirm-card button.reject").click()

    wait_status(page, 2, "skipped")
    wait_status(page, 3, "skipped")  # it needed $2: skipped without being asked
    assert node(page, 1).get_attribute("data-status") == "done"
    page.wait_for_selector("#answer.not-ok")
    assert page.locator(".confirm-card").count() == 0
    node(page, 3).click()
    page.wait_for_selector('#node-details[data-action-id="3"]')
    assert "Skipped because" in page.inner_text("#node-details")
    # Nothing was written.
    assert drafts_on_disk(workspace) == before
    assert sorted((workspace / "notes").rglob("*.md")) == notes_before
    assert seen.errors == []


def test_the_history_panel_lists_recent_runs_and_opens_one(ui_server, scripted, open_page) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    scripted.plans[WIDE] = WIDE_PLAN
    server = ui_server()
    run_stream(server.url, {"request": EMAIL_SID})
    run_stream(server.url, {"request": WIDE, "dry_run": True})
    wait_until(lambda: server.runtime.recorded == 2, "both runs to be logged")

    page = open_page(server.url).page
    entries = page.locator("#history [data-run-id]")
    assert entries.count() == 2
    assert WIDE in entries.nth(0).inner_text() and "dry run" in entries.nth(0).inner_text()
    assert EMAIL_SID in entries.nth(1).inner_text() and "2 actions" in entries.nth(1).inner_text()

    entries.nth(1).click()
    page.wait_for_selector("#run-view:not([hidden]) .actions li")
    view = page.inner_text("#run-view")
    assert 'get_email_address("Sid")' in view and "sid.shah@example.com" in view and "Draft saved" in view
    page.locator("#run-view button", has_text="Ask this again").click()
    assert page.input_value("#request") == EMAIL_SID
    assert page.evaluate("document.activeElement.id") == "request"


def test_a_phone_width_window_has_no_horizontal_scroll_and_every_control_in_reach(
    ui_server, scripted, open_page, tmp_path: Path
) -> None:
    scripted.plans[WIDE] = WIDE_PLAN
    server = ui_server()
    seen = open_page(server.url, width=390, height=844)
    page = seen.page
    page.fill("#request", WIDE)
    page.press("#request", "Enter")
    wait_status(page, 5, "waiting")
    # The DAG is laid out in rows (one action per line) instead of shrinking its columns.
    assert page.get_attribute("#dag", "data-layout") == "rows"
    for action_id in range(1, 5):
        wait_status(page, action_id, "done")

    def no_horizontal_scroll() -> None:
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], width

    no_horizontal_scroll()
    # Every control is inside the window's width (reachable by scrolling down only) and big enough
    # to tap (a checkbox is tapped through its label).
    controls = page.locator("button:visible, textarea:visible, label.check, #dag [data-action-id]")
    assert controls.count() >= 10
    for index in range(controls.count()):
        box = controls.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (index, box)
        assert box["height"] >= 24, (index, box)
    # The node text is not scaled down to unreadable: the drawing is as wide as it is laid out.
    svg_scale = page.evaluate(
        "(() => { const s = document.querySelector('#dag svg'); return s.getBoundingClientRect().width / s.viewBox.baseVal.width; })()"
    )
    assert svg_scale >= 0.99

    page.locator(".confirm-card button.approve").first.click()
    page.wait_for_selector(".confirm-card")  # the second confirmation (the email)
    page.locator(".confirm-card button.approve").first.click()
    page.wait_for_selector("#answer.ok")
    no_horizontal_scroll()
    save_screenshot(page, tmp_path, "web-ui-phone-width")
    assert seen.errors == []


def test_a_wide_window_lays_the_dag_out_in_columns_by_depth(ui_server, scripted, open_page) -> None:
    scripted.plans[WIDE] = WIDE_PLAN
    server = ui_server()
    page = open_page(server.url, width=1400, height=900).page
    page.fill("#request", WIDE)
    page.press("#request", "Enter")
    wait_status(page, 6, "waiting")
    assert page.get_attribute("#dag", "data-layout") == "columns"
    boxes = {i: node(page, i).bounding_box() for i in range(1, 7)}
    # Look-ups (depth 0) share the first column, the messages that need them the second.
    assert len({round(boxes[i]["x"]) for i in (1, 2, 3, 4)}) == 1
    assert round(boxes[5]["x"]) == round(boxes[6]["x"]) > round(boxes[1]["x"])
    edges = {(e.get_attribute("data-from"), e.get_attribute("data-to")) for e in page.locator("#dag path.edge").all()}
    assert edges == {("1", "5"), ("2", "5"), ("3", "6"), ("4", "6")}
    # Two independent writes wait at once, each with its card; answering the focused one moves
    # the focus on to the other.
    page.locator(".confirm-card").nth(1).wait_for()
    first = page.locator(".confirm-card:has(button.approve:focus)").get_attribute("data-action-id")
    page.keyboard.press("a")
    page.wait_for_selector(f'.confirm-card[data-action-id="{first}"]', state="detached")
    page.wait_for_selector(".confirm-card button.approve:focus")
    assert page.locator(".confirm-card").count() == 1
    page.locator("#stop").click()
    page.wait_for_selector("#run-status.error")
    assert "cancelled" in page.inner_text("#run-status")
    assert page.locator(".confirm-card").count() == 0


def test_keyboard_only_run_approve_and_open_the_draft(ui_server, scripted, open_page, workspace: Path) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    server = ui_server()
    before = drafts_on_disk(workspace)
    seen = open_page(server.url)
    page = seen.page
    keyboard = page.keyboard

    # Tab from the top: the skip link comes first and jumps to the request box.
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "request"
    keyboard.type(EMAIL_SID)
    keyboard.press("Enter")

    page.wait_for_selector(".confirm-card button.approve:focus")
    keyboard.press("a")
    page.wait_for_selector("#answer.ok")
    assert len(drafts_on_disk(workspace)) == len(before) + 1

    # Tab through the page to the new draft and open it with Enter.
    for _ in range(60):
        keyboard.press("Tab")
        if page.evaluate("!!(document.activeElement.closest && document.activeElement.closest('#drafts li.new'))"):
            break
    else:
        pytest.fail("the new draft cannot be reached with Tab")
    keyboard.press("Enter")
    page.wait_for_selector("#draft-view:not([hidden]) .draft-text")
    assert "budget summary" in page.inner_text("#draft-view .draft-text").lower()

    # The DAG's nodes are in the Tab order too, and Enter shows a node's details.
    page.focus("#request")
    for _ in range(20):
        keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('data-action-id')") == "2":
            break
    else:
        pytest.fail("the plan's nodes cannot be reached with Tab")
    keyboard.press("Enter")
    page.wait_for_selector('#node-details[data-action-id="2"]')
    assert "Draft saved to Drafts" in page.inner_text("#node-details")
    assert seen.errors == []


def test_escape_rejects_the_focused_confirmation(ui_server, scripted, open_page, workspace: Path) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    server = ui_server()
    before = drafts_on_disk(workspace)
    page = open_page(server.url).page
    page.fill("#request", EMAIL_SID)
    page.press("#request", "Enter")
    page.wait_for_selector(".confirm-card button.approve:focus")
    page.keyboard.press("Escape")
    wait_status(page, 2, "skipped")
    assert drafts_on_disk(workspace) == before


def test_the_page_asks_for_the_token_once_and_keeps_it_for_the_tab(ui_server, scripted, open_page) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    server = ui_server(api_token="s3cret", confirm="never")
    seen = open_page(server.url, ready=False)
    page = seen.page
    page.wait_for_selector("#token-dialog[open]")
    assert page.evaluate("document.activeElement.id") == "token"
    page.fill("#token", "s3cret")
    page.press("#token", "Enter")
    page.wait_for_selector("body[data-ready]")
    assert page.inner_text("#model") == "scripted"
    assert page.evaluate("sessionStorage.getItem('pocketagent.token')") == "s3cret"
    page.fill("#request", EMAIL_SID)
    page.press("#request", "Enter")
    # The page asks before side effects even though this server's `confirm` is "never".
    page.wait_for_selector(".confirm-card button.approve:focus")
    page.keyboard.press("a")
    page.wait_for_selector("#answer.ok")
    assert page.locator("#token-dialog[open]").count() == 0  # asked once only
    assert httpx.get(f"{server.url}/v1/runs").status_code == 401  # the data itself stays protected
    assert seen.errors == []


# Wraps the page's fetch() to keep what each multipart upload held (Playwright does not see Blob bodies).
RECORD_UPLOADS = """() => {
    window.__uploads = [];
    const original = window.fetch;
    window.fetch = async (url, init = {}) => {
        if (init.body instanceof FormData) {
            const entry = {url: String(url), fields: {}};
            for (const [name, value] of init.body.entries()) {
                if (value instanceof Blob) {
                    const bytes = new Uint8Array(await value.arrayBuffer());
                    const view = new DataView(bytes.buffer);
                    entry.fields[name] = {filename: value.name, type: value.type, size: bytes.length,
                        riff: String.fromCharCode(...bytes.slice(0, 4)), wave: String.fromCharCode(...bytes.slice(8, 12)),
                        channels: view.getUint16(22, true), rate: view.getUint32(24, true), bits: view.getUint16(34, true)};
                } else {
                    entry.fields[name] = value;
                }
            }
            window.__uploads.push(entry);
        }
        return original(url, init);
    };
}"""


def test_the_microphone_records_and_uploads_wav_or_says_why_it_cannot(ui_server, open_page) -> None:
    server = ui_server()
    probe = httpx.post(f"{server.url}/v1/audio/transcriptions", files={"model": (None, "whisper-1")})
    seen = open_page(server.url)
    page = seen.page
    mic = page.locator("#mic")
    if probe.status_code in (404, 501):  # no speech-to-text on this server: the button says why
        assert mic.is_disabled()
        assert re.search(r"speech|voice|transcri|install", mic.get_attribute("title") or "", re.IGNORECASE)
        return
    assert probe.status_code == 400  # the endpoint is there and refused the upload without a file
    assert mic.is_enabled() and mic.get_attribute("data-ready") == "1"
    # Chromium's fake microphone (a beep) records; a second press stops, converts and uploads.
    mic.click()
    page.wait_for_selector('#mic[aria-pressed="true"]')
    page.wait_for_timeout(1200)  # a second or so of "speech"
    page.evaluate(RECORD_UPLOADS)
    mic.click()
    page.wait_for_selector("#voice-status.ok, #voice-status.error")
    (upload,) = page.evaluate("window.__uploads")
    assert upload["url"] == "/v1/audio/transcriptions"
    wav = upload["fields"]["file"]
    assert (wav["filename"], wav["type"], wav["riff"], wav["wave"]) == ("speech.wav", "audio/wav", "RIFF", "WAVE")
    assert (wav["channels"], wav["rate"], wav["bits"]) == (1, 16000, 16)
    assert wav["size"] > 44 + 16000  # at least half a second of samples
    status = page.inner_text("#voice-status")
    # A beep has no words: the server's reason is shown (or, should it hear words, they are put in the box).
    assert status == "Check the text, then press Enter to run it." or status.startswith("Could not transcribe it: ")
    if status.startswith("Check"):
        assert page.input_value("#request") != "" and page.evaluate("document.activeElement.id") == "request"
    assert seen.errors == []


def test_without_speech_to_text_the_mic_button_is_disabled_and_says_why(ui_server, open_page, tmp_path: Path) -> None:
    server = ui_server(voice_model=tmp_path / "no-such-model")  # the endpoint answers 501
    reason = httpx.post(f"{server.url}/v1/audio/transcriptions", files={"model": (None, "whisper-1")})
    assert reason.status_code == 501
    page = open_page(server.url).page
    mic = page.locator("#mic")
    assert mic.is_disabled()
    assert mic.get_attribute("title") == reason.json()["error"]["message"]
    assert "unavailable" in (mic.get_attribute("aria-label") or "")


def test_recorded_audio_is_converted_to_16_khz_mono_pcm16_wav(ui_server, open_page) -> None:
    page = open_page(ui_server().url).page
    header = page.evaluate(
        """async () => {
            const voice = await import('/static/voice.js');
            // One second of a 440 Hz tone at 48 kHz in stereo, as a browser might record it.
            const context = new OfflineAudioContext(2, 48000, 48000);
            const buffer = context.createBuffer(2, 48000, 48000);
            for (let c = 0; c < 2; c++) {
                const data = buffer.getChannelData(c);
                for (let i = 0; i < data.length; i++) data[i] = 0.5 * Math.sin(2 * Math.PI * 440 * i / 48000);
            }
            const samples = await voice.toMono16k(buffer);
            const wav = voice.encodeWav(samples);
            const view = new DataView(wav.buffer);
            const text = (o, n) => String.fromCharCode(...wav.slice(o, o + n));
            let peak = 0;
            for (let i = 44; i < wav.length; i += 2) peak = Math.max(peak, Math.abs(view.getInt16(i, true)));
            return {riff: text(0, 4), wave: text(8, 4), format: view.getUint16(20, true),
                    channels: view.getUint16(22, true), rate: view.getUint32(24, true),
                    bits: view.getUint16(34, true), dataBytes: view.getUint32(40, true), size: wav.length, peak};
        }"""
    )
    assert (header["riff"], header["wave"], header["format"]) == ("RIFF", "WAVE", 1)
    assert (header["channels"], header["rate"], header["bits"]) == (1, 16000, 16)
    assert header["dataBytes"] == 16000 * 2 and header["size"] == 44 + header["dataBytes"]
    # Both channels mixed down: the 0.5 amplitude tone survives (about 0.5 * 32767).
    assert 12000 < header["peak"] < 20000
