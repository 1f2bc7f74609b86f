"""The tools on macOS's own apps, through AppleScript (see `applescript`) and Spotlight.

Each class takes a `runner` (default `run_osascript`) so the Python side (validation,
parsing what the scripts print, choosing among matches) is testable anywhere; only
running the scripts needs macOS. Sending SMS through Messages is `MacMessagesSender`,
which plugs into `SmsOutbox` as its sender, so the outbox policy stays in one place.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from pocketagent.backends.addresses import normalize_phone_numbers, parse_email_addresses
from pocketagent.backends.applescript import (
    calendar_event_script,
    contacts_lookup_script,
    mail_compose_script,
    mail_forward_script,
    mail_reply_script,
    messages_send_script,
    notes_append_script,
    notes_create_script,
    notes_open_script,
    reminders_create_script,
    run_osascript,
    spotlight_command,
)
from pocketagent.backends.dates import DateRules, event_end, parse_optional_tool_datetime, parse_tool_datetime
from pocketagent.backends.local.files import MATCH_THRESHOLD, FileIndex, fold, name_tokens, query_words
from pocketagent.backends.opener import DesktopOpener
from pocketagent.errors import ToolError
from pocketagent.subagents.email_writer import EmailWriter
from pocketagent.tools.protocols import CalendarApp, ContactsApp, FilesApp, MailApp, NotesApp, RemindersApp

Runner = Callable[[str], str]
VALID_PRIORITIES = (0, 1, 5, 9)


def _text(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ToolError(f"{what} must be text, got {type(value).__name__}")
    return value.strip()


def _paths(attachments: object) -> list[str]:
    items = [attachments] if isinstance(attachments, str) and attachments else attachments or []
    if not isinstance(items, list):
        raise ToolError("attachments must be a list of file paths")
    found = []
    for item in items:
        path = Path(_text(item, "attachment")).expanduser()
        if not path.is_file():
            raise ToolError(f"attachment not found: {item}; find the file with open_and_get_file_path first")
        found.append(str(path.resolve()))
    return found


class MacContacts(ContactsApp):
    """Contacts.app lookups with accent-insensitive matching and clear ambiguity errors."""

    def __init__(self, runner: Runner = run_osascript) -> None:
        self._run = runner

    def _lookup(self, name: object, field: str, tool: str) -> str:
        query = _text(name, "name")
        words = name_tokens(query)
        if not words:
            raise ToolError("the contact name is empty")
        # Search by the first word (Contacts' "contains" is not accent-insensitive), filter here.
        lines = self._run(contacts_lookup_script(query.split()[0], field)).splitlines()
        people: dict[str, str] = {}
        for line in lines:
            person, _, value = line.partition("\t")
            tokens = name_tokens(person)
            if value and all(any(t.startswith(w) for t in tokens) for w in words):
                people.setdefault(person, value)
        if not people:
            what = "phone number" if field == "phones" else "email address"
            raise ToolError(f"no contact named {query!r} with a {what} in Contacts")
        if len(people) > 1:
            exact = [p for p in people if fold(p) == fold(query)]
            if len(exact) == 1:
                return people[exact[0]]
            raise ToolError(f"several contacts match {query!r}: {', '.join(sorted(people))}; say which one")
        return next(iter(people.values()))

    def get_phone_number(self, name: str) -> str:
        return self._lookup(name, "phones", "get_phone_number")

    def get_email_address(self, name: str) -> str:
        return self._lookup(name, "emails", "get_email_address")


class MacCalendar(CalendarApp):
    """Calendar.app events (dates checked with the same `DateRules` as the local calendar)."""

    def __init__(self, runner: Runner = run_osascript, rules: DateRules | None = None) -> None:
        self._run = runner
        self._rules = rules or DateRules()

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
        name = _text(title, "title")
        if not name:
            raise ToolError("the event needs a title")
        start = parse_tool_datetime(start_date, "start_date")
        end = event_end(start, end_date)
        warning = self._rules.check_not_past(start, "start_date")
        people = [a.addr_spec for a in parse_email_addresses(invitees, "invitee", required=False)]
        script = calendar_event_script(
            name, start, end, _text(location, "location"), people, _text(notes, "notes"), _text(calendar, "calendar")
        )
        self._run(script)
        result = f"Event '{name}' created for {self._rules.format_span(start, end)}"
        result += f" with {', '.join(people)}" if people else ""
        return f"{result} {warning}" if warning else result


class MacMail(MailApp):
    """Mail.app: drafts (saved) by default, sent with `send=True`."""

    def __init__(
        self,
        writer: EmailWriter | None = None,
        send: bool = False,
        runner: Runner = run_osascript,
        request: Callable[[], str] | None = None,
    ) -> None:
        self.writer = writer or EmailWriter()
        self.send = send
        self._run = runner
        self._request = request or (lambda: "")

    def _done(self, what: str, recipients: Sequence[str]) -> str:
        shown = ", ".join(recipients)
        return f"{what} sent via Mail to {shown}" if self.send else f"{what} saved to Mail's Drafts for {shown}"

    def compose_new_email(
        self, recipients: list[str], cc: list[str], subject: str, context: str, attachments: list[str]
    ) -> str:
        to = [a.addr_spec for a in parse_email_addresses(recipients, "recipient")]
        copy = [a.addr_spec for a in parse_email_addresses(cc, "cc", required=False)]
        title = " ".join(_text(subject, "subject").split()) or "(no subject)"
        files = _paths(attachments)
        body = self.writer.write("new", title, _text(context, "context"), request=self._request())
        self._run(mail_compose_script(to, copy, title, body, files, self.send))
        return self._done(f"Email {title!r}", to + copy)

    def reply_to_email(self, cc: list[str], context: str, attachments: list[str]) -> str:
        copy = [a.addr_spec for a in parse_email_addresses(cc, "cc", required=False)]
        files = _paths(attachments)
        body = self.writer.write("reply", "", _text(context, "context"), request=self._request())
        subject = self._run(mail_reply_script(copy, body, files, self.send))
        return self._done(f"Reply to {subject!r}", ["the sender"] + copy)

    def forward_email(self, recipients: list[str], cc: list[str], context: str, attachments: list[str]) -> str:
        to = [a.addr_spec for a in parse_email_addresses(recipients, "recipient")]
        copy = [a.addr_spec for a in parse_email_addresses(cc, "cc", required=False)]
        files = _paths(attachments)
        body = self.writer.write("forward", "", _text(context, "context"), request=self._request())
        subject = self._run(mail_forward_script(to, copy, body, files, self.send))
        return self._done(f"Forward of {subject!r}", to + copy)


class MacMessagesSender:
    """Messages.app as an SMS sender for `SmsOutbox` (used only when sending is on)."""

    name = "Messages"

    def __init__(self, runner: Runner = run_osascript) -> None:
        self._run = runner

    def send(self, numbers: Sequence[str], message: str) -> None:
        self._run(messages_send_script(normalize_phone_numbers(list(numbers)), message))


class MacNotes(NotesApp):
    """Notes.app notes."""

    def __init__(self, runner: Runner = run_osascript) -> None:
        self._run = runner

    def create_note(self, name: str, content: str, folder: str) -> str:
        title = _text(name, "note name")
        if not title:
            raise ToolError("the note needs a name")
        where = _text(folder, "folder") or "Notes"
        self._run(notes_create_script(title, _text(content, "content"), where))
        return f"Note '{title}' created in {where}"

    def open_note(self, name: str, folder: str) -> str:
        title = _text(name, "note name")
        if not title:
            raise ToolError("say which note to open")
        return self._run(notes_open_script(title, _text(folder, "folder")))

    def append_note_content(self, name: str, content: str, folder: str) -> str:
        title = _text(name, "note name")
        text = _text(content, "content")
        if not title or not text:
            raise ToolError("appending needs a note name and some text")
        self._run(notes_append_script(title, text, _text(folder, "folder")))
        return f"Appended to note '{title}'"


class MacReminders(RemindersApp):
    """Reminders.app reminders."""

    def __init__(self, runner: Runner = run_osascript, rules: DateRules | None = None) -> None:
        self._run = runner
        self._rules = rules or DateRules()

    def create_reminder(
        self, name: str, due_date: str, notes: str, list_name: str, priority: int, all_day: bool
    ) -> str:
        title = _text(name, "reminder")
        if not title:
            raise ToolError("the reminder needs a name")
        if isinstance(priority, bool) or not isinstance(priority, int) or priority not in VALID_PRIORITIES:
            raise ToolError(f"priority must be 0 (none), 1 (high), 5 (medium) or 9 (low), got {priority!r}")
        due = parse_optional_tool_datetime(due_date, "due_date")
        warning = self._rules.check_not_past(due, "due_date", bool(all_day)) if due else None
        script = reminders_create_script(
            title, due, _text(notes, "notes"), _text(list_name, "list name"), priority, bool(all_day)
        )
        self._run(script)
        result = f"Reminder '{title}' created" + (f" for {self._rules.format_when(due, bool(all_day))}" if due else "")
        return f"{result} {warning}" if warning else result


class SpotlightFiles(FilesApp):
    """Files found with Spotlight (`mdfind -name`) and ranked like the local index does."""

    def __init__(
        self,
        roots: Sequence[Path] = (),
        opener: DesktopOpener | None = None,
        timeout_s: float = 20.0,
    ) -> None:
        self.roots = [str(Path(r).expanduser()) for r in roots]
        self._opener = opener if opener is not None else DesktopOpener()
        self.timeout_s = timeout_s

    def _mdfind(self, word: str) -> list[Path]:
        try:
            result = subprocess.run(
                spotlight_command(word, self.roots), capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ToolError(f"Spotlight search failed: {exc}") from None
        return [Path(line) for line in result.stdout.splitlines() if line.strip()]

    def open_and_get_file_path(self, file_name: str) -> str:
        query = _text(file_name, "file name")
        words = query_words(query) or name_tokens(query)
        if not words:
            raise ToolError("the file name is empty; say which file to open")
        found = [p for p in self._mdfind(max(words, key=len)) if p.is_file()]
        matches = [m for m in FileIndex.from_paths(found).search(query) if m.score >= MATCH_THRESHOLD]
        if not matches:
            raise ToolError(f"Spotlight found no file matching {query!r}")
        self._opener.open(str(matches[0].path))
        return str(matches[0].path)
