"""Video meetings for `get_zoom_meeting_link`: a Jitsi Meet link (default) or a real Zoom meeting.

- `JitsiMeetings` needs no account and no network: a Jitsi room exists as soon as someone
  opens its URL, so the link is a readable slug of the topic plus a random suffix that
  makes the room hard to guess.
- `ZoomMeetings` calls Zoom's REST API "Create a meeting" (``POST /users/me/meetings``,
  ``Authorization: Bearer <OAuth access token>``) and returns the meeting's ``join_url``.
  The token is either given as is, or obtained with Server-to-Server OAuth
  (``POST https://zoom.us/oauth/token?grant_type=account_credentials&account_id=...`` with
  HTTP Basic client_id:client_secret) and refreshed before it expires.

Both validate the same inputs: a `YYYY-MM-DD HH:MM:SS` start time that is not in the past
("" = now), a positive duration in minutes, and invitees that are email addresses.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pocketagent.backends.addresses import parse_email_addresses
from pocketagent.backends.dates import parse_optional_tool_datetime
from pocketagent.errors import ConfigError, ToolError
from pocketagent.text import fold_accents
from pocketagent.tools.protocols import MeetingsApp

MAX_DURATION_MIN = 24 * 60
PAST_GRACE = timedelta(minutes=5)  # "now"-ish times written a moment ago are not "in the past"
ZOOM_TOPIC_MAX = 200  # the API rejects longer topics
ZOOM_SCHEDULED_MEETING = 2
ZOOM_INSTANT_MEETING = 1
TOKEN_REFRESH_MARGIN_S = 60.0


def parse_start_time(value: object, now: datetime) -> datetime | None:
    """A naive local datetime from "YYYY-MM-DD HH:MM:SS" ("" → None, an instant meeting)."""
    start = parse_optional_tool_datetime(value, "start_time")
    if start is not None and start < now - PAST_GRACE:
        raise ToolError(f"start_time {start:%Y-%m-%d %H:%M:%S} is in the past (now is {now:%Y-%m-%d %H:%M})")
    return start


def parse_duration(value: object) -> int:
    """Minutes as a positive int (a numeric string is accepted; "" means 60)."""
    if value is None or value == "":
        return 60
    if isinstance(value, bool):
        raise ToolError(f"duration must be a number of minutes, got {value!r}")
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ToolError(f"duration must be a number of minutes, got {value!r}")
    if not 1 <= value <= MAX_DURATION_MIN:
        raise ToolError(f"duration must be between 1 and {MAX_DURATION_MIN} minutes, got {value}")
    return value


def topic_slug(topic: str, max_length: int = 40) -> str:
    """ASCII, lowercase, hyphen-separated words of a topic ("Café sync!" → "cafe-sync")."""
    words = re.findall(r"[a-z0-9]+", fold_accents(topic))  # letters without an ASCII form drop out
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "meeting"


class _MeetingInputs:
    """Validated arguments of get_zoom_meeting_link."""

    def __init__(self, topic: object, start_time: object, duration: object, invitees: object, now: datetime) -> None:
        if topic is None:
            topic = ""
        if not isinstance(topic, str):
            raise ToolError(f"topic must be text, got {type(topic).__name__}")
        self.topic = " ".join(topic.split()) or "Meeting"
        self.start = parse_start_time(start_time, now)
        self.duration = parse_duration(duration)
        self.invitees = [a.addr_spec for a in parse_email_addresses(invitees, "invitee", required=False)]


class JitsiMeetings(MeetingsApp):
    """Jitsi Meet links: offline, no account. `base_url` may point at a self-hosted Jitsi."""

    def __init__(
        self,
        base_url: str = "https://meet.jit.si",
        clock: Callable[[], datetime] | None = None,
        suffix_length: int = 10,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._clock = clock or datetime.now
        self._suffix_length = suffix_length

    def get_zoom_meeting_link(self, topic: str, start_time: str, duration: int, meeting_invitees: list[str]) -> str:
        """A new meeting room URL, e.g. https://meet.jit.si/budget-review-k3x9q2m7ab."""
        inputs = _MeetingInputs(topic, start_time, duration, meeting_invitees, self._clock())
        alphabet = string.ascii_lowercase + string.digits
        suffix = "".join(secrets.choice(alphabet) for _ in range(self._suffix_length))
        return f"{self.base_url}/{topic_slug(inputs.topic)}-{suffix}"


