"""The UI's server side over HTTP (no browser): the page, /v1/runs, /v1/drafts, `"confirm"` per run."""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_kit import run_stream, wait_until

pytestmark = pytest.mark.server

EMAIL_SID = "email Sid the budget summary"
EMAIL_SID_PLAN = (
    '1. get_email_address("Sid")\n'
    '2. compose_new_email(["$1"], [], "budget summary", "the budget summary", [])\n'
    "3. join()<END_OF_PLAN>"
)
TEXT_SID = "text Sid that I am running late"
TEXT_SID_PLAN = '1. get_phone_number("Sid")\n2. send_sms(["$1"], "I am running late")\n3. join()<END_OF_PLAN>'


def approve_all(url: str) -> Any:
    """An `on_event` for run_stream that approves every confirmation as it is asked."""

    def on_event(event: dict[str, Any]) -> None:
        if event["kind"] == "confirmation_requested":
            answer = httpx.post(f"{url}/v1/agent/confirm", json={"id": event["id"], "approve": True})
            assert answer.status_code == 200, answer.text

    return on_event


def test_the_page_and_its_modules_are_served_from_the_package_with_a_strict_policy(ui_server) -> None:
    server = ui_server()
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy and "script-src 'self'" in policy
    # The page loads only its own files (the favicon is an empty data: URL, so not even that is fetched).
    assert sorted(re.findall(r'(?:src|href)="([^"#]+)"', page.text)) == ["/static/app.css", "/static/app.js", "data:,"]
    modules = {"app.js", "api.js", "dag.js", "voice.js"}
    for name in modules:
        response = httpx.get(f"{server.url}/static/{name}")
        assert response.status_code == 200 and "javascript" in response.headers["content-type"], name
        imports = set(re.findall(r'^import .* from "([^"]+)";$', response.text, re.MULTILINE))
        assert imports <= {f"./{module}" for module in modules}, name  # no CDN, no bare package names
    css = httpx.get(f"{server.url}/static/app.css")
    assert css.status_code == 200 and "url(" not in css.text and "@import" not in css.text
    assert httpx.get(f"{server.url}/static/missing.js").status_code == 404


def test_with_a_token_the_page_is_public_but_the_data_is_not(ui_server) -> None:
    server = ui_server(api_token="s3cret")
    assert httpx.get(f"{server.url}/").status_code == 200
    assert httpx.get(f"{server.url}/static/app.js").status_code == 200
    for path in ("/v1/runs", "/v1/drafts", "/v1/models"):
        denied = httpx.get(f"{server.url}{path}")
        assert denied.status_code == 401, path
        assert denied.json()["error"]["type"] == "authentication_error"
        allowed = httpx.get(f"{server.url}{path}", headers={"Authorization": "Bearer s3cret"})
        assert allowed.status_code == 200, path
    # Only reads of the page are public: a POST to it still needs the token.
    assert httpx.post(f"{server.url}/", json={}).status_code == 401


def test_runs_lists_the_history_newest_first_and_shows_one_in_full(ui_server, scripted) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    scripted.plans[TEXT_SID] = TEXT_SID_PLAN
    server = ui_server()
    assert httpx.get(f"{server.url}/v1/runs").json() == {"object": "list", "history": True, "data": []}
    run_stream(server.url, {"request": EMAIL_SID})
    run_stream(server.url, {"request": TEXT_SID, "dry_run": True})
    wait_until(lambda: server.runtime.recorded == 2, "both runs to be logged")

    listing = httpx.get(f"{server.url}/v1/runs").json()["data"]
    assert [entry["request"] for entry in listing] == [TEXT_SID, EMAIL_SID]
    assert [entry["dry_run"] for entry in listing] == [True, False]
    assert listing[1]["tools"] == ["get_email_address", "compose_new_email"] and listing[1]["ok"] is True
    assert [e["request"] for e in httpx.get(f"{server.url}/v1/runs?limit=1&offset=1").json()["data"]] == [EMAIL_SID]

    record = httpx.get(f"{server.url}/v1/runs/{listing[1]['id']}").json()
    assert record["plan"].startswith('1. get_email_address("Sid")')
    assert record["actions"][0]["result"] == "sid.shah@example.com"
    assert record["actions"][1]["args"][0] == ["sid.shah@example.com"]

    missing = httpx.get(f"{server.url}/v1/runs/999")
    assert missing.status_code == 404 and "no run 999" in missing.json()["error"]["message"]
    assert httpx.get(f"{server.url}/v1/runs?limit=0").status_code == 422


