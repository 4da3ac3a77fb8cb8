"""Contact points: how a citizen is reached. Phones become E.164 (phonenumbers), e-mail is checked."""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from hotline.core.storage.enums import ContactKind


class InvalidContact(ValueError):
    """The value cannot be a contact point of its kind; the message says why."""


def normalise_phone(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact(f"not a valid e-mail address ({exc})") from exc
    # The domain is case-insensitive; the local part is kept as given.
    return f"{result.local_part}@{result.domain.lower()}"


def normalise(kind: str, value: str, region: str = "CN") -> str:
    """The stored form of a contact value, so the same person matches across channels.
    Full-width digits and letters (NFKC) are the ASCII ones."""
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        raise InvalidContact("empty")
    if kind in (ContactKind.PHONE, ContactKind.FAX):
        return normalise_phone(value, region)
    if kind == ContactKind.EMAIL:
        return normalise_email(value)
    if kind not in set(ContactKind):
        raise InvalidContact(f"unknown contact kind {kind!r}")
    if len(value) > 320:
        raise InvalidContact("too long")
    return value


def last_digits(e164: str, n: int = 4) -> str:
    return "".join(ch for ch in e164 if ch.isdigit())[-n:]


def mask(value: str) -> str:
    """A contact as departments see it without the right to call the citizen themselves: an
    e-mail keeps its first letter and domain; a long number hides four digits before its last
    four (+86138****8000, as Chinese services print it); anything else keeps three and two."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) >= 11:
        return f"{value[:-8]}****{value[-4:]}"
    if len(value) <= 5:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 5)}{value[-2:]}"


def mask_name(name: str | None) -> str:
    """张三 -> 张*; Jane Doe -> J*******."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)
