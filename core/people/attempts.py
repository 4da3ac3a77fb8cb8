"""Counting wrong guesses in a window, in the database so every app process sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import FailedAttempt


def over_limit(session: Session, limits: dict[str, int], window: timedelta) -> bool:
    """True when any key has reached its limit of failures within the window."""
    since = utcnow() - window
    counts = session.execute(
        select(FailedAttempt.key, func.count())
        .where(FailedAttempt.key.in_(list(limits)), FailedAttempt.at >= since)
        .group_by(FailedAttempt.key)
    )
    return any(count >= limits[key] for key, count in counts)


def record(session: Session, keys: list[str]) -> None:
    session.add_all([FailedAttempt(key=key) for key in keys])


def failures(session: Session, key: str, window: timedelta) -> tuple[int, datetime | None]:
    """How many failures ``key`` has within the window, and when the last one was."""
    count, last = session.execute(
        select(func.count(), func.max(FailedAttempt.at)).where(
            FailedAttempt.key == key, FailedAttempt.at >= utcnow() - window
        )
    ).one()
    if last is not None and last.tzinfo is None:  # SQLite's max() comes back as it is stored
        last = last.replace(tzinfo=UTC)
    return int(count or 0), last


def clear(session: Session, key: str) -> None:
    """Forget ``key``'s failures (the right answer came)."""
    session.execute(delete(FailedAttempt).where(FailedAttempt.key == key))
