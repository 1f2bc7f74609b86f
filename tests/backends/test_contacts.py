"""vCard reading/writing (property-based round trips) and fuzzy contact lookup on real files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketagent.backends.demo_contacts import write_demo_personal_data
from pocketagent.backends.local.contacts import Contact, ContactFieldMissingError, LocalContacts
from pocketagent.backends.local.matching import AmbiguousMatchError, NoMatchError, normalize_name
from pocketagent.backends.local.vcard import (
    VCard,
    VCardProperty,
    VCardSyntaxError,
    escape_text,
    list_value,
    parse_vcards,
    serialize_property,
    serialize_vcards,
    structured_value,
    unescape_text,
)
from pocketagent.errors import ToolError

# ---------------------------------------------------------------------------------------
# Property-based round trips

# Any text without CR (vCard cannot keep a bare CR; escape_text turns it into a newline).
texts = st.text(alphabet=st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)), max_size=200)
names = st.from_regex(r"[A-Z][A-Z0-9-]{0,12}", fullmatch=True).filter(lambda n: n not in ("BEGIN", "END", "VERSION"))
param_names = st.from_regex(r"[A-Z][A-Z0-9-]{0,8}", fullmatch=True).filter(lambda n: n not in ("ENCODING", "CHARSET"))
groups = st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,6}", fullmatch=True))
param_values = st.text(alphabet=st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)), max_size=30)


@st.composite
def properties(draw: st.DrawFn) -> VCardProperty:
    params = draw(
        st.lists(st.tuples(param_names, st.lists(param_values, min_size=1, max_size=3).map(tuple)), max_size=3)
    )
    return VCardProperty(draw(names), escape_text(draw(texts)), tuple(params), draw(groups))


cards = st.lists(properties(), max_size=8).map(lambda props: VCard([VCardProperty("VERSION", "4.0"), *props]))


@given(texts)
def test_text_escaping_round_trips(text: str) -> None:
    escaped = escape_text(text)
    assert "\n" not in escaped
    assert unescape_text(escaped) == text


@given(st.lists(texts, min_size=1, max_size=6))
def test_structured_values_round_trip(parts: list[str]) -> None:
    assert VCardProperty("N", structured_value(parts)).components() == parts


@given(st.lists(texts.map(str.strip).filter(bool), max_size=6))
def test_list_values_round_trip(items: list[str]) -> None:
    assert VCardProperty("NICKNAME", list_value(items)).list_values() == items


@settings(max_examples=150)
@given(st.lists(cards, min_size=1, max_size=4))
@pytest.mark.slow
def test_cards_round_trip_through_text(documents: list[VCard]) -> None:
    text = serialize_vcards(documents)
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75  # folded per RFC 6350 §3.2
    assert parse_vcards(text) == documents


@given(st.text(max_size=300))
def test_any_text_parses_to_at_most_one_contact_per_begin_with_text_fields(text: str) -> None:
    document = "BEGIN:VCARD\n" + text + "\nEND:VCARD"
    cards = parse_vcards(document)
    contacts = [Contact.from_vcard(card) for card in cards]
    assert len(contacts) <= document.upper().count("BEGIN:VCARD")
    for contact in contacts:  # whatever the text, a contact holds text, never None or bytes
        assert isinstance(contact.full_name, str) and isinstance(contact.given, str) and isinstance(contact.family, str)
        assert all(isinstance(value, str) for value in contact.nicknames + contact.emails + contact.phones)


@given(
    st.builds(
        Contact,
        full_name=texts.map(str.strip).filter(bool),
        given=texts,
        family=texts,
        nicknames=st.lists(texts.map(str.strip).filter(bool), max_size=3).map(tuple),
        emails=st.lists(st.emails(), max_size=3).map(tuple),
        phones=st.lists(st.from_regex(r"\+?[0-9 -]{5,15}", fullmatch=True).map(str.strip).filter(bool), max_size=2).map(
            tuple
        ),
    )
)
def test_contact_round_trips_through_vcard(contact: Contact) -> None:
    (card,) = parse_vcards(serialize_vcards([contact.to_vcard()]))
    back = Contact.from_vcard(card)
    assert back.full_name == contact.full_name.strip()
    assert (back.given, back.family) == (contact.given.strip(), contact.family.strip())
    assert back.nicknames == contact.nicknames
    assert back.emails == contact.emails and back.phones == contact.phones


# ---------------------------------------------------------------------------------------
# Real-world formats


def test_reads_vcard_21_quoted_printable_with_soft_line_breaks() -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Erdo=C4=9Fan;Eren;;;\r\n"
        "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Eren Erdo=C4=9F=\r\nan\r\n"
        "TEL;CELL;PREF:+90 555 010 2030\r\nTEL;HOME:+90 555 010 9999\r\n"
        "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Caf=E9=0D=0Avisit\r\n"
        "EMAIL;INTERNET:eren@example.com\r\nEND:VCARD\r\n"
    )
    (card,) = parse_vcards(text)
    contact = Contact.from_vcard(card)
    assert contact.full_name == "Eren Erdoğan"
    assert (contact.given, contact.family) == ("Eren", "Erdoğan")
    assert contact.phones == ("+90 555 010 2030", "+90 555 010 9999")
    assert card.first("NOTE").text() == "Café\nvisit"
    assert card.first("TEL").types == {"cell", "pref"}


def test_reads_vcard_3_and_4_preferences_folding_groups_and_tabs() -> None:
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:Sam Lee\nN:Lee;Sam;;;\nEMAIL;TYPE=INTERNET:second@example.com\n"
        "EMAIL;TYPE=INTERNET,pref:first@example.com\nitem1.TEL:+1 555 0100\nitem1.X-ABLabel:work\n"
        "NICKNAME:Sammy,The\\, Legend\nNOTE:folded with a\n\ttab continuation\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:4.0\nFN:Sam Ortiz\nEMAIL;PREF=2:b@example.com\nEMAIL;PREF=1:a@example.com\n"
        "TEL;VALUE=uri;TYPE=cell:tel:+1-555-0101\nEND:VCARD\n"
    )
    lee, ortiz = (Contact.from_vcard(c) for c in parse_vcards(text))
    assert lee.emails == ("first@example.com", "second@example.com")
    assert lee.nicknames == ("Sammy", "The, Legend")
    assert lee.phones == ("+1 555 0100",)
    assert parse_vcards(text)[0].first("X-ABLABEL").group == "item1"
    assert parse_vcards(text)[0].first("NOTE").text() == "folded with atab continuation"
    assert ortiz.emails == ("a@example.com", "b@example.com")
    assert ortiz.phones == ("+1-555-0101",)


def test_quoted_parameters_and_rfc6868_escapes() -> None:
    prop = VCardProperty("ADR", "x", (("LABEL", ('Main St; "A", 1\nNY',)),))
    line = serialize_property(prop)
    assert line.startswith("ADR;LABEL=\"Main St; ^'A^', 1^nNY\":")
    (card,) = parse_vcards(f"BEGIN:VCARD\r\n{line}\r\nEND:VCARD\r\n")
    assert card.first("ADR").param("LABEL") == ('Main St; "A", 1\nNY',)


def test_writer_refuses_invalid_property_names() -> None:
    with pytest.raises(VCardSyntaxError):
        serialize_property(VCardProperty("BAD NAME", "x"))


def test_name_falls_back_to_n_org_then_email() -> None:
    text = (
        "BEGIN:VCARD\nN:Brandt;Ottilie;;;\nEND:VCARD\nBEGIN:VCARD\nORG:Acme;Sales\nEND:VCARD\n"
        "BEGIN:VCARD\nEMAIL:only@example.com\nEND:VCARD\nBEGIN:VCARD\nNOTE:nothing\nEND:VCARD\n"
    )
    assert [Contact.from_vcard(c).full_name for c in parse_vcards(text)] == [
        "Ottilie Brandt",
        "Acme",
        "only@example.com",
        "",
    ]


def test_a_card_missing_its_end_does_not_swallow_the_cards_after_it(tmp_path: Path) -> None:
    # Regression: the next BEGIN:VCARD was taken as a nested (vCard 2.1 AGENT) card and dropped.
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Quentin Broken\r\nEMAIL:quentin@example.com\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Wilma Goodcard\r\nEMAIL:wilma@example.com\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ravi Kumar\r\nEMAIL:ravi@example.org\r\nEND:VCARD\r\n"
    )
    parsed = [Contact.from_vcard(c) for c in parse_vcards(text)]
    assert [(c.full_name, c.emails) for c in parsed] == [
        ("Quentin Broken", ("quentin@example.com",)),  # kept with what it has, as at the end of a file
        ("Wilma Goodcard", ("wilma@example.com",)),
        ("Ravi Kumar", ("ravi@example.org",)),
    ]
    (tmp_path / "broken.vcf").write_text(text, encoding="utf-8")
    assert LocalContacts(tmp_path).get_email_address("Wilma Goodcard") == "wilma@example.com"


def test_a_vcard_21_agent_card_is_still_skipped_as_nested() -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Boss;Betty\r\nFN:Betty Boss\r\nAGENT:\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Alfred Assistant\r\nTEL:+1-555-0111\r\nEND:VCARD\r\n"
        "TEL:+1-555-0100\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Carl Next\r\nEND:VCARD\r\n"
    )
    betty, carl = (Contact.from_vcard(c) for c in parse_vcards(text))
    assert (betty.full_name, betty.phones) == ("Betty Boss", ("+1-555-0100",))  # not the agent's number
    assert carl.full_name == "Carl Next"


def test_a_photo_folded_over_many_lines_is_unfolded_whole() -> None:
    # Regression: unfolding copied the whole line per continuation line (quadratic), so a big
    # embedded PHOTO made every lookup time out. 8 MB folded at 75 octets is ~108,000 lines:
    # a tenth of a second when linear, about half a minute when quadratic (no timing asserted).
    photo = "data:image/jpeg;base64," + "QUJD" * 2_000_000
    line = "PHOTO:" + photo
    folded = "\r\n ".join(line[i : i + 74] for i in range(0, len(line), 74))
    text = f"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Pia Photo\r\n{folded}\r\nEMAIL:pia@example.com\r\nEND:VCARD\r\n"
    (card,) = parse_vcards(text)
    assert card.first("PHOTO").value == photo
    assert Contact.from_vcard(card).emails == ("pia@example.com",)


def test_a_long_quoted_printable_value_with_many_soft_breaks_is_joined() -> None:
    value = "=\r\n".join("=41" * 25 for _ in range(20_000))  # "A" × 500,000 over 20,000 lines
    text = f"BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Quinn\r\nNOTE;ENCODING=QUOTED-PRINTABLE:{value}\r\nEND:VCARD\r\n"
    (card,) = parse_vcards(text)
    assert card.first("NOTE").text() == "A" * 500_000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Eren Erdoğan", "eren erdogan"),
        ("Björn", "bjorn"),
        ("Maëlle", "maelle"),
        ("Tío Manuel", "tio manuel"),
        ("Mustafa Aydın", "mustafa aydin"),
        ("Søren Łukasz", "soren lukasz"),
        ("O'Brien", "obrien"),
        ("Wen-Hao", "wen hao"),
        ("  ÉCOLE  ", "ecole"),
        ("Straße", "strasse"),
    ],
)
def test_normalize_name_is_accent_and_case_insensitive(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


# ---------------------------------------------------------------------------------------
# Lookup on a real directory


@pytest.fixture
def book(tmp_path: Path) -> LocalContacts:
    write_demo_personal_data(tmp_path, datetime(2026, 11, 23, 10, 0))
    return LocalContacts(tmp_path / "contacts")


@pytest.mark.parametrize(
    ("query", "email"),
    [
        ("Eren Erdoğan", "eren.erdogan@example.com"),
        ("Eren Erdogan", "eren.erdogan@example.com"),  # accents
        ("eren", "eren.erdogan@example.com"),  # first name only
        ("Erdogan", "eren.erdogan@example.com"),  # last name only
        ("Erin Erdogan", "eren.erdogan@example.com"),  # typo
        ("Bjoern", "bjorn@example.org"),  # German transliteration
        ("Maelle", "maelle.durand@example.net"),
        ("Tío Manuel", "manuel.ortega@example.com"),  # nickname
        ("tio manuel", "manuel.ortega@example.com"),
        ("Abuela Rosa", "rosa.martinez@example.com"),
        ("Mom", "maria.alves@example.com"),
        ("Professor Okonkwo", "a.okonkwo@example.org"),  # honorific + last name
        ("Katya", "ekaterina.volkova@example.com"),
        ("Wenhao", "wenhao.chen@example.com"),
        ("Ilona", "ilona.kovacs@example.com"),  # from the vCard 3 file, TYPE=pref first
        ("Sam L", "sam.lee@example.com"),  # an initial disambiguates
        ("sam.ortiz@example.org", "sam.ortiz@example.org"),  # literal address
    ],
)
def test_get_email_address_finds_the_right_person(book: LocalContacts, query: str, email: str) -> None:
    assert book.get_email_address(query) == email


def test_get_phone_number(book: LocalContacts) -> None:
    assert book.get_phone_number("Björn") == "+1-415-555-0102"
    assert book.get_phone_number("Ottilie Brandt") == "+44 20 7946 0116"
    assert book.get_phone_number("+1 (415) 555-0199") == "+1 (415) 555-0199"
    assert book.get_phone_number("bjorn@example.org") == "+1-415-555-0102"  # address → that person's phone


def test_ambiguous_name_lists_the_choices(book: LocalContacts) -> None:
    with pytest.raises(AmbiguousMatchError) as caught:
        book.get_email_address("Sam")
    assert str(caught.value) == "2 contacts match 'Sam': Sam Lee, Sam Ortiz — say which"
    assert caught.value.choices == ["Sam Lee", "Sam Ortiz"]


def test_unknown_name_suggests_close_names(book: LocalContacts) -> None:
    with pytest.raises(NoMatchError, match=r"no contact matches 'Kat Volk'; did you mean Ekaterina Volkova\?"):
        book.get_email_address("Kat Volk")
    with pytest.raises(NoMatchError, match=r"^no contact matches 'Zzyzx'$"):
        book.get_phone_number("Zzyzx")


def test_contact_without_the_field_is_a_clear_error(book: LocalContacts) -> None:
    with pytest.raises(ContactFieldMissingError, match="Adaeze Okonkwo has no phone number in your contacts"):
        book.get_phone_number("Adaeze Okonkwo")


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_empty_or_non_text_name_is_rejected(book: LocalContacts, bad: object) -> None:
    with pytest.raises(ToolError, match="give the name"):
        book.get_email_address(bad)  # type: ignore[arg-type]


def test_duplicates_with_the_same_answer_are_not_ambiguous(tmp_path: Path) -> None:
    card = "BEGIN:VCARD\nVERSION:3.0\nFN:Nadia Haddad\nEMAIL:nadia@example.com\nEND:VCARD\n"
    (tmp_path / "phone-export.vcf").write_text(card)
    (tmp_path / "laptop-export.vcf").write_text(card.replace("3.0", "4.0"))
    book = LocalContacts(tmp_path)
    assert book.get_email_address("Nadia") == "nadia@example.com"
    (tmp_path / "other.vcf").write_text(card.replace("nadia@", "n.haddad@"))
    with pytest.raises(AmbiguousMatchError, match=r"3 contacts match 'Nadia': Nadia Haddad <"):
        book.get_email_address("Nadia")  # the cache notices the new file


def test_reads_every_vcard_file_and_odd_encodings(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.VCF").write_bytes(
        "BEGIN:VCARD\r\nFN:Cem Özdemir\r\nTEL:0100\r\nEND:VCARD\r\n".encode("cp1252")
    )
    (tmp_path / "bom.vcf").write_bytes(
        "\ufeffBEGIN:VCARD\nFN:Aylin Çelik\nEMAIL:aylin@example.com\nEND:VCARD\n".encode("utf-8")
    )
    (tmp_path / ".hidden.vcf").write_text("BEGIN:VCARD\nFN:Ghost\nEMAIL:g@example.com\nEND:VCARD\n")
    (tmp_path / "notes.txt").write_text("BEGIN:VCARD\nFN:Not A Card File\nEND:VCARD\n")
    book = LocalContacts(tmp_path)
    assert sorted(c.full_name for c in book.contacts()) == ["Aylin Çelik", "Cem Özdemir"]
    assert book.get_phone_number("Cem Ozdemir") == "0100"
    assert book.get_email_address("aylin celik") == "aylin@example.com"


def test_missing_directory_means_no_contacts(tmp_path: Path) -> None:
    book = LocalContacts(tmp_path / "nope")
    assert book.contacts() == []
    with pytest.raises(NoMatchError):
        book.get_email_address("Anyone")


def test_add_contact_appends_a_vcard4_card_and_keeps_existing_bytes(tmp_path: Path) -> None:
    book = LocalContacts(tmp_path)
    first = book.add_contact(Contact("Björn Lindqvist", "Björn", "Lindqvist", ("Bear",), ("bjorn@example.org",)))
    before = (tmp_path / LocalContacts.WRITE_FILE).read_bytes()
    book.add_contact(Contact("Maëlle Durand", emails=("maelle@example.net",), phones=("+33 1 00 00 00 00",)))
    after = (tmp_path / LocalContacts.WRITE_FILE).read_bytes()
    assert after.startswith(before)
    assert b"VERSION:4.0" in after and first.uid.startswith("urn:uuid:")
    assert book.get_email_address("bear") == "bjorn@example.org"
    assert book.get_phone_number("maelle") == "+33 1 00 00 00 00"
    with pytest.raises(ToolError, match="needs a name"):
        book.add_contact(Contact("  "))


# Every name the hand-written eval set (data/handwritten-dev.jsonl) looks up.
EVAL_NAMES = [
    "Tío Manuel",
    "Cosmin",
    "Abuela Rosa",
    "Zeynep",
    "Yusuf",
    "Wen-Hao",
    "Thuy",
    "Teodora",
    "Sunita",
    "Rosalind",
    "Ravi",
    "Paloma",
    "Ottilie",
    "Nadia",
    "Mustafa",
    "Maëlle",
    "Matías",
    "Lorcan",
    "Leonie",
    "Kaveh",
    "Kalinda",
    "Kalani",
    "Ilse",
    "Ilona",
    "Hyun",
    "Greer",
    "Esteban",
    "Ekaterina",
    "Deniz",
    "Cem",
    "Bram",
    "Björn",
    "Aylin",
    "Aditya",
]


def test_demo_workspace_answers_every_eval_lookup(book: LocalContacts) -> None:
    emails = {name: book.get_email_address(name) for name in EVAL_NAMES}
    phones = {name: book.get_phone_number(name) for name in EVAL_NAMES}
    assert len(set(emails.values())) == len(EVAL_NAMES) and len(set(phones.values())) == len(EVAL_NAMES)
    assert 30 <= len(book.contacts()) <= 45


def test_demo_never_overwrites_existing_files(tmp_path: Path) -> None:
    (tmp_path / "contacts").mkdir()
    (tmp_path / "contacts" / "demo.vcf").write_text("BEGIN:VCARD\nFN:Mine\nEND:VCARD\n")
    written = write_demo_personal_data(tmp_path, datetime(2026, 11, 23, 10, 0))
    assert tmp_path / "contacts" / "demo.vcf" not in written
    assert (tmp_path / "contacts" / "demo.vcf").read_text() == "BEGIN:VCARD\nFN:Mine\nEND:VCARD\n"
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert write_demo_personal_data(tmp_path, datetime(2026, 11, 23, 10, 0)) == []
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_directories_and_dangling_links_named_vcf_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.vcf").mkdir()  # a directory named like a card file is skipped
    (tmp_path / "ok.vcf").write_text("BEGIN:VCARD\nFN:Ravi Kumar\nEMAIL:ravi@example.org\nEND:VCARD\n")
    assert LocalContacts(tmp_path).get_email_address("Ravi") == "ravi@example.org"
    (tmp_path / "dangling.vcf").symlink_to(tmp_path / "gone.vcf")
    assert LocalContacts(tmp_path).get_email_address("Ravi") == "ravi@example.org"  # not a file: skipped
