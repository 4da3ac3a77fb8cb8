"""Finding a case by its tracking number, as citizens, channels and the API do.

The number alone never opens personal data: these return the case row for the caller to show
its public parts, or the public timeline only.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core import attempts, tracking
from hotline.core.contacts import last_digits
from hotline.core.db import Database
from hotline.core.enums import CaseStatus, ContactKind
from hotline.core.models import Case, CaseEvent, ContactPoint


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

FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NUMBER = 5
MAX_FAILURES_PER_ADDRESS = 20


class LookupRefused(Exception):
    """``code`` is ``no_match`` (wrong number or factor: the same answer for both, so it tells a
    guesser nothing) or ``too_many_attempts``."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def lookup_code(secret: str, number: str) -> str:
    """Six digits only the citizen is given (on the receipt page and in the acknowledgement).
    Derived from the site's secret key, so it is never stored; keypad-friendly for the phone."""
    digest = hmac.new(secret.encode(), f"lookup:{number}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def _factor_matches(session: Session, secret: str, case: Case, factor: str) -> bool:
    factor = factor.strip().replace(" ", "")
    if len(factor) == 6 and hmac.compare_digest(factor, lookup_code(secret, case.tracking_number)):
        return True
    if len(factor) == 4 and factor.isdigit() and case.citizen_id is not None:
        phones = session.scalars(
            select(ContactPoint.value).where(
                ContactPoint.citizen_id == case.citizen_id,
                ContactPoint.kind.in_([ContactKind.PHONE, ContactKind.FAX]),
            )
        )
        return any(hmac.compare_digest(last_digits(p), factor) for p in phones)
    return False


def _verify(
    session: Session, secret: str, number: str, factor: str, address: str
) -> tuple[Case, list[CaseEvent]] | str:
    """The case and timeline, or the refusal's code (the unit commits the failures first)."""
    keys = {f"n:{number}": MAX_FAILURES_PER_NUMBER, f"a:{address}": MAX_FAILURES_PER_ADDRESS}
    if attempts.over_limit(session, keys, FAILURE_WINDOW):
        return "too_many_attempts"
    found = _timeline(session, number) if tracking.is_valid(number) else None
    if found is None or not _factor_matches(session, secret, found[0], factor):
        attempts.record(session, list(keys))
        return "no_match"
    return found


async def verified_timeline(
    ctx_db: Database, secret: str, number: str, factor: str, address: str
) -> tuple[Case, list[CaseEvent]]:
    """The case and its public timeline when ``factor`` (the lookup code, or the last four digits
    of a phone number the citizen gave) fits ``number``; wrong tries are counted per number and
    per address and refused past the limits. Raises LookupRefused."""
    number = tracking.clean(number)[:32]
    found = await ctx_db.run(lambda s: _verify(s, secret, number, factor, address), write=True)
    if isinstance(found, str):
        raise LookupRefused(found)
    return found


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
