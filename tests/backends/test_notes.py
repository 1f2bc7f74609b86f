"""The Markdown notes vault: create, open (fuzzy, any folder), append, and every bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocketagent.backends.demo_contacts import write_demo_personal_data
from pocketagent.backends.local.matching import AmbiguousMatchError, NoMatchError
from pocketagent.backends.local.notes import LocalNotes, NoteExistsError, NotATextNoteError
from pocketagent.errors import ToolError, UserFileError


@pytest.fixture
def vault(tmp_path: Path) -> LocalNotes:
    return LocalNotes(tmp_path)


@pytest.fixture
def demo(tmp_path: Path) -> LocalNotes:
    write_demo_personal_data(tmp_path, datetime(2026, 11, 23, 10, 0))
    return LocalNotes(tmp_path / "notes")


def test_create_then_open(vault: LocalNotes, tmp_path: Path) -> None:
    assert vault.create_note("Parking spot", "level P3, row G, near the elevator", "") == (
        "Created note 'Parking spot' in folder Notes."
    )
    assert (tmp_path / "Notes" / "Parking spot.md").read_text() == "level P3, row G, near the elevator\n"
    assert vault.open_note("Parking spot", "") == "level P3, row G, near the elevator\n"
    assert vault.open_note("parking spot", "notes") == "level P3, row G, near the elevator\n"


def test_create_in_named_and_nested_folders(vault: LocalNotes, tmp_path: Path) -> None:
    assert vault.create_note("Osaka", "Dotonbori, Kuromon market", "Travel") == "Created note 'Osaka' in folder Travel."
    assert vault.create_note("Q1", "roadmap", "Work/Projects") == "Created note 'Q1' in folder Work/Projects."
    assert vault.create_note("Kyoto", "temples", "travel") == "Created note 'Kyoto' in folder Travel."  # reuses folder
    assert (tmp_path / "Work" / "Projects" / "Q1.md").exists()
    assert vault.open_note("q1", "Work") == "roadmap\n"  # a folder includes its subfolders
    assert vault.open_note("Osaka", "Travl") == "Dotonbori, Kuromon market\n"  # typo in the folder


def test_open_is_fuzzy_and_accent_insensitive(demo: LocalNotes) -> None:
    assert demo.open_note("Kitchen remodel", "").startswith("# Kitchen remodel")
    assert demo.open_note("kitchen remodle", "").startswith("# Kitchen remodel")  # typo
    assert demo.open_note("Hotel confirmation", "").startswith("# Hotel confirmations")
    assert demo.open_note("abuela rosas flan", "").startswith("# Abuela Rosa's flan")
    assert demo.open_note("gate codes", "Notes").startswith("# Gate codes")


def test_same_name_in_two_folders_is_ambiguous(vault: LocalNotes) -> None:
    vault.create_note("Home", "household things", "Household")
    vault.create_note("Home", "homepage redesign", "Work")
    with pytest.raises(AmbiguousMatchError) as caught:
        vault.open_note("Home", "")
    assert str(caught.value) == "2 notes match 'Home': Household/Home, Work/Home — say which (give the folder)"
    assert vault.open_note("Home", "Work") == "homepage redesign\n"


def test_unknown_note_and_folder(demo: LocalNotes) -> None:
    with pytest.raises(NoMatchError, match=r"^no note matches 'Kitchen remodel' in folder Work$"):
        demo.open_note("Kitchen remodel", "Work")
    with pytest.raises(NoMatchError, match=r"^no note matches 'Gate keys'; did you mean Notes/Gate codes\?$"):
        demo.open_note("Gate keys", "")
    with pytest.raises(NoMatchError, match=r"no notes folder matches 'Garage' \(folders: Clients, Household, "):
        demo.open_note("Home", "Garage")


def test_append_adds_a_line_to_the_matched_note(demo: LocalNotes, tmp_path: Path) -> None:
    assert demo.append_note_content("Home", "call plumber re: water heater", "Household") == (
        "Appended to note 'Home' in folder Household."
    )
    assert demo.open_note("Home", "").endswith("- Water heater is making noises\ncall plumber re: water heater\n")
    path = tmp_path / "notes" / "Work" / "Board.md"
    path.write_text("no trailing newline")
    demo.append_note_content("board", "second line", "")
    assert path.read_text() == "no trailing newline\nsecond line\n"


def test_append_to_missing_note_suggests_create_note(demo: LocalNotes, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.md")}
    with pytest.raises(NoMatchError, match=r"no note matches 'Shopping list'.*; use create_note to make a new note"):
        demo.append_note_content("Shopping list", "milk", "")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.md")} == before


@pytest.mark.parametrize(
    ("original", "where"),
    [
        ("# Réunion\n".encode() + "Café à 10 h\n".encode("cp1252"), "byte 0xE9 on line 2"),  # mixed
        ("Réunion\nCafé\n".encode("cp1252"), "byte 0xE9 on line 1"),  # an old Windows export
    ],
    ids=["mixed-encoding", "cp1252"],
)
def test_append_refuses_a_note_that_is_not_utf8(vault: LocalNotes, tmp_path: Path, original: bytes, where: str) -> None:
    """Issue 11: one stray byte made the whole note decode as cp1252 and be written back as 'RÃ©union'."""
    path = tmp_path / "Notes" / "Meeting.md"
    path.parent.mkdir()
    path.write_bytes(original)
    message = rf"Notes/Meeting\.md is not valid UTF-8 \({where}\); re-save it as UTF-8 .*\(left unchanged\)"
    with pytest.raises(UserFileError, match=message):
        vault.append_note_content("Meeting", "bring the slides", "")
    assert path.read_bytes() == original
    assert sorted(p.name for p in path.parent.iterdir()) == ["Meeting.md"]  # no temp file left behind
    assert "bring the slides" not in vault.open_note("Meeting", "")  # reading still works


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_append_keeps_a_utf8_note_byte_for_byte(vault: LocalNotes, tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "Notes" / "Meeting.md"
    path.parent.mkdir()
    original = bom + "# Réunion\r\n- Café à 10 h".encode()
    path.write_bytes(original)
    result = vault.append_note_content("Meeting", "Ordre du jour : budget", "")
    assert result == "Appended to note 'Meeting' in folder Notes."
    assert path.read_bytes() == original + b"\n" + "Ordre du jour : budget\n".encode()
    assert vault.open_note("Meeting", "") == "# Réunion\r\n- Café à 10 h\nOrdre du jour : budget\n"


def test_create_refuses_to_replace_an_existing_note(vault: LocalNotes, tmp_path: Path) -> None:
    vault.create_note("Ideas", "first", "Notes")
    with pytest.raises(NoteExistsError, match="note 'Notes/Ideas' already exists; use append_note_content"):
        vault.create_note("ideas", "second", "")
    assert (tmp_path / "Notes" / "Ideas.md").read_text() == "first\n"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: v.create_note("", "x", ""), "name must not be empty"),
        (lambda v: v.create_note(None, "x", ""), "name must be a string"),
        (lambda v: v.create_note("x", 5, ""), "content must be a string"),
        (lambda v: v.create_note("...", "x", ""), "cannot be used as a file name"),
        (lambda v: v.create_note("x", "y", "../.."), "folder '..' cannot be used"),
        (lambda v: v.open_note("", ""), "name must not be empty"),
        (lambda v: v.open_note("x", 3), "folder must be a string"),
        (lambda v: v.append_note_content("x", "", ""), "content must not be empty"),
    ],
)
def test_bad_input_is_a_clear_error(vault: LocalNotes, call, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        call(vault)


def test_names_with_path_characters_stay_inside_the_vault(vault: LocalNotes, tmp_path: Path) -> None:
    assert vault.create_note("../../etc/passwd", "x", "") == "Created note 'etc-passwd' in folder Notes."
    assert vault.create_note("a/b\\c:d", "x", "Notes") == "Created note 'a-b-c-d' in folder Notes."
    assert all(tmp_path in p.parents for p in tmp_path.rglob("*"))


def test_hidden_folders_and_other_files_are_ignored(vault: LocalNotes, tmp_path: Path) -> None:
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "workspace.md").write_text("internal")
    (tmp_path / "Notes").mkdir()
    (tmp_path / "Notes" / "picture.png").write_bytes(b"\x89PNG")
    (tmp_path / "Top level.md").write_text("at the root")
    assert [n.label for n in vault.notes()] == ["Top level"]
    assert vault.open_note("top level", "") == "at the root"


def test_empty_note_says_so(vault: LocalNotes) -> None:
    vault.create_note("Blank", "", "Notes")
    assert vault.open_note("Blank", "") == "(note 'Notes/Blank' is empty)"


def test_a_binary_note_is_refused_not_shown_as_text(vault: LocalNotes, tmp_path: Path) -> None:
    """Issue 11: a PNG saved as .md came back decoded as Windows-1252, NULs and control characters."""
    (tmp_path / "Notes").mkdir()
    image = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4
    (tmp_path / "Notes" / "Photo.md").write_bytes(image)
    (tmp_path / "Notes" / "Noise.md").write_bytes(b"\x01\x02\x03\x04\x05 \x06\x07\x08")  # no NUL: mostly controls
    for name in ("Photo", "Noise"):
        with pytest.raises(NotATextNoteError, match=rf"{name}\.md is not a text note"):
            vault.open_note(name, "")
    assert (tmp_path / "Notes" / "Photo.md").read_bytes() == image


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b"# Zanzibar ledger\n\nCaf\xe9 au lait: 3\n", "# Zanzibar ledger\n\nCafé au lait: 3\n"),  # legacy cp1252
        (b"old DOS text\r\n\x1a", "old DOS text\r\n\x1a"),  # a stray control character (^Z) is still text
        ("\x1b[1mbold\x1b[0m in a terminal capture\n".encode(), "\x1b[1mbold\x1b[0m in a terminal capture\n"),
    ],
    ids=["cp1252", "dos-eof", "ansi-escapes"],
)
def test_text_notes_with_odd_bytes_still_open(vault: LocalNotes, tmp_path: Path, data: bytes, shown: str) -> None:
    (tmp_path / "Notes").mkdir()
    (tmp_path / "Notes" / "Old.md").write_bytes(data)
    assert vault.open_note("Old", "") == shown


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(
        # Text, so no control characters but tab and newline: a NUL would make the note binary.
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n"),
        min_size=1,
        max_size=200,
    )
)
def test_content_round_trips(tmp_path: Path, content: str) -> None:
    vault = LocalNotes(tmp_path / "vault")
    name = f"n{abs(hash(content))}"
    vault.create_note(name, content, "Notes")
    expected = content if content.endswith("\n") else content + "\n"
    assert vault.open_note(name, "Notes") == (expected if expected.strip() else f"(note 'Notes/{name}' is empty)")


def test_unusable_vault_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "notes"
    blocker.write_text("a file where the vault should be")
    vault = LocalNotes(blocker)
    with pytest.raises(ToolError, match=r"cannot write note 'Idea' under .*notes"):
        vault.create_note("Idea", "text", "")
    with pytest.raises(NoMatchError):
        vault.open_note("Idea", "")
