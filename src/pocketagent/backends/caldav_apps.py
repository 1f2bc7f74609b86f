"""Events and reminders on a CalDAV server, contacts on a CardDAV server.

Works with any standards-following server (Nextcloud, iCloud, Fastmail, Radicale).

- `CalDAVCalendar` / `CalDAVReminders` use the `caldav` library. A calendar or list is
  picked by display name with the same tolerant matching as the local store; with no name,
  `default_calendar` / `default_list` is used (set it to the server's own default, e.g.
  Nextcloud's "Personal" or iCloud's "Home"/"Reminders"). A calendar that does not exist
  yet is created (MKCALENDAR, for VEVENT or VTODO), and the result says so.
- `CardDAVContacts` speaks plain WebDAV with httpx (the `caldav` library has no CardDAV):
  discovery via current-user-principal → addressbook-home-set → address books, then a
  PROPFIND for ETags and an `addressbook-multiget` REPORT for cards that changed since the
  last lookup. New contacts are PUT as vCard 4.0.

Every network failure ends in a `ToolError`: `ServerUnreachableError` (connection refused,
DNS, timeout) or `ServerAuthError` (401/403), with the server URL in the message.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
import icalendar
from caldav.collection import Calendar as DavCalendar
from caldav.collection import Principal
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from pocketagent.backends.dates import DateRules
from pocketagent.backends.local.calendar import (
    DEFAULT_CALENDAR,
    DEFAULT_REMINDER_LIST,
    PreparedItem,
    choose_collection,
    prepare_event,
    prepare_reminder,
    result_sentence,
    wrap_in_calendar,
)
from pocketagent.backends.local.contacts import Contact, ContactBook
from pocketagent.backends.local.vcard import parse_vcards, serialize_vcards
from pocketagent.errors import ToolError
from pocketagent.tools.protocols import CalendarApp, RemindersApp

DEFAULT_TIMEOUT_S = 15.0


class ServerUnreachableError(ToolError):
    """The server could not be reached (refused, unknown host, timeout)."""


class ServerAuthError(ToolError):
    """The server refused the credentials."""


class ServerProtocolError(ToolError):
    """The server answered, but not as a CalDAV/CardDAV server should."""


T = TypeVar("T")


def _sync(result: T | Coroutine[Any, Any, T]) -> T:
    """A caldav call's result: its methods are typed for the sync and async clients alike, ours is sync."""
    if isinstance(result, Coroutine):
        result.close()
        raise TypeError("the synchronous CalDAV client returned a coroutine")
    return result


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url


# ---------------------------------------------------------------------------------------
# CalDAV


