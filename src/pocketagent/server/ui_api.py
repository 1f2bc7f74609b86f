"""The web UI of `pocketagent serve`: the page itself, its static files, and the read-only data it shows.

- `GET /` is the page (`static/index.html`), `/static/...` its ES modules and CSS: shipped in the
  package, no build step, no CDN. These are public (no token): they hold no data, and the page
  asks for the token once an API call answers 401.
- `GET /v1/runs` and `GET /v1/runs/{id}`: the run history (`RunLog`), newest first.
- `GET /v1/drafts` and `GET /v1/drafts/{id}`: what the agent drafted and did not send, read through
  the agent's own apps: the mail backend's Drafts (`draft_summaries()` / `draft()`, which the local
  Maildir backend has) and the SMS outbox (`records("outbox")`). A backend without them (macOS
  Mail, `apps = "recorder"`) lists nothing and says so in `sources`.

Every data route is a plain `def`: FastAPI runs it in a worker thread, so SQLite and file reads
never block the event loop the event streams run on.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from pocketagent.agent.history import RunRecord
from pocketagent.backends.local.maildir import _header_text, plain_text
from pocketagent.errors import PocketAgentError, UnknownDraftError, UnknownRunError
from pocketagent.server.runtime import ServerRuntime
from pocketagent.tools.apps import Apps

router = APIRouter()
STATIC_DIR = Path(str(resources.files("pocketagent.server") / "static"))
_PREVIEW_CHARS = 160
# The page loads only its own files and talks only to its own server: the CSP makes that a rule.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
}


def is_public_path(method: str, path: str) -> bool:
    """True for what anyone may fetch without the token: the page and its static files (no data)."""
    return method in ("GET", "HEAD") and (path == "/" or path.startswith("/static/"))


def install_ui(app: FastAPI) -> None:
    """Add the page, its static files and the UI's data routes to `app`."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The web UI."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


# -- run history --------------------------------------------------------------------------


def _run_entry(record: RunRecord) -> dict[str, Any]:
    """A run as listed: what was asked and how it ended, without the actions' full results."""
    return {
        "id": record.id,
        "started_at": record.started_at,
        "request": record.request,
        "source": record.source,
        "ok": record.ok,
        "answer": record.answer,
        "error": record.error,
        "dry_run": record.dry_run,
        "actions": len(record.actions),
        "tools": [action.get("tool", "") for action in record.actions],
        "total_s": record.timings.get("total_s"),
    }


@router.get("/v1/runs", tags=["ui"])
def list_runs(
    request: Request,
    limit: int = Query(20, ge=1, le=200, description="how many runs, newest first"),
    offset: int = Query(0, ge=0, description="skip this many of the newest"),
) -> dict[str, Any]:
    """Recent runs from the run history, newest first (`history: false` when the history is off)."""
    runtime: ServerRuntime = request.app.state.runtime
    if runtime.history is None:
        return {"object": "list", "history": False, "data": []}
    records = runtime.history.recent(limit, offset)
    return {"object": "list", "history": True, "data": [_run_entry(record) for record in records]}


@router.get("/v1/runs/{run_id}", tags=["ui"])
def get_run(run_id: int, request: Request) -> dict[str, Any]:
    """One logged run in full: plan, each action's arguments, status, result or error, the answer, timings."""
    runtime: ServerRuntime = request.app.state.runtime
    record = runtime.history.get(run_id) if runtime.history is not None else None
    if record is None:
        raise UnknownRunError(f"no run {run_id} in the run history")
    return record.to_dict()


# -- drafts -------------------------------------------------------------------------------

EMAIL_PREFIX, SMS_PREFIX = "email-", "sms-"


def _apps(request: Request) -> Apps:
    runtime: ServerRuntime = request.app.state.runtime
    return runtime.agent.context.apps


def _reader(apps: Apps, app: str, method: str) -> tuple[Any, str | None]:
    """`method` of the app's backend if it has one, else None and why (shown in `sources`)."""
    if not apps.has(app):
        return None, "no such app"
    try:
        found = getattr(getattr(apps, app), method, None)  # builds a lazy app: its configuration error is the reason
    except PocketAgentError as exc:
        return None, str(exc)
    return (found, None) if callable(found) else (None, "its backend keeps no drafts the server can read")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW_CHARS else flat[: _PREVIEW_CHARS - 1] + "…"


def _sms_entry(record: Any, text: bool = False) -> dict[str, Any]:
    entry = {
        "id": SMS_PREFIX + record.id,
        "kind": "sms",
        "date": record.created,
        "to": ", ".join(record.to),
        "subject": "",
        "preview": _preview(record.message),
        "status": record.status,
    }
    if text:
        entry["text"] = record.message
    return entry


def _attachment_names(message: EmailMessage) -> list[str]:
    return [part.get_filename() or "(unnamed)" for part in message.iter_attachments()]


@router.get("/v1/drafts", tags=["ui"])
def list_drafts(
    request: Request, limit: int = Query(50, ge=1, le=500, description="how many, newest first")
) -> dict[str, Any]:
    """The workspace's unsent drafts, newest first: emails in Drafts and texts in the SMS outbox.

    `sources` says for each kind whether it could be read (`null`) or why not.
    """
    apps = _apps(request)
    entries: list[dict[str, Any]] = []
    emails, email_problem = _reader(apps, "mail", "draft_summaries")
    if emails is not None:
        try:
            for summary in emails(limit):
                entries.append({
                    "id": EMAIL_PREFIX + summary.key, "kind": "email", "date": _iso(summary.date),
                    "to": summary.recipients, "subject": summary.subject, "preview": "", "status": "draft",
                })  # fmt: skip
        except PocketAgentError as exc:
            email_problem = str(exc)
    texts, sms_problem = _reader(apps, "sms", "records")
    if texts is not None:
        try:
            entries.extend(_sms_entry(record) for record in texts("outbox"))
        except PocketAgentError as exc:
            sms_problem = str(exc)
    # ISO dates sort as text; an email's has an offset, a text's is local time: close enough for a listing.
    entries.sort(key=lambda entry: entry["date"] or "", reverse=True)
    return {"object": "list", "data": entries[:limit], "sources": {"email": email_problem, "sms": sms_problem}}


@router.get("/v1/drafts/{draft_id}", tags=["ui"])
def get_draft(draft_id: str, request: Request) -> dict[str, Any]:
    """One draft with its full text (`email-<Maildir key>` or `sms-<outbox id>`, as `GET /v1/drafts` names them)."""
    apps = _apps(request)
    missing = UnknownDraftError(f"no draft {draft_id!r} in Drafts or the SMS outbox")
    if draft_id.startswith(EMAIL_PREFIX):
        read, _ = _reader(apps, "mail", "draft")
        if read is None:
            raise missing
        key = draft_id.removeprefix(EMAIL_PREFIX)
        try:
            message = read(key)
        except PocketAgentError:
            raise missing from None
        headers = {name.lower(): _header_text(message, name) for name in ("Date", "From", "To", "Cc", "Subject")}
        return {
            "id": draft_id, "kind": "email", **headers, "text": plain_text(message),
            "attachments": _attachment_names(message), "status": "draft",
        }  # fmt: skip
    if draft_id.startswith(SMS_PREFIX):
        records, _ = _reader(apps, "sms", "records")
        wanted = draft_id.removeprefix(SMS_PREFIX)
        for record in records("outbox") if records is not None else []:
            if record.id == wanted:
                return _sms_entry(record, text=True)
    raise missing
