"""Contacts from vCard files: a small vCard 2.1/3.0/4.0 reader and 4.0 writer, fuzzy name lookup.

Every `*.vcf` / `*.vcard` file under the contacts directory is read (several cards per
file are fine; hidden files are skipped). New contacts are written as vCard 4.0 to
`pocketagent.vcf` in that directory, atomically and under the store's lock.

The format itself is `vcard.py`; name lookup (accent-insensitive, nicknames, honorifics, small
typos, never guessing between equally good matches) is `matching.py`, shared with notes and
calendars.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from pocketagent.atomic import atomic_write_bytes, locked, remove_stale_temp_files
from pocketagent.backends.local.matching import (
    AmbiguousMatchError,
    Candidate,
    NoMatchError,
    match_names,
    read_text_any_encoding,
    read_user_file,
)
from pocketagent.backends.local.vcard import (
    VCard,
    VCardProperty,
    escape_text,
    list_value,
    parse_vcards,
    serialize_vcards,
    structured_value,
)
from pocketagent.errors import ToolError
from pocketagent.phones import DEFAULT_PHONE_REGION, looks_like_phone_number, phone_key
from pocketagent.text import looks_like_email
from pocketagent.tools.protocols import ContactsApp

# ---------------------------------------------------------------------------------------
# Contacts


class ContactFieldMissingError(ToolError):
    """The contact exists but has no email address / phone number."""


def _pref_rank(prop: VCardProperty) -> int:
    # vCard 4: PREF=1..100 (1 = most preferred); vCard 3/2.1: TYPE=pref.
    for value in prop.param("PREF"):
        if value.isdigit():
            return int(value)
    return 1 if "pref" in prop.types else 101


@dataclass(frozen=True)
class Contact:
    """The parts of a card the tools use. `emails` and `phones` are in preference order."""

    full_name: str
    given: str = ""
    family: str = ""
    nicknames: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    uid: str = ""
    source: Path | None = None

    @classmethod
    def from_vcard(cls, card: VCard, source: Path | None = None) -> Contact:
        """Read a contact from a card; the name falls back to N, ORG, then the first email."""
        name = card.first("N")
        parts = (name.components() if name else []) + ["", ""]
        family, given = parts[0].strip(), parts[1].strip()
        emails = [p.text().strip().removeprefix("mailto:") for p in sorted(card.all("EMAIL"), key=_pref_rank)]
        phones = [p.text().strip().removeprefix("tel:") for p in sorted(card.all("TEL"), key=_pref_rank)]
        nicknames = [n for prop in card.all("NICKNAME") for n in prop.list_values()]
        fn = card.first("FN")
        org = card.first("ORG")
        full_name = (fn.text().strip() if fn else "") or " ".join(x for x in (given, family) if x)
        full_name = full_name or (org.components()[0].strip() if org else "") or (emails[0] if emails else "")
        uid = card.first("UID")
        return cls(
            full_name,
            given,
            family,
            tuple(nicknames),
            tuple(e for e in emails if e),
            tuple(p for p in phones if p),
            uid.text().strip() if uid else "",
            source,
        )

    def to_vcard(self) -> VCard:
        """A vCard 4.0 card for this contact (a new urn:uuid UID when it has none)."""
        props = [
            VCardProperty("VERSION", "4.0"),
            VCardProperty("UID", escape_text(self.uid or f"urn:uuid:{uuid.uuid4()}")),
            VCardProperty("FN", escape_text(self.full_name)),
            VCardProperty("N", structured_value([self.family, self.given, "", "", ""])),
        ]
        if self.nicknames:
            props.append(VCardProperty("NICKNAME", list_value(self.nicknames)))
        params: tuple[tuple[str, tuple[str, ...]], ...]
        for i, email in enumerate(self.emails):
            params = (("PREF", ("1",)),) if i == 0 and len(self.emails) > 1 else ()
            props.append(VCardProperty("EMAIL", escape_text(email), params))
        for i, phone in enumerate(self.phones):
            params = (("TYPE", ("cell",)),) + ((("PREF", ("1",)),) if i == 0 and len(self.phones) > 1 else ())
            props.append(VCardProperty("TEL", escape_text(phone), params))
        return VCard(props)

    def candidate(self) -> Candidate[Contact]:
        names = [self.full_name, f"{self.given} {self.family}", f"{self.family} {self.given}"]
        return Candidate(self, self.full_name, tuple(n for n in names if n.strip()), self.nicknames)


class ContactBook(ContactsApp):
    """Lookup shared by every contacts backend; subclasses provide `contacts()`.

    `phone_region` is the country of numbers written without a country code, so that a
    number looked up as "+1 415 555 0101" finds a card that says "(415) 555-0101".
    """

    phone_region: str = DEFAULT_PHONE_REGION

    def contacts(self) -> list[Contact]:
        raise NotImplementedError

    def find_contacts(self, name: str) -> list[Contact]:
        """Every contact tied for the best match of `name` (empty when nothing matches)."""
        return [c.item for c in match_names(name, [c.candidate() for c in self.contacts()]).matches]

    def get_email_address(self, name: str) -> str:
        """The preferred email address of the contact called `name` (an address is returned as is)."""
        return self._lookup(name, "email", "email address")

    def get_phone_number(self, name: str) -> str:
        """The preferred phone number of the contact called `name` (a number is returned as is)."""
        return self._lookup(name, "phone", "phone number")

    def _lookup(self, name: object, wanted: str, noun: str) -> str:
        if not isinstance(name, str) or not name.strip():
            raise ToolError(f"give the name of the person whose {noun} you want")
        query = name.strip()
        contacts = self.contacts()
        # A literal address or number needs no lookup, but may lead to the other field.
        is_email, is_phone = looks_like_email(query), looks_like_phone_number(query)
        if (wanted == "email" and is_email) or (wanted == "phone" and is_phone):
            return query
        if is_email or is_phone:
            key = phone_key(query, self.phone_region) if is_phone else ""
            matches = [
                c
                for c in contacts
                if (is_email and query.lower() in {e.lower() for e in c.emails})
                or (is_phone and key in {phone_key(p, self.phone_region) for p in c.phones})
            ]
            if not matches:
                raise NoMatchError(f"no contact has {query!r}, so the {noun} is unknown")
        else:
            result = match_names(query, [c.candidate() for c in contacts])
            if not result.matches:
                close = f"; did you mean {', '.join(result.suggestions)}?" if result.suggestions else ""
                raise NoMatchError(f"no contact matches {query!r}{close}")
            matches = [c.item for c in result.matches]
        values = [(c.emails if wanted == "email" else c.phones) for c in matches]
        firsts = {v[0] for v in values if v}
        if len(matches) > 1 and not (len(firsts) == 1 and all(values)):
            labels = _distinct_labels(matches)
            raise AmbiguousMatchError(
                f"{len(matches)} contacts match {query!r}: {', '.join(labels)} — say which", labels
            )
        if not values[0]:
            raise ContactFieldMissingError(f"{matches[0].full_name} has no {noun} in your contacts")
        return values[0][0]


def _distinct_labels(contacts: list[Contact]) -> list[str]:
    names = [c.full_name for c in contacts]
    return [
        f"{c.full_name} <{(c.emails or c.phones or ('?',))[0]}>" if names.count(c.full_name) > 1 else c.full_name
        for c in contacts
    ]


def _file_state(path: Path) -> tuple[Path, int, int]:
    try:
        info = path.stat()
    except OSError:  # vanished since listing: reading it will say so
        return (path, -1, -1)
    return (path, info.st_mtime_ns, info.st_size)


class LocalContacts(ContactBook):
    """Contacts in a directory of vCard files (`$POCKETAGENT_HOME/contacts`)."""

    WRITE_FILE = "pocketagent.vcf"

    def __init__(self, directory: Path, phone_region: str = DEFAULT_PHONE_REGION) -> None:
        self.directory = Path(directory)
        self.phone_region = phone_region
        self._cache_key: tuple[tuple[Path, int, int], ...] = ()
        self._cache: list[Contact] = []
        self._cache_guard = threading.Lock()
        remove_stale_temp_files(self.directory)  # left by a writer killed mid-write

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(
            p
            for p in self.directory.rglob("*")
            if p.suffix.lower() in (".vcf", ".vcard")
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(self.directory).parts)
        )

    def contacts(self) -> list[Contact]:
        """Every contact in every vCard file (re-read only when a file changed)."""
        key = tuple(_file_state(p) for p in self._files())
        with self._cache_guard:
            if key != self._cache_key:
                loaded = []
                for path, _, _ in key:
                    for card in parse_vcards(read_text_any_encoding(read_user_file(path))):
                        contact = Contact.from_vcard(card, path)
                        if contact.full_name:
                            loaded.append(contact)
                self._cache, self._cache_key = loaded, key
            return list(self._cache)

    def add_contact(self, contact: Contact) -> Contact:
        """Append `contact` as a vCard 4.0 card to `pocketagent.vcf` (atomic, locked)."""
        if not contact.full_name.strip():
            raise ToolError("a contact needs a name")
        card = contact.to_vcard()
        path = self.directory / self.WRITE_FILE
        try:
            with locked(self.directory / ".pocketagent"):
                old = read_user_file(path) if path.exists() else b""
                if old and not old.endswith(b"\n"):
                    old += b"\r\n"
                atomic_write_bytes(path, old + serialize_vcards([card]).encode("utf-8"))
        except OSError as exc:
            raise ToolError(f"cannot write {path}: {exc.strerror or exc}") from None
        return Contact.from_vcard(card, path)
