"""The `workspace` app provider: the 16 tools on the user's own data, one backend per app.

`agent/build.py` registers `build_workspace_apps` under that name (the tools, a layer below, never import backends).

Each app (contacts, calendar, ...) has a table of backends by name (`APP_BACKENDS`); the
setting named in `BACKEND_SETTINGS` picks one (`contacts_backend = "carddav"`). Plugins
can add a backend with `register_app_backend`. The local backends keep everything under
`$POCKETAGENT_HOME` (`WorkspaceLayout`):

    contacts/*.vcf          vCard files (every file is read)
    calendars/<name>.ics    one calendar or reminder list per file
    notes/<folder>/*.md     Markdown notes
    mail/                   Maildir (inbox, .Drafts, .Sent)
    files/                  searched by name (plus `file_roots`)
    sms/outbox/, sms/sent/  text messages
    cache/, state/          file index, PDF summaries, the selected email

Every factory is typed by its app's protocol (`pocketagent.tools.protocols`), so the type
checker checks each backend against the tool contract.

Apps are built lazily, on a tool's first call (`LazyApp`): a run that only looks up a
phone number does not open the Maildir or index files, and a backend's configuration
error becomes that action's clear failure. Backend names, the time zone and the
past-date policy are checked up front, so a typo in the config stops the run at once.

Side effects follow the settings: drafts and the SMS outbox by default; with `send`, mail
goes through SMTP (`smtp_host`) and texts through the `sms_provider`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.errors import HeaderParseError, MessageDefect
from email.headerregistry import Address
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pocketagent.backends.dates import DateRules
from pocketagent.errors import ConfigError
from pocketagent.settings import Settings
from pocketagent.tools.apps import APP_NAMES, Apps, LazyApp, current_request
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

if TYPE_CHECKING:  # the backend modules are imported when a factory runs (see below)
    from pocketagent.backends.local.mail import MaildirMail
    from pocketagent.backends.local.sms import SmsSender
    from pocketagent.backends.opener import DesktopOpener
    from pocketagent.backends.smtp import SmtpSender
    from pocketagent.llm.base import LLMBackend
    from pocketagent.subagents.email_writer import EmailWriter
    from pocketagent.subagents.note_writer import NoteWriter

DEFAULT_MAIL_ADDRESS = "me@localhost.localdomain"


@dataclass(frozen=True)
class WorkspaceLayout:
    """Where each local store lives under the workspace root (`$POCKETAGENT_HOME`)."""

    home: Path

    @classmethod
    def of(cls, settings: Settings) -> WorkspaceLayout:
        return cls(Path(settings.home).expanduser())

    @property
    def contacts(self) -> Path:
        return self.home / "contacts"

    @property
    def calendars(self) -> Path:
        return self.home / "calendars"

    @property
    def notes(self) -> Path:
        return self.home / "notes"

    @property
    def mail(self) -> Path:
        return self.home / "mail"

    @property
    def files(self) -> Path:
        return self.home / "files"

    @property
    def sms(self) -> Path:
        return self.home / "sms"

    @property
    def cache(self) -> Path:
        return self.home / "cache"

    @property
    def state(self) -> Path:
        return self.home / "state"

    @property
    def mail_state_file(self) -> Path:
        return self.state / "mail.json"

    def directories(self) -> list[Path]:
        """The folders `pocketagent init` creates (the Maildir is created by the mail store)."""
        return [self.contacts, self.calendars, self.notes / "Notes", self.files, self.sms / "outbox"]


def create_workspace(settings: Settings) -> list[Path]:
    """Create the workspace folders and the Maildir (inbox, Drafts, Sent); returns the folders that are new.

    Safe to run again: existing folders and files are left as they are.
    """
    from pocketagent.backends.local.mail import MaildirMail

    layout = WorkspaceLayout.of(settings)
    wanted = [layout.home, *layout.directories(), layout.mail]
    created = [path for path in wanted if not path.exists()]
    mail_before = set(layout.mail.iterdir()) if layout.mail.is_dir() else set()
    try:
        for directory in layout.directories():
            directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the workspace under {layout.home}: {exc.strerror or exc}") from None
    MaildirMail(layout.mail, identity=mail_identity(settings), state_file=layout.mail_state_file)
    if layout.mail not in created:  # a user's Maildir: report the Drafts/Sent folders we added
        created += sorted(
            path
            for path in layout.mail.iterdir()
            if path not in mail_before and path.is_dir() and path.name not in ("cur", "new", "tmp")
        )
    return created


def mail_identity(settings: Settings) -> str:
    """`Name <address>` from `mail_name` / `mail_address` (a default address when none is set)."""
    address = (settings.mail_address or "").strip() or DEFAULT_MAIL_ADDRESS
    try:
        return str(Address(display_name=" ".join(settings.mail_name.split()), addr_spec=address))
    except (HeaderParseError, MessageDefect, ValueError, IndexError):
        raise ConfigError(f"mail_address {address!r} is not a valid email address") from None


@dataclass(frozen=True)
class BackendInputs:
    """What a backend factory builds its app from."""

    settings: Settings
    layout: WorkspaceLayout
    rules: DateRules
    llm: LLMBackend | None = None  # for sub-agents (email writer, PDF summarizer, note writer)
    request: Callable[[], str] = current_request

    def opener(self) -> DesktopOpener:
        """Opens files and map links on the desktop; off when disabled or in a dry run (nothing visible happens)."""
        from pocketagent.backends.opener import DesktopOpener

        return DesktopOpener(enabled=self.settings.open_in_desktop and not self.settings.dry_run)

    def secret(self, name: str) -> str | None:
        value = getattr(self.settings, name)
        return value.get_secret_value() if value is not None else None

    def required(self, name: str, why: str) -> str:
        value = getattr(self.settings, name)
        if not value:
            raise ConfigError(f"{why} needs {name} (config key {name}, env POCKETAGENT_{name.upper()})")
        return str(value)


AppT = TypeVar("AppT")
# Builds one app from the inputs (the app's protocol is `AppT`).
BackendFactory = Callable[[BackendInputs], AppT]

# The setting that names each app's backend; apps not listed have only the "local" backend.
BACKEND_SETTINGS: dict[str, str] = {
    "contacts": "contacts_backend",
    "calendar": "calendar_backend",
    "reminders": "reminders_backend",
    "notes": "notes_backend",
    "mail": "mail_backend",
    "files": "files_backend",
    "sms": "sms_provider",
    "maps": "maps_provider",
    "meetings": "meetings_provider",
}


@dataclass(frozen=True)
class AppBackends:
    """Each app's backend factories by backend name, typed by the app's protocol."""

    contacts: dict[str, BackendFactory[ContactsApp]] = field(default_factory=dict)
    calendar: dict[str, BackendFactory[CalendarApp]] = field(default_factory=dict)
    files: dict[str, BackendFactory[FilesApp]] = field(default_factory=dict)
    pdf: dict[str, BackendFactory[PdfApp]] = field(default_factory=dict)
    mail: dict[str, BackendFactory[MailApp]] = field(default_factory=dict)
    maps: dict[str, BackendFactory[MapsApp]] = field(default_factory=dict)
    notes: dict[str, BackendFactory[NotesApp]] = field(default_factory=dict)
    reminders: dict[str, BackendFactory[RemindersApp]] = field(default_factory=dict)
    sms: dict[str, BackendFactory[SmsApp]] = field(default_factory=dict)
    meetings: dict[str, BackendFactory[MeetingsApp]] = field(default_factory=dict)

    def __getitem__(self, app: str) -> dict[str, BackendFactory[Any]]:
        """The table of one app by name (`KeyError` for an unknown app)."""
        if app not in APP_NAMES:
            raise KeyError(app)
        table: dict[str, BackendFactory[Any]] = getattr(self, app)
        return table


APP_BACKENDS = AppBackends()


# One overload per app: a plugin's factory is type-checked against the app's protocol.
@overload
def register_app_backend(app: Literal["contacts"], name: str, factory: BackendFactory[ContactsApp]) -> None: ...
@overload
def register_app_backend(app: Literal["calendar"], name: str, factory: BackendFactory[CalendarApp]) -> None: ...
@overload
def register_app_backend(app: Literal["files"], name: str, factory: BackendFactory[FilesApp]) -> None: ...
@overload
def register_app_backend(app: Literal["pdf"], name: str, factory: BackendFactory[PdfApp]) -> None: ...
@overload
def register_app_backend(app: Literal["mail"], name: str, factory: BackendFactory[MailApp]) -> None: ...
@overload
def register_app_backend(app: Literal["maps"], name: str, factory: BackendFactory[MapsApp]) -> None: ...
@overload
def register_app_backend(app: Literal["notes"], name: str, factory: BackendFactory[NotesApp]) -> None: ...
@overload
def register_app_backend(app: Literal["reminders"], name: str, factory: BackendFactory[RemindersApp]) -> None: ...
@overload
def register_app_backend(app: Literal["sms"], name: str, factory: BackendFactory[SmsApp]) -> None: ...
@overload
def register_app_backend(app: Literal["meetings"], name: str, factory: BackendFactory[MeetingsApp]) -> None: ...
def register_app_backend(app: str, name: str, factory: BackendFactory[Any]) -> None:
    """Make `factory(inputs)` selectable as backend `name` of `app` (e.g. `contacts_backend = name`)."""
    if app not in APP_NAMES:
        raise ValueError(f"unknown app {app!r}; apps are {', '.join(APP_NAMES)}")
    APP_BACKENDS[app][name.strip().lower()] = factory  # config values are matched case-insensitively


def selected_backends(settings: Settings) -> dict[str, str]:
    """The backend name each app uses; `ConfigError` naming the choices for an unknown one."""
    chosen: dict[str, str] = {}
    for app in APP_NAMES:
        setting = BACKEND_SETTINGS.get(app)
        name = str(getattr(settings, setting)).strip().lower() if setting else "local"
        if name not in APP_BACKENDS[app]:
            choices = ", ".join(sorted(APP_BACKENDS[app]))
            raise ConfigError(f"unknown {app} backend {name!r} ({setting}); available: {choices}")
        chosen[app] = name
    return chosen


def _lazy(app: str, table: dict[str, BackendFactory[AppT]], backend: str, inputs: BackendInputs) -> LazyApp[AppT]:
    factory = table[backend]
    return LazyApp(app, backend, lambda: factory(inputs))


def build_workspace_apps(settings: Settings, llm: LLMBackend | None = None) -> Apps:
    """The `workspace` provider: each app from its configured backend, built on first use."""
    chosen = selected_backends(settings)
    rules = DateRules.from_names(settings.timezone, settings.past_dates, settings.current_time)
    inputs = BackendInputs(settings, WorkspaceLayout.of(settings), rules, llm if settings.subagent_llm else None)
    b = APP_BACKENDS
    return Apps(
        contacts=_lazy("contacts", b.contacts, chosen["contacts"], inputs),
        calendar=_lazy("calendar", b.calendar, chosen["calendar"], inputs),
        files=_lazy("files", b.files, chosen["files"], inputs),
        pdf=_lazy("pdf", b.pdf, chosen["pdf"], inputs),
        mail=_lazy("mail", b.mail, chosen["mail"], inputs),
        maps=_lazy("maps", b.maps, chosen["maps"], inputs),
        notes=_lazy("notes", b.notes, chosen["notes"], inputs),
        reminders=_lazy("reminders", b.reminders, chosen["reminders"], inputs),
        sms=_lazy("sms", b.sms, chosen["sms"], inputs),
        meetings=_lazy("meetings", b.meetings, chosen["meetings"], inputs),
    )


# -- backend factories -------------------------------------------------------------------
# Each imports its module when called: a run pays only for the backends it uses
# (caldav, icalendar and httpx take a noticeable part of a second to import).


def _local_contacts(inputs: BackendInputs) -> ContactsApp:
    from pocketagent.backends.local.contacts import LocalContacts

    return LocalContacts(inputs.layout.contacts, inputs.settings.phone_region)


def _carddav_contacts(inputs: BackendInputs) -> ContactsApp:
    from pocketagent.backends.caldav_apps import CardDAVContacts

    s = inputs.settings
    url = s.carddav_url or inputs.required("caldav_url", 'contacts_backend = "carddav"')
    contacts = CardDAVContacts(url, s.dav_username, inputs.secret("dav_password"))
    contacts.phone_region = s.phone_region
    return contacts


def _macos_contacts(inputs: BackendInputs) -> ContactsApp:
    from pocketagent.backends.macos import MacContacts

    return MacContacts()


def _local_calendar(inputs: BackendInputs) -> CalendarApp:
    from pocketagent.backends.local.calendar import LocalCalendar

    return LocalCalendar(inputs.layout.calendars, inputs.rules, inputs.settings.default_calendar)


def _caldav_calendar(inputs: BackendInputs) -> CalendarApp:
    from pocketagent.backends.caldav_apps import CalDAVCalendar

    s = inputs.settings
    url = inputs.required("caldav_url", 'calendar_backend = "caldav"')
    return CalDAVCalendar(url, s.dav_username, inputs.secret("dav_password"), inputs.rules, s.default_calendar)


def _macos_calendar(inputs: BackendInputs) -> CalendarApp:
    from pocketagent.backends.macos import MacCalendar

    return MacCalendar(rules=inputs.rules)


def _local_reminders(inputs: BackendInputs) -> RemindersApp:
    from pocketagent.backends.local.calendar import LocalReminders

    return LocalReminders(inputs.layout.calendars, inputs.rules, inputs.settings.default_reminder_list)


def _caldav_reminders(inputs: BackendInputs) -> RemindersApp:
    from pocketagent.backends.caldav_apps import CalDAVReminders

    s = inputs.settings
    url = inputs.required("caldav_url", 'reminders_backend = "caldav"')
    return CalDAVReminders(url, s.dav_username, inputs.secret("dav_password"), inputs.rules, s.default_reminder_list)


def _macos_reminders(inputs: BackendInputs) -> RemindersApp:
    from pocketagent.backends.macos import MacReminders

    return MacReminders(rules=inputs.rules)


class NotesWithWriter(NotesApp):
    """A notes app whose new notes get their text from the note writer sub-agent.

    Given content is kept as written (only spacing is normalized); an empty note is drafted
    from the user's request when an LLM is available. Opening and appending go to the app.
    """

    def __init__(self, notes: NotesApp, writer: NoteWriter, request: Callable[[], str]) -> None:
        self.notes = notes
        self.writer = writer
        self._request = request

    def create_note(self, name: str, content: str, folder: str) -> str:
        if isinstance(name, str) and isinstance(content, str):
            content = self.writer.compose(name, content, request=self._request())
        return self.notes.create_note(name, content, folder)

    def open_note(self, name: str, folder: str) -> str:
        return self.notes.open_note(name, folder)

    def append_note_content(self, name: str, content: str, folder: str) -> str:
        return self.notes.append_note_content(name, content, folder)


def _note_writer(inputs: BackendInputs) -> NoteWriter:
    from pocketagent.subagents.note_writer import NoteWriter

    return NoteWriter(inputs.llm, seed=inputs.settings.seed)


def _local_notes(inputs: BackendInputs) -> NotesApp:
    from pocketagent.backends.local.notes import LocalNotes

    return NotesWithWriter(LocalNotes(inputs.layout.notes), _note_writer(inputs), inputs.request)


def _macos_notes(inputs: BackendInputs) -> NotesApp:
    from pocketagent.backends.macos import MacNotes

    return NotesWithWriter(MacNotes(), _note_writer(inputs), inputs.request)


def _email_writer(settings: Settings, llm: LLMBackend | None) -> EmailWriter:
    from pocketagent.subagents.email_writer import EmailWriter

    return EmailWriter(llm, sender_name=" ".join(settings.mail_name.split()), seed=settings.seed)


def smtp_sender(settings: Settings) -> SmtpSender | None:
    """The SMTP sender for `send`, or None when no `smtp_host` is configured."""
    if not settings.smtp_host:
        return None
    from pocketagent.backends.smtp import SmtpSender, SmtpSettings

    password = settings.smtp_password.get_secret_value() if settings.smtp_password is not None else None
    return SmtpSender(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username or None,
            password=password,
        )
    )


def open_maildir(
    settings: Settings, llm: LLMBackend | None = None, request: Callable[[], str] = current_request
) -> MaildirMail:
    """The workspace Maildir as a `MaildirMail` (also used by `pocketagent mail`)."""
    from pocketagent.backends.local.mail import MaildirMail

    layout = WorkspaceLayout.of(settings)
    return MaildirMail(
        layout.mail,
        identity=mail_identity(settings),
        writer=_email_writer(settings, llm),
        sender=smtp_sender(settings) if settings.send else None,
        send=settings.send,
        state_file=layout.mail_state_file,
        request=request,
        clock=settings.current_time,
        attachment_roots=workspace_file_roots(settings),  # attach only what open_and_get_file_path can find
    )


def _local_mail(inputs: BackendInputs) -> MailApp:
    return open_maildir(inputs.settings, inputs.llm, inputs.request)


def _macos_mail(inputs: BackendInputs) -> MailApp:
    from pocketagent.backends.macos import MacMail

    s = inputs.settings
    return MacMail(_email_writer(s, inputs.llm), send=s.send, request=inputs.request)


def workspace_file_roots(settings: Settings) -> list[Path]:
    """The folders searched for files: the workspace's ``files/`` plus `file_roots`."""
    return [WorkspaceLayout.of(settings).files, *(Path(root).expanduser() for root in settings.file_roots)]