class ZoomMeetings(MeetingsApp):
    """Real Zoom meetings through the REST API (v2)."""

    def __init__(
        self,
        *,
        access_token: str | None = None,
        account_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        api_base_url: str = "https://api.zoom.us/v2",
        oauth_token_url: str = "https://zoom.us/oauth/token",
        user_id: str = "me",
        timezone_name: str | None = None,
        timeout_s: float = 20.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        has_s2s = bool(account_id and client_id and client_secret)
        if not access_token and not has_s2s:
            raise ConfigError(
                "the Zoom provider needs an OAuth access token, or account_id, client_id and client_secret "
                "of a Server-to-Server OAuth app"
            )
        self.api_base_url = api_base_url.rstrip("/")
        self.oauth_token_url = oauth_token_url
        self.user_id = user_id
        self.timezone_name = timezone_name
        self._static_token = access_token
        self._credentials = (account_id, client_id, client_secret) if has_s2s else None
        self._timeout = timeout_s
        self._clock = clock or datetime.now
        self._token: str | None = access_token
        self._token_expires_at = float("inf") if access_token else 0.0
        self._token_lock = threading.Lock()

    # -- OAuth ---------------------------------------------------------------------------

    def _fetch_token(self, credentials: tuple[str | None, str | None, str | None]) -> str:
        account_id, client_id, client_secret = credentials
        try:
            response = httpx.post(
                self.oauth_token_url,
                params={"grant_type": "account_credentials", "account_id": account_id},
                auth=(client_id or "", client_secret or ""),
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise ToolError(f"cannot reach Zoom's OAuth server at {self.oauth_token_url}: {exc}") from None
        payload = _json_or_empty(response)
        if response.status_code != 200 or not isinstance(payload.get("access_token"), str):
            reason = payload.get("reason") or payload.get("error") or response.text[:200]
            raise ToolError(f"Zoom OAuth refused the app credentials (HTTP {response.status_code}: {reason})")
        expires_in = payload.get("expires_in", 3600)
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 3600.0
        self._token = payload["access_token"]
        self._token_expires_at = time.monotonic() + lifetime - TOKEN_REFRESH_MARGIN_S
        return self._token

    def _access_token(self, force_refresh: bool = False) -> str:
        with self._token_lock:
            if self._credentials is None:
                return self._static_token or ""
            if force_refresh or self._token is None or time.monotonic() >= self._token_expires_at:
                return self._fetch_token(self._credentials)
            return self._token

    # -- meetings ------------------------------------------------------------------------

    def meeting_request_body(self, inputs: _MeetingInputs) -> dict[str, Any]:
        """The JSON body of "Create a meeting" for validated inputs."""
        body: dict[str, Any] = {"topic": inputs.topic[:ZOOM_TOPIC_MAX], "duration": inputs.duration}
        if inputs.start is None:
            body["type"] = ZOOM_INSTANT_MEETING
        else:
            body["type"] = ZOOM_SCHEDULED_MEETING
            if self.timezone_name:
                body["start_time"] = inputs.start.strftime("%Y-%m-%dT%H:%M:%S")
                body["timezone"] = self.timezone_name
            else:
                # Without a named zone, send UTC ("Z"), which Zoom takes as GMT.
                utc = inputs.start.astimezone().astimezone(UTC)
                body["start_time"] = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        settings: dict[str, Any] = {"join_before_host": False, "waiting_room": True}
        if inputs.invitees:
            settings["meeting_invitees"] = [{"email": email} for email in inputs.invitees]
        body["settings"] = settings
        return body

    def get_zoom_meeting_link(self, topic: str, start_time: str, duration: int, meeting_invitees: list[str]) -> str:
        """Create the meeting on Zoom and return its join URL."""
        inputs = _MeetingInputs(topic, start_time, duration, meeting_invitees, self._clock())
        body = self.meeting_request_body(inputs)
        url = f"{self.api_base_url}/users/{self.user_id}/meetings"
        response = self._post(url, body, self._access_token())
        if response.status_code == 401 and self._credentials is not None:
            response = self._post(url, body, self._access_token(force_refresh=True))  # token revoked early
        payload = _json_or_empty(response)
        if response.status_code == 401:
            raise ToolError(
                f"Zoom rejected the access token ({_zoom_message(payload, response)}); "
                "configure a valid OAuth token or app credentials"
            )
        if response.status_code not in (200, 201):
            raise ToolError(
                f"Zoom could not create the meeting (HTTP {response.status_code}: {_zoom_message(payload, response)})"
            )
        join_url = payload.get("join_url")
        if not isinstance(join_url, str) or not join_url.startswith("http"):
            raise ToolError("Zoom created the meeting but its answer has no join_url")
        return join_url

    def _post(self, url: str, body: dict[str, Any], token: str) -> httpx.Response:
        try:
            return httpx.post(
                url,
                json=body,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise ToolError(f"cannot reach the Zoom API at {self.api_base_url}: {exc}") from None


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _zoom_message(payload: dict[str, Any], response: httpx.Response) -> str:
    # Zoom errors look like {"code": 124, "message": "Invalid access token."}.
    message = payload.get("message") or response.text[:200] or response.reason_phrase
    code = payload.get("code")
    return f"code {code}: {message}" if code is not None else str(message)
