"""Phone numbers: the one recogniser (pocketagent.phones) and number matching where tools compare them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketagent.backends.addresses import normalize_phone_number, normalize_phone_numbers
from pocketagent.backends.local.contacts import LocalContacts
from pocketagent.backends.local.matching import NoMatchError
from pocketagent.errors import ToolError
from pocketagent.phones import looks_like_phone_number, phone_key, same_phone_number

CARD = """BEGIN:VCARD
VERSION:4.0
FN:Dana Whitfield
EMAIL:dana@example.org
TEL;TYPE=cell:(415) 555-0101
END:VCARD
BEGIN:VCARD
VERSION:4.0
FN:Oliver Twist
EMAIL:oliver@example.co.uk
TEL:+44 20 7946 0958
END:VCARD
"""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("+1 415 555 0101", "(415) 555-0101"),
        ("415.555.0101", "1-415-555-0101"),
        ("+1 (415) 555-0101", "4155550101"),
        ("+44 20 7946 0958", "+44 (0)20 7946 0958"),
    ],
)
def test_the_same_number_written_differently_is_the_same_number(a: str, b: str) -> None:
    assert same_phone_number(a, b)
    assert phone_key(a) == phone_key(b) == phone_key(b).strip()


def test_different_numbers_and_regions_differ() -> None:
    assert not same_phone_number("(415) 555-0101", "(415) 555-0102")
    assert not same_phone_number("020 7946 0958", "+44 20 7946 0958")  # read as a US number by default
    assert same_phone_number("020 7946 0958", "+44 20 7946 0958", region="GB")


def test_numbers_phonenumbers_cannot_parse_fall_back_to_their_digits() -> None:
    assert phone_key("911") == "911"
    assert phone_key("1-2") == "12"
    assert same_phone_number("0-1-0-0", "0100")


@pytest.mark.parametrize(
    "text", ["+1 (415) 555-0199", "112", "0100", "+44 20 7946 0116", "415.555.0101", "020/7946-0958", " 5550100 "]
)
def test_recognises_what_both_former_recognisers_accepted(text: str) -> None:
    assert looks_like_phone_number(text)
    assert normalize_phone_number(text) == text.strip()


@pytest.mark.parametrize("text", ["Sid", "12", "1234567890123456", "+1 415 CALL NOW", "Eren Erdoğan", "", "   "])
def test_refuses_names_words_and_wrong_digit_counts(text: str) -> None:
    assert not looks_like_phone_number(text)


def test_a_bare_name_for_a_number_says_to_look_the_person_up() -> None:
    with pytest.raises(ToolError, match="look the person up with get_phone_number"):
        normalize_phone_number("Sid")
    with pytest.raises(ToolError, match=r"16 digits; expected 3-15"):
        normalize_phone_number("1234567890123456")


@given(st.text(max_size=40))
def test_the_recogniser_and_the_key_never_raise(text: str) -> None:
    key = phone_key(text)
    assert key.lstrip("+").isdigit() or key == "".join(ch for ch in text if ch.isdigit())
    assert looks_like_phone_number(text) in (True, False)


def test_sms_recipients_written_twice_differently_are_sent_once() -> None:
    assert normalize_phone_numbers(["+1 415 555 0101", "(415) 555-0101", "+44 20 7946 0958"]) == [
        "+1 415 555 0101",
        "+44 20 7946 0958",
    ]


@pytest.fixture
def book(tmp_path: Path) -> LocalContacts:
    (tmp_path / "people.vcf").write_text(CARD, encoding="utf-8")
    return LocalContacts(tmp_path)


def test_a_number_leads_to_the_contact_however_it_is_written(book: LocalContacts) -> None:
    assert book.get_email_address("+1 415 555 0101") == "dana@example.org"
    assert book.get_email_address("415.555.0101") == "dana@example.org"
    assert book.get_email_address("+44 20 7946 0958") == "oliver@example.co.uk"
    assert book.get_phone_number("+1 415 555 0101") == "+1 415 555 0101"  # a number is returned as is


def test_a_number_no_contact_has_is_a_clear_error(book: LocalContacts) -> None:
    with pytest.raises(NoMatchError, match="no contact has '\\+1 415 555 0199'"):
        book.get_email_address("+1 415 555 0199")


def test_the_phone_region_reads_national_numbers(tmp_path: Path) -> None:
    (tmp_path / "people.vcf").write_text(CARD, encoding="utf-8")
    assert LocalContacts(tmp_path, phone_region="GB").get_email_address("020 7946 0958") == "oliver@example.co.uk"
    with pytest.raises(NoMatchError):
        LocalContacts(tmp_path).get_email_address("020 7946 0958")
