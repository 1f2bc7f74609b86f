"""Checking the email addresses and phone numbers that tools receive from a plan.

A plan should look people up (`get_email_address`, `get_phone_number`) before writing to
them. When the model skips that and passes a bare name ("Sid"), the error says so, which
lets the joiner replan with the lookup.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.utils import formataddr, getaddresses

from pocketagent.errors import ToolError
from pocketagent.phones import (
    DEFAULT_PHONE_REGION,
    MAX_PHONE_DIGITS,
    MIN_PHONE_DIGITS,
    has_phone_characters,
    phone_digit_count,
    phone_key,
)

# Deliberately simple: one @, a dotted domain, no spaces. Full RFC 5322 grammar would
# accept strings no mail server delivers to.
_DOMAIN_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"  # letters/digits (any script), inner hyphens
_ADDR_SPEC = re.compile(rf"^[^@\s<>(),;:\"\[\]]+@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+$")


def parse_email_address(value: object, field: str = "recipient") -> Address:
    """One address ("a@b.org" or "Name <a@b.org>") as an `Address`; ToolError otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ToolError(f"empty {field} email address")
    text = value.strip()
    if "\n" in text or "\r" in text:
        raise ToolError(f"{field} email address {text!r} contains a line break")
    parsed = getaddresses([text])
    if len(parsed) != 1 or not _ADDR_SPEC.match(parsed[0][1] or ""):
        if "@" not in text:
            raise ToolError(f"{text!r} is not an email address; look the person up with get_email_address first")
        raise ToolError(f"{text!r} is not a valid email address")
    display_name, addr_spec = parsed[0]
    username, domain = addr_spec.rsplit("@", 1)
    return Address(display_name=display_name.strip(), username=username, domain=domain)


def parse_email_addresses(values: object, field: str = "recipient", required: bool = True) -> list[Address]:
    """A list of addresses (duplicates dropped, order kept); ToolError for a bad or missing one."""
    if values is None or values == "":
        values = []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        raise ToolError(f"{field}s must be a list of email addresses, got {type(values).__name__}")
    addresses: list[Address] = []
    seen: set[str] = set()
    for value in values:
        for piece in _split_address_list(value):
            address = parse_email_address(piece, field)
            if address.addr_spec.lower() not in seen:
                seen.add(address.addr_spec.lower())
                addresses.append(address)
    if required and not addresses:
        raise ToolError(f"at least one {field} email address is needed")
    return addresses


def _split_address_list(value: object) -> list[object]:
    # A model sometimes writes several addresses in one string ("a@x.org, b@y.org").
    if isinstance(value, str) and ("," in value or ";" in value) and value.count("@") > 1:
        pieces = getaddresses([value.replace(";", ",")])
        return [formataddr(piece) if piece[0] else piece[1] for piece in pieces if piece[1]]
    return [value]


def normalize_phone_number(value: object) -> str:
    """A phone number as written, trimmed, if it looks like one; ToolError otherwise.

    Formatting is kept (the user's contacts are written that way and SMS gateways accept
    it); only the characters and the digit count are checked.
    """
    if not isinstance(value, str) or not value.strip():
        raise ToolError("empty phone number")
    text = value.strip()
    if not has_phone_characters(text):
        if not any(ch.isdigit() for ch in text):
            raise ToolError(f"{text!r} is not a phone number; look the person up with get_phone_number first")
        raise ToolError(f"{text!r} is not a valid phone number")
    digits = phone_digit_count(text)
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        raise ToolError(
            f"{text!r} is not a valid phone number ({digits} digits; expected {MIN_PHONE_DIGITS}-{MAX_PHONE_DIGITS})"
        )
    return text


def normalize_phone_numbers(values: object, region: str = DEFAULT_PHONE_REGION) -> list[str]:
    """A non-empty list of phone numbers, duplicates (the same number however written) dropped."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values:
        raise ToolError("at least one recipient phone number is needed")
    numbers: list[str] = []
    seen: set[str] = set()
    for value in values:
        number = normalize_phone_number(value)
        key = phone_key(number, region)
        if key not in seen:
            seen.add(key)
            numbers.append(number)
    return numbers
