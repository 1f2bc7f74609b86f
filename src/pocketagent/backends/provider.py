"""The `workspace` app provider: the 16 tools on the user's own data, one backend per app.

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

Apps are built lazily, on a tool's first call (`LazyApp`): a run that only looks up a
phone number does not open the Maildir or index files, and a backend's configuration
error becomes that action's clear failure. Backend names, the time zone and the
past-date policy are checked up front, so a typo in the config stops the run at once.

Side effects follow the settings: drafts and the SMS outbox by default; with `send`, mail
goes through SMTP (`smtp_host`) and texts through the `sms_provider`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.errors import HeaderParseError, MessageDefect
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from pocketagent.backends.dates import DateRules
from pocketagent.errors import ConfigError
from pocketagent.settings import Settings
from pocketagent.tools.apps import APP_NAMES, Apps, current_request, register_app_provider

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
    llm: Any = None  # LLMBackend for sub-agents (email writer, PDF summarizer, note writer), or None
    request: Callable[[], str] = current_request

    def opener(self) -> Any:
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


BackendFactory = Callable[[BackendInputs], Any]

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
APP_BACKENDS: dict[str, dict[str, BackendFactory]] = {app: {} for app in APP_NAMES}


def register_app_backend(app: str, name: str, factory: BackendFactory) -> None:
    """Make `factory(inputs)` selectable as backend `name` of `app` (e.g. `contacts_backend = name`)."""
    if app not in APP_BACKENDS:
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


class LazyApp:
    """Stands in for an app and builds it on first use (once, also under concurrent tool calls)."""

    def __init__(self, app: str, backend: str, build: Callable[[], Any]) -> None:
        self.app_name = app
        self.backend_name = backend
        self._build = build
        self._instance: Any = None
        self._lock = threading.Lock()

    def resolve(self) -> Any:
        """The app itself, built now if needed. A failed build is retried on the next call."""
        with self._lock:
            if self._instance is None:
                self._instance = self._build()
            return self._instance

    @property
    def is_built(self) -> bool:
        return self._instance is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        state = "built" if self.is_built else "not built yet"
        return f"<{self.app_name} app: {self.backend_name} backend, {state}>"


def build_workspace_apps(settings: Settings, llm: Any = None) -> Apps:
    """The `workspace` provider: each app from its configured backend, built on first use."""
    chosen = selected_backends(settings)
    rules = DateRules.from_names(settings.timezone, settings.past_dates, settings.current_time)
    inputs = BackendInputs(settings, WorkspaceLayout.of(settings), rules, llm if settings.subagent_llm else None)
    apps: dict[str, LazyApp] = {}
    for app, backend in chosen.items():
        factory = APP_BACKENDS[app][backend]
        apps[app] = LazyApp(app, backend, lambda factory=factory: factory(inputs))
    return Apps(**apps)


register_app_provider("workspace", build_workspace_apps)


# -- backend factories -------------------------------------------------------------------
# Each imports its module when called: a run pays only for the backends it uses
# (caldav, icalendar and httpx take a noticeable part of a second to import).


def _local_contacts(inputs: BackendInputs) -> Any:
    from pocketagent.backends.local.contacts import LocalContacts

    return LocalContacts(inputs.layout.contacts)


def _carddav_contacts(inputs: BackendInputs) -> Any:
    from pocketagent.backends.caldav_apps import CardDAVContacts

    s = inputs.settings
    url = s.carddav_url or inputs.required("caldav_url", 'contacts_backend = "carddav"')
    return CardDAVContacts(url, s.dav_username, inputs.secret("dav_password"))


def _local_calendar(inputs: BackendInputs) -> Any:
    from pocketagent.backends.local.calendar import LocalCalendar

    return LocalCalendar(inputs.layout.calendars, inputs.rules, inputs.settings.default_calendar)


def _caldav_calendar(inputs: BackendInputs) -> Any:
    from pocketagent.backends.caldav_apps import CalDAVCalendar

    s = inputs.settings
    url = inputs.required("caldav_url", 'calendar_backend = "caldav"')
    return CalDAVCalendar(url, s.dav_username, inputs.secret("dav_password"), inputs.rules, s.default_calendar)


def _local_reminders(inputs: BackendInputs) -> Any:
    from pocketagent.backends.local.calendar import LocalReminders

    return LocalReminders(inputs.layout.calendars, inputs.rules, inputs.settings.default_reminder_list)


def _caldav_reminders(inputs: BackendInputs) -> Any:
    from pocketagent.backends.caldav_apps import CalDAVReminders

    s = inputs.settings
    url = inputs.required("caldav_url", 'reminders_backend = "caldav"')
    return CalDAVReminders(url, s.dav_username, inputs.secret("dav_password"), inputs.rules, s.default_reminder_list)


class NotesWithWriter:
    """A notes app whose new notes get their text from the note writer sub-agent.

    Given content is kept as written (only spacing is normalized); an empty note is drafted
    from the user's request when an LLM is available. Everything else goes to the app.
    """

    def __init__(self, notes: Any, writer: Any, request: Callable[[], str]) -> None:
        self.notes = notes
        self.writer = writer
        self._request = request

    def create_note(self, name: str, content: str, folder: str) -> str:
        if isinstance(name, str) and isinstance(content, str):
            content = self.writer.compose(name, content, request=self._request())
        return self.notes.create_note(name, content, folder)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.notes, name)


def _note_writer(inputs: BackendInputs) -> Any:
    from pocketagent.subagents.note_writer import NoteWriter

    return NoteWriter(inputs.llm, seed=inputs.settings.seed)


def _local_notes(inputs: BackendInputs) -> Any:
    from pocketagent.backends.local.notes import LocalNotes

    return NotesWithWriter(LocalNotes(inputs.layout.notes), _note_writer(inputs), inputs.request)


def _macos_notes(inputs: BackendInputs) -> Any:
    from pocketagent.backends.macos import MacNotes

    return NotesWithWriter(MacNotes(), _note_writer(inputs), inputs.request)


def _email_writer(settings: Settings, llm: Any) -> Any:
    from pocketagent.subagents.email_writer import EmailWriter

    return EmailWriter(llm, sender_name=" ".join(settings.mail_name.split()), seed=settings.seed)


def smtp_sender(settings: Settings) -> Any:
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


def open_maildir(settings: Settings, llm: Any = None, request: Callable[[], str] = current_request) -> Any:
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


def _local_mail(inputs: BackendInputs) -> Any:
    return open_maildir(inputs.settings, inputs.llm, inputs.request)


def _macos_mail(inputs: BackendInputs) -> Any:
    from pocketagent.backends.macos import MacMail

    s = inputs.settings
    return MacMail(_email_writer(s, inputs.llm), send=s.send, request=inputs.request)


def workspace_file_roots(settings: Settings) -> list[Path]:
    """The folders searched for files: the workspace's ``files/`` plus `file_roots`."""
    return [WorkspaceLayout.of(settings).files, *(Path(root).expanduser() for root in settings.file_roots)]


