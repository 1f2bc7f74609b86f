"""App backends behind the built-in tools, and a registry to pick them by name.

The built-in tools call `ctx.apps.<app>.<tool_name>(...)` where `<app>` is one of
`APP_NAMES`. A provider is registered under a name with `register_app_provider` and
builds the app objects from settings (and the LLM backend, for sub-agents such as the
email writer). Two ship with pocketagent:

- `workspace` (the default): the user's data, one backend per app chosen in the settings.
  The backends sit above the tools, so the agent's assembly (`agent/build.py`) registers it,
  and its module is imported only when it is used.
- `recorder` (here): records every call and returns plausible placeholder results,
  touching no data. Tests use it.

Each app is typed by its protocol (`pocketagent.tools.protocols`); `Apps` takes an app built
or as a `LazyApp`, built on its first use.

`current_request()` is the user's request of the run in progress (a context variable, so
concurrent runs do not mix); tools running in worker threads see it because the executor
runs them in a copy of the caller's context.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from pocketagent.errors import AppNotConfiguredError, ConfigError
from pocketagent.tools.protocols import (
    CalendarApp,
    ContactsApp,
    FilesApp,
    MailApp,
    MapsApp,
    MeetingsApp,
    NotesApp,
    PdfApp,
    RemindersApp,
    SmsApp,
)

if TYPE_CHECKING:
    from pocketagent.llm.base import LLMBackend
    from pocketagent.settings import Settings

APP_NAMES = ("contacts", "calendar", "files", "pdf", "mail", "maps", "notes", "reminders", "sms", "meetings")

AppT = TypeVar("AppT")


class LazyApp(Generic[AppT]):
    """An app that is built on first use (once, also under concurrent tool calls).

    A run that only looks up a phone number then never opens the Maildir, and a backend's
    configuration error becomes the failure of the action that needed it.
    """

    def __init__(self, app: str, backend: str, build: Callable[[], AppT]) -> None:
        self.app_name = app
        self.backend_name = backend
        self._build = build
        self._instance: AppT | None = None
        self._lock = threading.Lock()

    def resolve(self) -> AppT:
        """The app itself, built now if needed. A failed build is retried on the next call."""
        with self._lock:
            if self._instance is None:
                self._instance = self._build()
            return self._instance

    @property
    def is_built(self) -> bool:
        return self._instance is not None

    def __repr__(self) -> str:
        state = "built" if self.is_built else "not built yet"
        return f"<{self.app_name} app: {self.backend_name} backend, {state}>"


class _AppSlot(Generic[AppT]):
    """An attribute of `Apps`: reading it gives the app itself (a `LazyApp` is built then)."""

    def __set_name__(self, owner: type[Apps], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, apps: None, owner: type[Apps]) -> _AppSlot[AppT]: ...

    @overload
    def __get__(self, apps: Apps, owner: type[Apps]) -> AppT: ...

    def __get__(self, apps: Apps | None, owner: type[Apps]) -> _AppSlot[AppT] | AppT:
        if apps is None:
            return self
        # `Apps.__init__` and `__set__` only store this slot's own app type under its name.
        given = cast("AppT | LazyApp[AppT] | None", apps._given.get(self.name))
        if given is None:
            raise AppNotConfiguredError(f"no {self.name} app is configured (the apps provider gave none)")
        return given.resolve() if isinstance(given, LazyApp) else given

    def __set__(self, apps: Apps, app: AppT | LazyApp[AppT] | None) -> None:
        apps._given[self.name] = app


class Apps:
    """The app objects the built-in tools talk to, one per app name (each typed by its protocol).

    An app may be given built or as a `LazyApp`; reading the attribute (`apps.mail`) gives the
    app itself. An app that was not given raises `AppNotConfiguredError` when a tool needs it.
    """

    contacts = _AppSlot[ContactsApp]()
    calendar = _AppSlot[CalendarApp]()
    files = _AppSlot[FilesApp]()
    pdf = _AppSlot[PdfApp]()
    mail = _AppSlot[MailApp]()
    maps = _AppSlot[MapsApp]()
    notes = _AppSlot[NotesApp]()
    reminders = _AppSlot[RemindersApp]()
    sms = _AppSlot[SmsApp]()
    meetings = _AppSlot[MeetingsApp]()

    def __init__(
        self,
        *,
        contacts: ContactsApp | LazyApp[ContactsApp] | None = None,
        calendar: CalendarApp | LazyApp[CalendarApp] | None = None,
        files: FilesApp | LazyApp[FilesApp] | None = None,
        pdf: PdfApp | LazyApp[PdfApp] | None = None,
        mail: MailApp | LazyApp[MailApp] | None = None,
        maps: MapsApp | LazyApp[MapsApp] | None = None,
        notes: NotesApp | LazyApp[NotesApp] | None = None,
        reminders: RemindersApp | LazyApp[RemindersApp] | None = None,
        sms: SmsApp | LazyApp[SmsApp] | None = None,
        meetings: MeetingsApp | LazyApp[MeetingsApp] | None = None,
    ) -> None:
        self._given: dict[str, object] = {
            "contacts": contacts, "calendar": calendar, "files": files, "pdf": pdf, "mail": mail,
            "maps": maps, "notes": notes, "reminders": reminders, "sms": sms, "meetings": meetings,
        }  # fmt: skip

    def has(self, name: str) -> bool:
        """Whether an app (built or lazy) was given for `name`."""
        return self._given.get(name) is not None

    def given(self, name: str) -> object:
        """The app `name` as it was given: the app, its `LazyApp` (which this does not build), or None."""
        return self._given.get(name)

    def is_built(self, name: str) -> bool:
        """Whether the app `name` exists already (given built, or a `LazyApp` that was used)."""
        given = self._given.get(name)
        return given.is_built if isinstance(given, LazyApp) else given is not None

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={given!r}" for name, given in self._given.items() if given is not None)
        return f"Apps({shown})"


@dataclass(frozen=True)
class RecordedCall:
    app: str
    method: str
    args: tuple[Any, ...]


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum()) or "someone"


class RecordingApp(
    ContactsApp, CalendarApp, FilesApp, PdfApp, MailApp, MapsApp, NotesApp, RemindersApp, SmsApp, MeetingsApp
):
    """One app of the `recorder` provider: records calls, changes nothing.

    Every tool method answers a plausible placeholder, so that chains (`$N`) have something
    realistic to carry.
    """

    def __init__(self, app: str, log: list[RecordedCall], lock: threading.Lock) -> None:
        self._app, self._log, self._lock = app, log, lock

    def _record(self, method: str, *args: Any) -> None:
        with self._lock:
            self._log.append(RecordedCall(self._app, method, args))

    def get_phone_number(self, name: str) -> str:
        self._record("get_phone_number", name)
        return f"+1-555-01{sum(map(ord, name)) % 100:02d}"

    def get_email_address(self, name: str) -> str:
        self._record("get_email_address", name)
        return f"{_slug(name)}@example.com"

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
        self._record("create_calendar_event", title, start_date, end_date, location, invitees, notes, calendar)
        return f"Event '{title}' recorded for {start_date}."

    def open_and_get_file_path(self, file_name: str) -> str:
        self._record("open_and_get_file_path", file_name)
        return f"/recorded/files/{file_name.strip().replace(' ', '_')}.pdf"

    def summarize_pdf(self, pdf_path: str) -> str:
        self._record("summarize_pdf", pdf_path)
        return f"(recorded) summary of {pdf_path}"

    def compose_new_email(
        self, recipients: list[str], cc: list[str], subject: str, context: str, attachments: list[str]
    ) -> str:
        self._record("compose_new_email", recipients, cc, subject, context, attachments)
        return f"Email '{subject}' recorded to {', '.join(recipients)}."

    def reply_to_email(self, cc: list[str], context: str, attachments: list[str]) -> str:
        self._record("reply_to_email", cc, context, attachments)
        return "Reply recorded."

    def forward_email(self, recipients: list[str], cc: list[str], context: str, attachments: list[str]) -> str:
        self._record("forward_email", recipients, cc, context, attachments)
        return f"Forward recorded to {', '.join(recipients)}."

    def maps_open_location(self, location: str) -> str:
        self._record("maps_open_location", location)
        return f"https://www.openstreetmap.org/search?query={location.replace(' ', '+')}"

    def maps_show_directions(self, start_location: str, end_location: str, transport: str) -> str:
        self._record("maps_show_directions", start_location, end_location, transport)
        return f"Directions recorded from {start_location or 'here'} to {end_location} ({transport})."

    def create_note(self, name: str, content: str, folder: str) -> str:
        self._record("create_note", name, content, folder)
        return f"Note '{name}' recorded in {folder or 'Notes'}."

    def open_note(self, name: str, folder: str) -> str:
        self._record("open_note", name, folder)
        return f"(recorded) content of note '{name}'"

    def append_note_content(self, name: str, content: str, folder: str) -> str:
        self._record("append_note_content", name, content, folder)
        return f"Appended to note '{name}' (recorded)."

    def create_reminder(
        self, name: str, due_date: str, notes: str, list_name: str, priority: int, all_day: bool
    ) -> str:
        self._record("create_reminder", name, due_date, notes, list_name, priority, all_day)
        return f"Reminder '{name}' recorded."

    def send_sms(self, recipients: list[str], message: str) -> str:
        self._record("send_sms", recipients, message)
        return f"SMS recorded to {', '.join(recipients)}."

    def get_zoom_meeting_link(self, topic: str, start_time: str, duration: int, meeting_invitees: list[str]) -> str:
        self._record("get_zoom_meeting_link", topic, start_time, duration, meeting_invitees)
        return f"https://meet.jit.si/recorded-{_slug(topic)}"


class RecordedApps(Apps):
    """The `recorder` provider's apps; `calls` is every call made to any of them, in order."""

    def __init__(self, log: list[RecordedCall]) -> None:
        lock = threading.Lock()
        super().__init__(**{name: RecordingApp(name, log, lock) for name in APP_NAMES})
        self.calls = log


