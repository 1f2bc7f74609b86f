"""Phone numbers: the one recogniser and the one comparison form, for every layer.

A plan's literal number, a vCard TEL and an SMS recipient are written many ways
("+1 415 555 0101", "(415) 555-0101", "415.555.0101"); `phone_key` turns each into E.164
with `phonenumbers` so they compare equal, and falls back to the bare digits when the
library cannot parse a number (short codes, partial numbers).
"""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_PHONE_REGION = "US"  # region of numbers written without a country code
MIN_PHONE_DIGITS = 3  # short codes and emergency numbers
MAX_PHONE_DIGITS = 15  # E.164
# Characters people write numbers with; letters (vanity numbers) are deliberately refused.
_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-/]+$")


def phone_digit_count(text: str) -> int:
    """How many digits `text` has."""
    return sum(ch.isdigit() for ch in text)


def has_phone_characters(text: str) -> bool:
    """Whether `text` is made only of digits and the punctuation numbers are written with."""
    return bool(_PHONE_CHARS.match(text.strip()))


def looks_like_phone_number(text: str) -> bool:
    """Whether `text` is written like a phone number: phone characters, 3-15 digits."""
    stripped = text.strip()
    return has_phone_characters(stripped) and MIN_PHONE_DIGITS <= phone_digit_count(stripped) <= MAX_PHONE_DIGITS


def phone_key(text: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """The comparison form of a number: E.164 ("+14155550101") when `phonenumbers` can parse
    it (numbers without a country code are read as `region`'s), else its digits."""
    try:
        parsed = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return "".join(ch for ch in text if ch.isdigit())


def same_phone_number(a: str, b: str, region: str = DEFAULT_PHONE_REGION) -> bool:
    """Whether two written numbers are the same number ("+1 415 555 0101" == "(415) 555-0101")."""
    return phone_key(a, region) == phone_key(b, region)