def _file_roots(inputs: BackendInputs) -> list[Path]:
    return workspace_file_roots(inputs.settings)


def _local_files(inputs: BackendInputs) -> FilesApp:
    from pocketagent.backends.local.files import LocalFiles

    return LocalFiles(_file_roots(inputs), cache_path=inputs.layout.cache / "files.json", opener=inputs.opener())


def _spotlight_files(inputs: BackendInputs) -> FilesApp:
    from pocketagent.backends.macos import SpotlightFiles

    # No configured roots: everything Spotlight indexes (the workspace files are included).
    roots = _file_roots(inputs) if inputs.settings.file_roots else []
    return SpotlightFiles(roots, opener=inputs.opener())


def _pdf_summarizer(inputs: BackendInputs) -> PdfApp:
    from pocketagent.subagents.pdf_summarizer import PdfSummarizer

    return PdfSummarizer(inputs.llm, cache_dir=inputs.layout.cache / "pdf", seed=inputs.settings.seed)


def _maps(provider: str) -> BackendFactory[MapsApp]:
    def build(inputs: BackendInputs) -> MapsApp:
        from pocketagent.backends.maps import MapLinks

        return MapLinks(provider, opener=inputs.opener())

    return build


def _sms(make_sender: Callable[[BackendInputs], SmsSender | None]) -> BackendFactory[SmsApp]:
    def build(inputs: BackendInputs) -> SmsApp:
        from pocketagent.backends.local.sms import SmsOutbox

        sender = make_sender(inputs) if inputs.settings.send else None
        return SmsOutbox(
            inputs.layout.sms,
            sender=sender,
            send=inputs.settings.send,
            clock=inputs.settings.current_time,
            phone_region=inputs.settings.phone_region,
        )

    return build


