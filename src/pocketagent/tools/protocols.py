"""What each app must do for the built-in tools: one `Protocol` per app, the tool contract's
single typed statement of the backend methods.

A built-in tool (`tools/builtin.py`) calls `ctx.apps.<app>.<tool name>(...)` with its own
positional arguments, so each method here has the tool's name, parameters (names, order,
types) and result: a short sentence or value for the user and for later `$N` references.
A backend (local files, CalDAV, macOS, the recorder, a plugin's) subclasses its app's
protocol, and the type checker then checks its signatures against these; a unit test checks
that every built-in tool's parameters are the protocol method's, so the two cannot drift.

Backends raise `pocketagent.errors.ToolError` (or a subclass) for failures the user should
read (an unknown contact, a missing file); the executor turns them into observations.
"""

from __future__ import annotations

from typing import Protocol


class ContactsApp(Protocol):
    """The address book: `get_phone_number`, `get_email_address`."""

    def get_phone_number(self, name: str) -> str:
        """The phone number of the contact best matching `name` (exact, nickname, then fuzzy)."""
        ...

    def get_email_address(self, name: str) -> str:
        """The email address of the contact best matching `name`."""
        ...


class CalendarApp(Protocol):
    """Calendars: `create_calendar_event`."""

    def create_calendar_event(
        self,
        title: str,
        start_date: str,
        end_date: str,
        location: str,
        invitees: list[str],
        notes: str,
        calendar: str | None,
    ) -> str:
        """Create an event ("YYYY-MM-DD HH:MM:SS" times, `end_date` "" = one hour) in `calendar`
        (None = the default calendar); returns a sentence saying what was created."""
        ...


class RemindersApp(Protocol):
    """Reminder lists: `create_reminder`."""

    def create_reminder(
        self, name: str, due_date: str, notes: str, list_name: str, priority: int, all_day: bool
    ) -> str:
        """Create a reminder (`due_date` "" = no time, `list_name` "" = the default list, priority
        0 none / 1 high / 5 medium / 9 low); returns a sentence saying what was created."""
        ...


class FilesApp(Protocol):
    """The user's files: `open_and_get_file_path`."""

    def open_and_get_file_path(self, file_name: str) -> str:
        """The path of the file best matching `file_name` (opened on the desktop where possible)."""
        ...


class PdfApp(Protocol):
    """PDF reading: `summarize_pdf`."""

    def summarize_pdf(self, pdf_path: str) -> str:
        """A short summary of the PDF at `pdf_path`."""
        ...


class MailApp(Protocol):
    """Email: `compose_new_email`, `reply_to_email`, `forward_email` (drafts, or sent with `send`)."""

    def compose_new_email(
        self, recipients: list[str], cc: list[str], subject: str, context: str, attachments: list[str]
    ) -> str:
        """Draft (or send) a new email whose text is written from `context`; returns what was done."""
        ...

    def reply_to_email(self, cc: list[str], context: str, attachments: list[str]) -> str:
        """Draft (or send) a reply to the selected email; returns what was done."""
        ...

    def forward_email(self, recipients: list[str], cc: list[str], context: str, attachments: list[str]) -> str:
        """Forward the selected email with a note from `context`; returns what was done."""
        ...


class MapsApp(Protocol):
    """Maps: `maps_open_location`, `maps_show_directions`."""

    def maps_open_location(self, location: str) -> str:
        """The map link of `location` (opened where a display exists)."""
        ...

    def maps_show_directions(self, start_location: str, end_location: str, transport: str) -> str:
        """The directions link (`start_location` "" = here; transport "d", "w" or "r")."""
        ...


class NotesApp(Protocol):
    """Notes: `create_note`, `open_note`, `append_note_content`."""

    def create_note(self, name: str, content: str, folder: str) -> str:
        """Create a new note in `folder` ("" = the default folder); returns what was created."""
        ...

    def open_note(self, name: str, folder: str) -> str:
        """The text of the note best matching `name` (`folder` "" = any folder)."""
        ...

    def append_note_content(self, name: str, content: str, folder: str) -> str:
        """Append `content` to an existing note (`folder` "" = any folder); returns what was done."""
        ...


class SmsApp(Protocol):
    """Text messages: `send_sms`."""

    def send_sms(self, recipients: list[str], message: str) -> str:
        """Send (or queue in the outbox) one message to the phone numbers; returns what was done."""
        ...


class MeetingsApp(Protocol):
    """Video meetings: `get_zoom_meeting_link`."""

    def get_zoom_meeting_link(self, topic: str, start_time: str, duration: int, meeting_invitees: list[str]) -> str:
        """Create a meeting (`duration` in minutes) and return its join link."""
        ...


# Which protocol each app of `Apps` answers to, by app name (the order of `APP_NAMES`).
APP_PROTOCOLS: dict[str, type] = {
    "contacts": ContactsApp,
    "calendar": CalendarApp,
    "files": FilesApp,
    "pdf": PdfApp,
    "mail": MailApp,
    "maps": MapsApp,
    "notes": NotesApp,
    "reminders": RemindersApp,
    "sms": SmsApp,
    "meetings": MeetingsApp,
}
