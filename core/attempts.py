"""Counting wrong guesses in a window, in the database so every app process sees them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.core.models import FailedAttempt, utcnow


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