class _CalDAVStore:
    """A lazily connected CalDAV account; turns library and network errors into ToolErrors."""

    def __init__(self, url: str, username: str | None, password: str | None, timeout: float) -> None:
        if not url or not urlsplit(url).scheme.startswith("http"):
            raise ToolError(f"CalDAV URL must start with http:// or https://, got {url!r}")
        self.url = url
        self._client = DAVClient(url=url, username=username, password=password,
                                 timeout=int(timeout), enable_rfc6764=False)
        self._principal: Principal | None = None
        self._guard_lock = threading.Lock()

    @contextlib.contextmanager
    def guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except ToolError:
            raise
        except dav_error.AuthorizationError:
            raise ServerAuthError(f"the CalDAV server at {_where(self.url)} refused the username/password "
                                  f"while trying to {action}") from None
        except dav_error.DAVError as exc:
            raise ServerProtocolError(f"the CalDAV server at {_where(self.url)} failed to {action}: "
                                      f"{str(exc).strip()[:300]}") from None
        except OSError as exc:  # niquests/requests connection errors and timeouts are OSErrors
            raise ServerUnreachableError(f"cannot reach the CalDAV server at {_where(self.url)} to {action}: "
                                         f"{_short_reason(exc)}") from None

    def principal(self) -> Principal:
        with self._guard_lock:
            if self._principal is None:
                with self.guard("log in"):
                    self._principal = self._client.get_principal()
            return self._principal

    def calendars(self) -> list[tuple[str, DavCalendar]]:
        """(display name, calendar) for every calendar of the account."""
        with self.guard("list calendars"):
            found = []
            for cal in _sync(self.principal().calendars()):
                name = _sync(cal.get_display_name()) or str(cal.url).rstrip("/").rsplit("/", 1)[-1]
                found.append((name, cal))
            return found

    def pick(self, requested: str | None, default: str, component: str, kind: str) -> tuple[DavCalendar, str, bool]:
        """The calendar to write a `component` into, creating a named one that is missing."""
        calendars = self.calendars()
        names = [n for n, _ in calendars]
        name, is_new = choose_collection(requested, names, default, kind)
        if not is_new:
            return dict(calendars)[name], name, False
        with self.guard(f"create the {kind} {name!r}"):
            cal = _sync(self.principal().make_calendar(name=name, supported_calendar_component_set=[component]))
        return cal, name, True

    def save(self, cal: DavCalendar, name: str, item: PreparedItem, todo: bool) -> None:
        ical = wrap_in_calendar(name, item.component).to_ical().decode("utf-8")
        with self.guard(f"save {item.title!r}"):
            if todo:
                cal.add_todo(ical, no_overwrite=True)
            else:
                cal.add_event(ical, no_overwrite=True)

    def components(self, kind: str, name: str | None) -> list[icalendar.cal.Component]:
        found = []
        for cal_name, cal in self.calendars():
            if name is not None and cal_name != name:
                continue
            with self.guard(f"read {cal_name!r}"):
                objects = _sync(cal.todos(include_completed=True)) if kind == "VTODO" else _sync(cal.events())
                for obj in objects:
                    found.extend(icalendar.Calendar.from_ical(obj.data).walk(kind))
        return found


def _short_reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host",
                   "Temporary failure in name resolution", "nodename nor servname"):
        if marker.lower() in text.lower():
            return marker.lower()
    return text.strip()[:200] or type(exc).__name__


class CalDAVCalendar(CalendarApp):
    """`create_calendar_event` on a CalDAV server."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 rules: DateRules | None = None, default_calendar: str = DEFAULT_CALENDAR,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.store = _CalDAVStore(url, username, password, timeout)
        self.rules = rules or DateRules()
        self.default_calendar = default_calendar

    def create_calendar_event(self, title: str, start_date: str, end_date: str, location: str,
                              invitees: list[str], notes: str, calendar: str | None) -> str:
        """Create an event on the server; returns the same sentence as the local store."""
        item = prepare_event(title, start_date, end_date, location, invitees, notes, self.rules)
        cal, name, created = self.store.pick(calendar, self.default_calendar, "VEVENT", "calendar")
        self.store.save(cal, name, item, todo=False)
        return result_sentence("event", item, "calendar", name, created)

    def events(self, calendar: str | None = None) -> list[icalendar.Event]:
        """Events of one calendar (by display name) or of all calendars."""
        return [c for c in self.store.components("VEVENT", calendar) if isinstance(c, icalendar.Event)]


class CalDAVReminders(RemindersApp):
    """`create_reminder` as VTODOs on a CalDAV server."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 rules: DateRules | None = None, default_list: str = DEFAULT_REMINDER_LIST,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.store = _CalDAVStore(url, username, password, timeout)
        self.rules = rules or DateRules()
        self.default_list = default_list

    def create_reminder(self, name: str, due_date: str, notes: str, list_name: str, priority: int,
                        all_day: bool) -> str:
        """Create a to-do on the server; returns the same sentence as the local store."""
        item = prepare_reminder(name, due_date, notes, priority, all_day, self.rules)
        cal, collection, created = self.store.pick(list_name, self.default_list, "VTODO", "list")
        self.store.save(cal, collection, item, todo=True)
        return result_sentence("reminder", item, "list", collection, created)

    def reminders(self, list_name: str | None = None) -> list[icalendar.Todo]:
        """To-dos of one list (by display name) or of all calendars."""
        return [c for c in self.store.components("VTODO", list_name) if isinstance(c, icalendar.Todo)]