def recording_apps(log: list[RecordedCall] | None = None) -> RecordedApps:
    """Apps that record every call into `log` (shared by all apps) and touch no data."""
    return RecordedApps([] if log is None else log)


# -- the request of the run in progress ------------------------------------------------

_CURRENT_REQUEST: contextvars.ContextVar[str] = contextvars.ContextVar("pocketagent_request", default="")


def current_request() -> str:
    """The user's request being run ("" when running a given plan)."""
    return _CURRENT_REQUEST.get()


def set_current_request(request: str) -> contextvars.Token[str]:
    """Make `request` the current request in this context (and the tasks and tool threads started from it)."""
    return _CURRENT_REQUEST.set(request)


@contextmanager
def request_scope(request: str) -> Iterator[None]:
    """`current_request()` is `request` inside the block."""
    token = _CURRENT_REQUEST.set(request)
    try:
        yield
    finally:
        _CURRENT_REQUEST.reset(token)


# -- providers ---------------------------------------------------------------------------

# A provider builds the apps from (settings, llm); llm is the LLM backend for sub-agents, or None.
AppProvider = Callable[["Settings", "LLMBackend | None"], Apps]
_PROVIDERS: dict[str, AppProvider] = {}


def register_app_provider(name: str, provider: AppProvider) -> None:
    """Make a data backend selectable by name (`apps = "<name>"` in the config).

    `provider(settings, llm)` returns an `Apps`; `llm` is the LLM backend for sub-agents, or None.
    """
    _PROVIDERS[name] = provider


def app_provider_names() -> list[str]:
    """The names `build_apps` accepts, sorted."""
    return sorted(_PROVIDERS)


def build_apps(name: str, settings: Settings, llm: LLMBackend | None = None) -> Apps:
    """Build the apps of the named provider from settings (and the LLM backend for sub-agents)."""
    try:
        provider = _PROVIDERS[name]
    except KeyError:
        raise ConfigError(f"unknown apps provider {name!r}; available: {', '.join(app_provider_names())}") from None
    return provider(settings, llm)


register_app_provider("recorder", lambda settings, llm: recording_apps())