def _kdeconnect_sender(inputs: BackendInputs) -> SmsSender:
    from pocketagent.backends.kdeconnect import KdeConnectSms

    return KdeConnectSms(inputs.settings.kdeconnect_device or None)


def _messages_sender(inputs: BackendInputs) -> SmsSender:
    from pocketagent.backends.macos import MacMessagesSender

    return MacMessagesSender()


def _jitsi(inputs: BackendInputs) -> MeetingsApp:
    from pocketagent.backends.meetings import JitsiMeetings

    return JitsiMeetings(inputs.settings.jitsi_url, clock=inputs.settings.current_time)


def _zoom(inputs: BackendInputs) -> MeetingsApp:
    from pocketagent.backends.meetings import ZoomMeetings

    s = inputs.settings
    return ZoomMeetings(
        access_token=inputs.secret("zoom_access_token"),
        account_id=s.zoom_account_id,
        client_id=s.zoom_client_id,
        client_secret=inputs.secret("zoom_client_secret"),
        api_base_url=s.zoom_api_url,
        timezone_name=s.timezone or None,
        clock=s.current_time,
    )


def _no_sender(inputs: BackendInputs) -> SmsSender | None:
    return None  # the outbox only: texts are queued, never sent


# Typed tables: each factory is checked against its app's protocol.
APP_BACKENDS.contacts.update(local=_local_contacts, carddav=_carddav_contacts, macos=_macos_contacts)
APP_BACKENDS.calendar.update(local=_local_calendar, caldav=_caldav_calendar, macos=_macos_calendar)
APP_BACKENDS.reminders.update(local=_local_reminders, caldav=_caldav_reminders, macos=_macos_reminders)
APP_BACKENDS.notes.update(local=_local_notes, macos=_macos_notes)
APP_BACKENDS.mail.update(local=_local_mail, macos=_macos_mail)
APP_BACKENDS.files.update(local=_local_files, spotlight=_spotlight_files)
APP_BACKENDS.pdf.update(local=_pdf_summarizer)
APP_BACKENDS.maps.update(openstreetmap=_maps("openstreetmap"), apple=_maps("apple"))
APP_BACKENDS.sms.update(outbox=_sms(_no_sender), kdeconnect=_sms(_kdeconnect_sender), messages=_sms(_messages_sender))
APP_BACKENDS.meetings.update(jitsi=_jitsi, zoom=_zoom)
