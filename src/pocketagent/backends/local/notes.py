"""Notes as Markdown files in folders: `$POCKETAGENT_HOME/notes/<folder>/<name>.md`.

Any Markdown vault works (Obsidian-style): every `*.md` file under the notes directory is
a note, named by its file stem, in the folder given by its parent path (nested folders
are written `Work/Projects`; a note at the top has folder ""). Hidden files and folders
(`.obsidian`, `.trash`) are ignored.

- `create_note` writes a new file (folder "" → "Notes"); it refuses to replace an existing
  note and points to `append_note_content` instead.
- `open_note` / `append_note_content` find the note by fuzzy, accent-insensitive name, in
  the named folder (also fuzzy) or, with folder "", in every folder. Several equally good
  matches are an error listing them as `folder/name`.
- Appending to a note that does not exist is an error suggesting `create_note` (TinyAgent's
  macOS tool also only appends to existing notes); it never creates one silently.
- A `.md` file that holds binary data (an image saved under that name) is not shown as
  text: `open_note` refuses it (`NotATextNoteError`, naming the file).

Writes are atomic and serialized by one lock for the whole vault (`.pocketagent.lock`).
Appending adds bytes after the note's existing bytes, which are never decoded and
re-encoded; a note that is not valid UTF-8 is refused (`UserFileError`, left unchanged),
since UTF-8 text added to it could not be read back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pocketagent.atomic import atomic_write_bytes, atomic_write_text, locked, remove_stale_temp_files
from pocketagent.backends.local.matching import (
    Candidate,
    NoMatchError,
    match_names,
    pick_one,
    read_text_any_encoding,
    read_user_file,
    utf8_for_rewrite,
)
from pocketagent.errors import ToolError
from pocketagent.text import normalize_name
from pocketagent.tools.protocols import NotesApp

DEFAULT_FOLDER = "Notes"
NOTE_SUFFIX = ".md"
_MAX_NAME = 120


class NoteExistsError(ToolError):
    """create_note for a name that already has a note in that folder."""


class NotATextNoteError(ToolError):
    """open_note on a note file that holds binary data (a PNG saved as .md), not text."""


# Control characters, which text does not hold (tab, newline, carriage return and form feed
# excepted): C0, DEL and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# The share of control characters above which a file is binary, as in Perl's -B file test.
# A text note has next to none (a stray ^Z or escape sequence); a binary file nearly always
# also has NUL bytes, caught before this.
_MAX_CONTROL_SHARE = 0.3


def _is_binary(data: bytes, text: str) -> bool:
    """Whether a note file's bytes are binary data rather than text; `text` is their decoding.

    Text in UTF-8 or Windows-1252, the encodings notes are read in, has no NUL byte (git and
    grep use the same test). Failing that, a file of mostly control characters is binary too.
    """
    if b"\x00" in data:
        return True
    return len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text)


@dataclass(frozen=True)
class NoteRef:
    """A note file: `folder` is its parent path relative to the vault ("" at the top)."""

    folder: str
    name: str
    path: Path

    @property
    def label(self) -> str:
        return f"{self.folder}/{self.name}" if self.folder else self.name


def _safe_part(text: str, kind: str) -> str:
    # One path component: no separators, no control characters, no hidden/relative names.
    cleaned = re.sub(r"[/\\:\x00-\x1f\x7f]+", "-", " ".join(text.split())).strip(" -")
    cleaned = cleaned.lstrip(" .-").rstrip(" .")
    if not cleaned:
        raise ToolError(f"{kind} {text!r} cannot be used as a file name; use plain words")
    return cleaned[:_MAX_NAME].rstrip()


def _text_arg(value: object, field_name: str, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ToolError(f"{field_name} must be a string, got {value!r}")
    if required and not value.strip():
        raise ToolError(f"{field_name} must not be empty")
    return value


class LocalNotes(NotesApp):
    """`create_note`, `open_note`, `append_note_content` on a directory of Markdown files."""

    def __init__(self, directory: Path, default_folder: str = DEFAULT_FOLDER) -> None:
        self.directory = Path(directory)
        self.default_folder = default_folder
        remove_stale_temp_files(self.directory, recursive=True)  # left by a writer killed mid-write

    # -- reading -------------------------------------------------------------------------

    def notes(self) -> list[NoteRef]:
        """Every note in the vault, sorted by folder then name."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.rglob(f"*{NOTE_SUFFIX}"):
            relative = path.relative_to(self.directory)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            folder = "" if relative.parent == Path(".") else relative.parent.as_posix()
            found.append(NoteRef(folder, path.stem, path))
        return sorted(found, key=lambda n: (n.folder.lower(), n.name.lower()))

    def folders(self) -> list[str]:
        """Existing folders (relative paths), including empty ones."""
        if not self.directory.is_dir():
            return []
        return sorted(
            p.relative_to(self.directory).as_posix()
            for p in self.directory.rglob("*")
            if p.is_dir() and not any(x.startswith(".") for x in p.relative_to(self.directory).parts)
        )

    def _match_folder(self, folder: str) -> str:
        folders = self.folders()
        wanted = folder.strip().strip("/")
        exact = [f for f in folders if normalize_name(f) == normalize_name(wanted)]
        if exact:
            return exact[0]
        found = match_names(wanted, [Candidate(f, f, (f, f.rsplit("/", 1)[-1])) for f in folders])
        if len(found.matches) == 1:
            return found.matches[0].item
        if found.matches:
            labels = ", ".join(c.label for c in found.matches)
            raise ToolError(f"{len(found.matches)} folders match {folder!r}: {labels} — say which")
        shown = ", ".join(folders) or "none yet"
        raise NoMatchError(f"no notes folder matches {folder!r} (folders: {shown})")

    def find_note(self, name: object, folder: object) -> NoteRef:
        """The note called `name` in `folder` ("" = any folder); `NoMatchError`/`AmbiguousMatchError` otherwise."""
        wanted = _text_arg(name, "name", required=True).strip()
        where = _text_arg(folder, "folder", required=False).strip()
        notes = self.notes()
        scope = ""
        if where:
            scope = self._match_folder(where)
            notes = [n for n in notes if n.folder == scope or n.folder.startswith(scope + "/")]
        candidates = [Candidate(n, n.label, (n.name,)) for n in notes]
        if candidates and match_names(wanted, candidates).matches:
            return pick_one(wanted, candidates, "note", hint="say which (give the folder)").item
        suggestions = match_names(wanted, candidates).suggestions
        place = f" in folder {scope}" if scope else ""
        close = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        raise NoMatchError(f"no note matches {wanted!r}{place}{close}")

    def open_note(self, name: str, folder: str) -> str:
        """The note's text (Markdown as stored); `NotATextNoteError` naming the file when it is binary."""
        note = self.find_note(name, folder)
        data = read_user_file(note.path)
        content = read_text_any_encoding(data)
        # The Windows-1252 fallback decodes any bytes at all, so an image saved as .md would
        # otherwise come back as the note's "text": NULs, control characters and U+FFFD.
        if _is_binary(data, content):
            raise NotATextNoteError(
                f"{note.path} is not a text note: it holds binary data (NUL or control bytes), not text"
            )
        return content if content.strip() else f"(note '{note.label}' is empty)"

    # -- writing -------------------------------------------------------------------------

    def create_note(self, name: str, content: str, folder: str) -> str:
        """Write a new note `<folder>/<name>.md`; an existing one is never replaced."""
        title = _safe_part(_text_arg(name, "name", required=True), "note name")
        text = _text_arg(content, "content", required=False)
        requested = _text_arg(folder, "folder", required=False).strip().strip("/") or self.default_folder
        try:
            return self._create_locked(title, text, requested)
        except OSError as exc:
            raise ToolError(f"cannot write note {title!r} under {self.directory}: {exc.strerror or exc}") from None

    def _create_locked(self, title: str, text: str, requested: str) -> str:
        with locked(self.directory / ".pocketagent"):
            target_folder = self._folder_for_create(requested)
            for note in self.notes():
                if note.folder == target_folder and note.name.casefold() == title.casefold():
                    raise NoteExistsError(f"note '{note.label}' already exists; use append_note_content to add to it")
            path = self.directory / target_folder / f"{title}{NOTE_SUFFIX}"
            atomic_write_text(path, text if not text or text.endswith("\n") else text + "\n")
        return f"Created note '{title}' in folder {target_folder}."

    def _folder_for_create(self, requested: str) -> str:
        # Reuse an existing folder spelled differently ("notes" → "Notes"); else make the new path.
        for existing in self.folders():
            if normalize_name(existing) == normalize_name(requested) and existing.count("/") == requested.count("/"):
                return existing
        return "/".join(_safe_part(part, "folder") for part in requested.split("/") if part.strip())

    def append_note_content(self, name: str, content: str, folder: str) -> str:
        """Add `content` on a new line at the end of an existing note; its old bytes are kept as they are.

        A note that is not valid UTF-8 is a `UserFileError` naming the file (left unchanged).
        """
        addition = _text_arg(content, "content", required=True)
        try:
            return self._append_locked(name, addition, folder)
        except OSError as exc:
            raise ToolError(f"cannot write note {name!r} under {self.directory}: {exc.strerror or exc}") from None

    def _append_locked(self, name: str, addition: str, folder: str) -> str:
        with locked(self.directory / ".pocketagent"):
            try:
                note = self.find_note(name, folder)
            except NoMatchError as exc:
                raise NoMatchError(f"{exc}; use create_note to make a new note") from None
            old = read_user_file(note.path)
            # Validation only: the old bytes are written back untouched (a BOM included), so
            # nothing in them is re-encoded; a file that is not UTF-8 would end up mixed.
            bom, _ = utf8_for_rewrite(old, note.path)
            separator = b"\n" if old[bom:] and not old.endswith(b"\n") else b""
            tail = "" if addition.endswith("\n") else "\n"
            atomic_write_bytes(note.path, old + separator + (addition + tail).encode("utf-8"))
        where = f" in folder {note.folder}" if note.folder else ""
        return f"Appended to note '{note.name}'{where}."