def test_runs_says_when_the_history_is_off(ui_server) -> None:
    server = ui_server(history=False)
    assert httpx.get(f"{server.url}/v1/runs").json() == {"object": "list", "history": False, "data": []}
    assert httpx.get(f"{server.url}/v1/runs/1").status_code == 404


def test_drafts_lists_the_emails_and_texts_the_agent_made_and_opens_their_text(
    ui_server, scripted, workspace: Path
) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    scripted.plans[TEXT_SID] = TEXT_SID_PLAN
    server = ui_server()
    before = httpx.get(f"{server.url}/v1/drafts").json()
    assert before["sources"] == {"email": None, "sms": None}
    known = {draft["id"] for draft in before["data"]}

    run_stream(server.url, {"request": EMAIL_SID})
    run_stream(server.url, {"request": TEXT_SID})
    listing = httpx.get(f"{server.url}/v1/drafts").json()["data"]
    new = [draft for draft in listing if draft["id"] not in known]
    assert sorted(draft["kind"] for draft in new) == ["email", "sms"]
    email = next(draft for draft in new if draft["kind"] == "email")
    sms = next(draft for draft in new if draft["kind"] == "sms")
    assert (email["subject"], email["to"], email["status"]) == ("budget summary", "sid.shah@example.com", "draft")
    assert (sms["to"], sms["preview"], sms["status"]) == ("+1-415-555-0140", "I am running late", "queued")

    opened = httpx.get(f"{server.url}/v1/drafts/{email['id']}").json()
    # The text is the message on disk: the one file in Drafts that was not there before.
    (stored,) = [
        path for path in (workspace / "mail" / ".Drafts" / "cur").iterdir() if path.name.split(":")[0] in email["id"]
    ]
    on_disk = message_from_bytes(stored.read_bytes())
    assert opened["subject"] == on_disk["Subject"] and opened["kind"] == "email"
    assert opened["text"].strip() == on_disk.get_payload(decode=True).decode().strip()
    assert "budget summary" in opened["text"].lower()

    text = httpx.get(f"{server.url}/v1/drafts/{sms['id']}").json()
    assert text["text"] == "I am running late" and text["status"] == "queued"

    for wrong in ("email-nope", "sms-nope", "other"):
        response = httpx.get(f"{server.url}/v1/drafts/{wrong}")
        assert response.status_code == 404, wrong
        assert response.json()["error"]["type"] == "not_found_error"


def test_drafts_of_apps_without_a_drafts_reader_are_reported_not_guessed(ui_server) -> None:
    listing = httpx.get(f"{ui_server(apps='recorder').url}/v1/drafts").json()
    assert listing["data"] == []
    assert listing["sources"]["email"] and listing["sources"]["sms"]  # a reason for each


def test_a_run_can_ask_for_confirmations_the_server_does_not_require(ui_server, scripted, workspace: Path) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    server = ui_server(confirm="never")
    drafts = workspace / "mail" / ".Drafts" / "cur"
    count = len(list(drafts.iterdir()))

    def reject(event: dict[str, Any]) -> None:
        if event["kind"] == "confirmation_requested":
            httpx.post(f"{server.url}/v1/agent/confirm", json={"id": event["id"], "approve": False})

    events = run_stream(server.url, {"request": EMAIL_SID, "confirm": "side_effects"}, reject)
    asked = [e for e in events if e["kind"] == "confirmation_requested"]
    assert [e["tool"] for e in asked] == ["compose_new_email"]
    assert asked[0]["args"][0] == ["sid.shah@example.com"]
    assert any(e["kind"] == "action_skipped" and e["id"] == 2 for e in events)
    assert len(list(drafts.iterdir())) == count  # nothing was drafted

    # Without the field, the server's setting (never) holds: the draft is made unasked.
    events = run_stream(server.url, {"request": EMAIL_SID})
    assert not [e for e in events if e["kind"] == "confirmation_requested"]
    assert len(list(drafts.iterdir())) == count + 1


def test_a_run_cannot_turn_off_the_servers_confirmations(ui_server, scripted) -> None:
    scripted.plans[EMAIL_SID] = EMAIL_SID_PLAN
    server = ui_server(confirm="side_effects")
    events = run_stream(server.url, {"request": EMAIL_SID, "confirm": "never"}, approve_all(server.url))
    assert [e["tool"] for e in events if e["kind"] == "confirmation_requested"] == ["compose_new_email"]
    assert events[-1]["kind"] == "answer" and events[-1]["ok"] is True
    bad = httpx.post(f"{server.url}/v1/agent/run", json={"request": EMAIL_SID, "confirm": "always"})
    assert bad.status_code == 422 and "confirm" in bad.json()["error"]["message"]