def _file_roots(inputs: BackendInputs) -> list[Path]:
    return workspace_file_roots(inputs.settings)


def _local_files(inputs: BackendInputs) -> Any:
    from pocketagent.backends.local.files import LocalFiles

    return LocalFiles(_file_roots(inputs), cache_path=inputs.layout.cache / "files.json", opener=inputs.opener())


def _spotlight_files(inputs: BackendInputs) -> Any:
    from pocketagent.backends.macos import SpotlightFiles

    # No configured roots: everything Spotlight indexes (the workspace files are included).
    roots = _file_roots(inputs) if inputs.settings.file_roots else []
    return SpotlightFiles(roots, opener=inputs.opener())


def _pdf_summarizer(inputs: BackendInputs) -> Any:
    from pocketagent.subagents.pdf_summarizer import PdfSummarizer

    return PdfSummarizer(inputs.llm, cache_dir=inputs.layout.cache / "pdf", seed=inputs.settings.seed)


def _maps(provider: str) -> BackendFactory:
    def build(inputs: BackendInputs) -> Any:
        from pocketagent.backends.maps import MapsApp

        return MapsApp(provider, opener=inputs.opener())

    return build


def _sms(make_sender: Callable[[BackendInputs], Any]) -> BackendFactory:
    def build(inputs: BackendInputs) -> Any:
        from pocketagent.backends.local.sms import SmsApp

        sender = make_sender(inputs) if inputs.settings.send else None
        return SmsApp(inputs.layout.sms, sender=sender, send=inputs.settings.send, clock=inputs.settings.current_time)

    return build


def _kdeconnect_sender(inputs: BackendInputs) -> Any:
    from pocketagent.backends.kdeconnect import KdeConnectSms

    return KdeConnectSms(inputs.settings.kdeconnect_device or None)


def _messages_sender(inputs: BackendInputs) -> Any:
    from pocketagent.backends.macos import MacMessagesSender

    return MacMessagesSender()


def _jitsi(inputs: BackendInputs) -> Any:
    from pocketagent.backends.meetings import JitsiMeetings

    return JitsiMeetings(inputs.settings.jitsi_url, clock=inputs.settings.current_time)


def _zoom(inputs: BackendInputs) -> Any:
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


def _macos(class_name: str, with_rules: bool = False) -> BackendFactory:
    def build(inputs: BackendInputs) -> Any:
        from pocketagent.backends import macos

        app_class = getattr(macos, class_name)
        return app_class(rules=inputs.rules) if with_rules else app_class()

    return build


_BUILTIN_BACKENDS: dict[str, dict[str, BackendFactory]] = {
    "contacts": {"local": _local_contacts, "carddav": _carddav_contacts, "macos": _macos("MacContacts")},
    "calendar": {"local": _local_calendar, "caldav": _caldav_calendar, "macos": _macos("MacCalendar", True)},
    "reminders": {"local": _local_reminders, "caldav": _caldav_reminders, "macos": _macos("MacReminders", True)},
    "notes": {"local": _local_notes, "macos": _macos_notes},
    "mail": {"local": _local_mail, "macos": _macos_mail},
    "files": {"local": _local_files, "spotlight": _spotlight_files},
    "pdf": {"local": _pdf_summarizer},
    "maps": {"openstreetmap": _maps("openstreetmap"), "apple": _maps("apple")},
    "sms": {"outbox": _sms(lambda inputs: None), "kdeconnect": _sms(_kdeconnect_sender),
            "messages": _sms(_messages_sender)},
    "meetings": {"jitsi": _jitsi, "zoom": _zoom},
}  # fmt: skip


def _register_builtin_backends() -> None:
    for app, backends in _BUILTIN_BACKENDS.items():
        for name, factory in backends.items():
            register_app_backend(app, name, factory)


_register_builtin_backends()