# ---------------------------------------------------------------------------------------
# CardDAV (plain WebDAV over httpx)

_NS = {"d": "DAV:", "card": "urn:ietf:params:xml:ns:carddav"}
_PROPFIND = ('<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:card="{card}">'
             "<d:prop>{props}</d:prop></d:propfind>")


def _propfind_body(props: str) -> str:
    return _PROPFIND.format(card=_NS["card"], props=props)


class CardDAVContacts(ContactBook):
    """Contacts from the address books of a CardDAV account (all of them, or the one named)."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 addressbook: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        if not url or not urlsplit(url).scheme.startswith("http"):
            raise ToolError(f"CardDAV URL must start with http:// or https://, got {url!r}")
        self.url = url
        self.addressbook = addressbook
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._http = httpx.Client(auth=auth, timeout=timeout, follow_redirects=True)
        self._books: list[tuple[str, str]] | None = None  # (display name, absolute URL)
        self._home = url
        self._cards: dict[str, tuple[str, list[Contact]]] = {}  # href -> (etag, contacts)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- HTTP ----------------------------------------------------------------------------

    def _request(self, method: str, url: str, action: str, *, body: str | bytes | None = None,
                 headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            response = self._http.request(method, url, content=body, headers=headers)
        except (httpx.TransportError, OSError) as exc:
            raise ServerUnreachableError(f"cannot reach the CardDAV server at {_where(self.url)} to {action}: "
                                         f"{_short_reason(exc)}") from None
        if response.status_code in (401, 403):
            raise ServerAuthError(f"the CardDAV server at {_where(self.url)} refused the username/password "
                                  f"(HTTP {response.status_code}) while trying to {action}")
        if response.status_code >= 400:
            raise ServerProtocolError(f"the CardDAV server at {_where(self.url)} answered HTTP "
                                      f"{response.status_code} to {method} while trying to {action}")
        return response

    def _dav(self, method: str, url: str, body: str, depth: str, action: str) -> list[ET.Element]:
        response = self._request(method, url, action, body=body.encode("utf-8"),
                                 headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"})
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise ServerProtocolError(f"the server at {_where(self.url)} did not answer {method} with "
                                      "WebDAV XML; is this a CardDAV URL?") from None
        return root.findall("d:response", _NS)

    def _href_prop(self, url: str, prop: str, action: str) -> str | None:
        for response in self._dav("PROPFIND", url, _propfind_body(f"<{prop}/>"), "0", action):
            href = response.find(f"d:propstat/d:prop/{prop}/d:href", _NS)
            if href is not None and href.text:
                return urljoin(url, href.text.strip())
        return None

    # -- discovery -----------------------------------------------------------------------

    def addressbooks(self) -> list[tuple[str, str]]:
        """(display name, URL) of the account's address books (discovered once)."""
        if self._books is None:
            principal = self._href_prop(self.url, "d:current-user-principal", "find the account") or self.url
            home = self._href_prop(principal, "card:addressbook-home-set", "find the address books") or principal
            body = _propfind_body("<d:resourcetype/><d:displayname/>")
            books = []
            for response in self._dav("PROPFIND", home, body, "1", "list the address books"):
                if response.find("d:propstat/d:prop/d:resourcetype/card:addressbook", _NS) is None:
                    continue
                href = urljoin(home, response.findtext("d:href", "", _NS).strip())
                name = (response.findtext("d:propstat/d:prop/d:displayname", "", _NS) or "").strip()
                books.append((name or href.rstrip("/").rsplit("/", 1)[-1], href))
            self._books, self._home = books, home
        return self._books

    def _selected_books(self) -> list[tuple[str, str]]:
        books = self.addressbooks()
        if not self.addressbook:
            return books
        chosen = [b for b in books if b[0].casefold() == self.addressbook.casefold()]
        if not chosen:
            shown = ", ".join(n for n, _ in books) or "none"
            raise ToolError(f"no address book called {self.addressbook!r} on {_where(self.url)} (found: {shown})")
        return chosen

    # -- reading -------------------------------------------------------------------------

    def contacts(self) -> list[Contact]:
        """Every contact of the selected address books; only changed cards are downloaded."""
        with self._lock:
            current: dict[str, str] = {}
            for _, book in self._selected_books():
                body = _propfind_body("<d:getetag/><d:resourcetype/>")
                for response in self._dav("PROPFIND", book, body, "1", "list contacts"):
                    if response.find("d:propstat/d:prop/d:resourcetype/d:collection", _NS) is not None:
                        continue
                    href = urljoin(book, response.findtext("d:href", "", _NS).strip())
                    current[href] = response.findtext("d:propstat/d:prop/d:getetag", "", _NS) or ""
            stale = [h for h, etag in current.items() if h not in self._cards or self._cards[h][0] != etag or not etag]
            if stale:
                self._fetch(stale, current)
            self._cards = {h: self._cards[h] for h in current if h in self._cards}
            return [c for h in sorted(self._cards) for c in self._cards[h][1]]

    def _fetch(self, hrefs: list[str], etags: dict[str, str]) -> None:
        by_book: dict[str, list[str]] = {}
        for href in hrefs:
            by_book.setdefault(href.rsplit("/", 1)[0] + "/", []).append(href)
        for book, members in by_book.items():
            listed = "".join(f"<d:href>{_xml_escape(urlsplit(h).path)}</d:href>" for h in members)
            body = (f'<?xml version="1.0" encoding="utf-8"?><card:addressbook-multiget xmlns:d="DAV:" '
                    f'xmlns:card="{_NS["card"]}"><d:prop><d:getetag/><card:address-data/></d:prop>{listed}'
                    "</card:addressbook-multiget>")
            for response in self._dav("REPORT", book, body, "1", "download contacts"):
                href = urljoin(book, response.findtext("d:href", "", _NS).strip())
                data = response.findtext("d:propstat/d:prop/card:address-data", "", _NS)
                cards = [Contact.from_vcard(card) for card in parse_vcards(data or "")]
                self._cards[href] = (etags.get(href, ""), [c for c in cards if c.full_name])

    # -- writing -------------------------------------------------------------------------

    def add_contact(self, contact: Contact) -> Contact:
        """PUT `contact` as a new vCard 4.0 resource into the (first selected) address book."""
        if not contact.full_name.strip():
            raise ToolError("a contact needs a name")
        with self._lock:
            books = self._selected_books() if self.addressbook else self.addressbooks()
            book = books[0][1] if books else self._create_addressbook()
            card = contact.to_vcard()
            resource = urljoin(book, f"{uuid.uuid4()}.vcf")
            self._request("PUT", resource, f"add {contact.full_name!r}",
                          body=serialize_vcards([card]).encode("utf-8"),
                          headers={"Content-Type": "text/vcard; charset=utf-8", "If-None-Match": "*"})
        return Contact.from_vcard(card)

    def _create_addressbook(self, name: str = "Contacts") -> str:
        url = urljoin(self._home, f"{uuid.uuid4()}/")
        body = ('<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" '
                f'xmlns:card="{_NS["card"]}"><d:set><d:prop><d:resourcetype><d:collection/>'
                f"<card:addressbook/></d:resourcetype><d:displayname>{_xml_escape(name)}</d:displayname>"
                "</d:prop></d:set></d:mkcol>")
        self._request("MKCOL", url, "create an address book", body=body.encode("utf-8"),
                      headers={"Content-Type": "application/xml; charset=utf-8"})
        self._books = None
        return url


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
