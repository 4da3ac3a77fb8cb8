"""Finding a case by its tracking number, as citizens, channels and the API do.

The number alone never opens personal data: these return the case row for the caller to show
its public parts, or the public timeline only.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.cases import tracking
from hotline.core.cases.contacts import last_digits
from hotline.core.foundation import text
from hotline.core.people import attempts, delays
from hotline.core.people.delays import Delay
from hotline.core.storage.db import Database
from hotline.core.storage.enums import CaseStatus, ContactKind
from hotline.core.storage.models.cases import Case, CaseEvent, Citizen, ContactPoint


def _find(session: Session, number: str) -> Case | None:
    return session.scalar(select(Case).where(Case.tracking_number == number))


def _timeline(session: Session, number: str) -> tuple[Case, list[CaseEvent]] | None:
    case = _find(session, number)
    if case is None:
        return None
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.public.is_(True))
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    return case, list(events)


async def find_case(db: Database, number: str) -> Case | None:
    """The case with this tracking number (spaces and dashes allowed), or None."""
    number = tracking.clean(number)
    if not tracking.is_valid(number):
        return None
    return await db.run(lambda session: _find(session, number), write=False)


async def public_timeline(db: Database, number: str) -> tuple[Case, list[CaseEvent]] | None:
    """The case and its public events, oldest first, in one read; None for an unknown number."""
    number = tracking.clean(number)
    if not tracking.is_valid(number):
        return None
    return await db.run(lambda session: _timeline(session, number), write=False)


# --- the second factor ------------------------------------------------------------------------

FAILURE_WINDOW = timedelta(hours=24)  # a case's wrong tries count this long
ADDRESS_WINDOW = timedelta(hours=1)
MAX_FAILURES_PER_NUMBER = 5  # free tries on a case before the growing delay
MAX_FAILURES_PER_ADDRESS = 20  # per hour: then that address is refused outright


@dataclass(frozen=True)
class LookupLimits:
    """How guessing is slowed: ``delay`` per case (growing, never a lockout), and a hard
    limit of wrong tries per address per hour. Settings: ``HOTLINE_LOOKUP_*``."""

    delay: Delay = field(default_factory=lambda: Delay(free=MAX_FAILURES_PER_NUMBER))
    per_address: int = MAX_FAILURES_PER_ADDRESS

    @classmethod
    def from_settings(cls, settings: Any) -> LookupLimits:
        return cls(
            Delay(
                free=settings.lookup_free_attempts,
                base_seconds=settings.lookup_delay_seconds,
                cap_seconds=settings.lookup_max_delay_seconds,
            ),
            settings.lookup_failures_per_address,
        )


class LookupRefused(Exception):
    """``code`` is ``no_match`` (wrong number or factor: the same answer for both, so it tells a
    guesser nothing), ``wait`` (this case had wrong tries: ``wait_seconds`` before the next),
    ``too_many_attempts`` (this address guessed too often) or ``name_needed`` (the last four
    digits of a phone open a case only with a second fact: the name or whole phone number)."""

    def __init__(self, code: str, wait_seconds: int = 0) -> None:
        self.code = code
        self.wait_seconds = wait_seconds
        super().__init__(code)


def lookup_code(secret: str, number: str) -> str:
    """Six digits only the citizen is given (on the receipt page and in the acknowledgement).
    Derived from the site's secret key, so it is never stored; keypad-friendly for the phone."""
    digest = hmac.new(secret.encode(), f"lookup:{number}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def _same_name(given: str, stored: str | None) -> bool:
    def norm(value: str) -> str:
        return "".join(text.nfkc(value).casefold().split())

    left, right = norm(given).encode(), norm(stored or "").encode()
    return bool(stored) and bool(left) and hmac.compare_digest(left, right)


def _factor_matches(
    session: Session, secret: str, case: Case, factor: str, second: str | None
) -> bool:
    """The lookup code; or the last four digits of one of the citizen's phones together with
    a second fact: the citizen's name as given, or one of their phone numbers in full."""
    if len(factor) == 6 and hmac.compare_digest(factor, lookup_code(secret, case.tracking_number)):
        return True
    if len(factor) == 4 and factor.isdigit() and case.citizen_id is not None and second:
        phones = list(
            session.scalars(
                select(ContactPoint.value).where(
                    ContactPoint.citizen_id == case.citizen_id,
                    ContactPoint.kind.in_([ContactKind.PHONE, ContactKind.FAX]),
                )
            )
        )
        if not any(hmac.compare_digest(last_digits(p), factor) for p in phones):
            return False
        citizen = session.get(Citizen, case.citizen_id)
        whole = text.code(second).lstrip("+")
        return _same_name(second, citizen.name if citizen else None) or any(
            len(whole) >= 7 and p.lstrip("+").endswith(whole) for p in phones
        )
    return False


def _verify(
    session: Session,
    secret: str,
    number: str,
    factor: str,
    address: str,
    second: str | None,
    limits: LookupLimits,
) -> tuple[Case, list[CaseEvent]] | LookupRefused:
    """The case and timeline, or the refusal (the unit commits the failures first)."""
    by_address = f"a:{address[:70]}"
    if delays.count_since(session, by_address, ADDRESS_WINDOW) >= limits.per_address:
        return LookupRefused("too_many_attempts")
    valid = tracking.is_valid(number)
    keys = [by_address] + ([f"n:{number}"] if valid else [])
    if valid:
        wait = delays.wait_seconds(session, f"n:{number}", limits.delay, FAILURE_WINDOW)
        if wait:
            return LookupRefused("wait", wait)
    found = _timeline(session, number) if valid else None
    if found is None or not _factor_matches(session, secret, found[0], factor, second):
        attempts.record(session, keys)
        return LookupRefused("no_match")
    return found


async def verified_timeline(
    ctx_db: Database,
    secret: str,
    number: str,
    factor: str,
    address: str,
    *,
    second: str | None = None,
    limits: LookupLimits | None = None,
) -> tuple[Case, list[CaseEvent]]:
    """The case and its public timeline when ``factor`` (the lookup code, or the last four digits
    of a phone number the citizen gave, with ``second``: their name or a whole phone number)
    fits ``number``. Wrong tries slow the case down (growing delays) and are limited per
    address. Codes and numbers typed in full-width digits are read as ASCII (NFKC); what is
    not text is refused as no match, before any query. Raises LookupRefused."""
    if any(text.bad_text(v, one_line=True) for v in (number, factor, second or "", address)):
        raise LookupRefused("no_match")
    number = tracking.clean(number)[:32]
    factor = text.code(factor)[:32]
    if four_digits_alone(factor, second):
        raise LookupRefused("name_needed")
    chosen = limits or LookupLimits()
    found = await ctx_db.run(
        lambda s: _verify(s, secret, number, factor, address, second, chosen), write=True
    )
    if isinstance(found, LookupRefused):
        raise found
    return found


def four_digits_alone(factor: str, second: str | None) -> bool:
    """Is this the last four digits of a phone with no second fact? (Refused before counting:
    it says nothing about the case.)"""
    return len(factor) == 4 and factor.isdigit() and not (second or "").strip()


async def is_citizens_contact(db: Database, number: str, kind: str, value: str) -> bool:
    """Is ``value`` (stored as intake stores contacts of ``kind``) a contact point of the
    citizen of case ``number``? A channel asks before it lets a sender act on that case."""
    async with db.session() as session:
        found = await session.scalar(
            select(Case.id)
            .join(ContactPoint, ContactPoint.citizen_id == Case.citizen_id)
            .where(
                Case.tracking_number == number,
                ContactPoint.kind == kind,
                ContactPoint.value == value,
            )
            .limit(1)
        )
    return found is not None


async def awaiting_evaluation(db: Database, kind: str, value: str) -> str | None:
    """The tracking number of the newest answered case (waiting for its evaluation) whose
    citizen has the contact ``value`` of ``kind``; None when there is none."""
    async with db.session() as session:
        number = await session.scalar(
            select(Case.tracking_number)
            .join(ContactPoint, ContactPoint.citizen_id == Case.citizen_id)
            .where(
                ContactPoint.kind == kind,
                ContactPoint.value == value,
                Case.status == CaseStatus.ANSWERED,
            )
            .order_by(Case.updated_at.desc(), Case.id.desc())
            .limit(1)
        )
    return str(number) if number else None
