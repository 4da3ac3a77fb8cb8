"""Counting what strangers do at the public edge (chats begun per address and per contact,
proofs of work spent), in the database so every app process sees the same count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hotline.core.storage.db import Database
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import EdgeCount


def _counts(session: Session, keys: list[str], window: timedelta) -> dict[str, int]:
    rows = session.execute(
        select(EdgeCount.key, func.count())
        .where(EdgeCount.key.in_(keys), EdgeCount.at >= utcnow() - window)
        .group_by(EdgeCount.key)
    )
    found = {str(key): int(count) for key, count in rows}
    return {key: found.get(key, 0) for key in keys}


async def counts(db: Database, keys: list[str], window: timedelta) -> dict[str, int]:
    """How often each key was counted within the window (0 for none)."""
    return await db.run(lambda session: _counts(session, keys, window), write=False)


def _record(session: Session, keys: list[str]) -> None:
    session.add_all([EdgeCount(key=key[:120]) for key in keys])


async def record(db: Database, keys: list[str]) -> None:
    """Count one more of each key, now."""
    await db.run(lambda session: _record(session, keys), write=True)


def _spend(session: Session, key: str, window: timedelta) -> bool:
    if _counts(session, [key], window)[key]:
        return False
    _record(session, [key])
    return True


async def spend_once(db: Database, key: str, window: timedelta) -> bool:
    """True the first time ``key`` is spent within the window (a proof of work), else False."""
    return await db.run(lambda session: _spend(session, key, window), write=True)


def purge(session: Session, older_than: timedelta) -> int:
    result = session.execute(delete(EdgeCount).where(EdgeCount.at < utcnow() - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
