"""The job outbox, write side: follow-up work is a row of the transaction that causes it.

Work enqueued after a commit is lost when the process dies between the two, and huey takes a
task off its queue before it runs it. So follow-up work (the acknowledgement, a reply's
delivery, a transcription, department notices by e-mail) is an ``OutboxJob`` row written in the
cause's own transaction: it exists exactly when the change committed. After the commit the
rows are handed to huey at once (``Database`` calls ``on_commit``: the fast path); huey's task
only nudges. Running, leases, retries, the relay and the reconciliation are in
``core/delivery/followups.py``.

Two ways to write a row:

* ``add(session, job, key=..., args={...})`` in the cause's transaction (a reply, a transcription);
* a ``JobSpec(on_events=("received",))``: every CaseEvent with that action gets a row for the
  job in the same transaction, whichever code wrote the event (a SQLAlchemy ``after_flush``
  listener), with the arguments ``case_id`` and ``event_id``.

The key is the idempotency key (unique): the same work is never written twice, and channels may
hand it on to the peer (``OutboundMessage.idempotency_key``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import CaseEvent
from hotline.core.storage.models.delivery import OutboxJob

PENDING, RUNNING, DONE, DEAD = "pending", "running", "done", "dead"
LIVE = (PENDING, RUNNING)

CONFIG = "hotline.outbox"  # Session.info: the Database's OutboxConfig
NEW = "hotline.outbox_new"  # Session.info: (key, seconds until due) written in this session

DEFAULT_GRACE = 60.0


@dataclass
class OutboxConfig:
    """What sessions of one ``Database`` need: which jobs follow which case event, and how long
    a handed row may wait for its runner before the relay hands it again (the lease)."""

    follow: dict[str, tuple[str, ...]] = field(default_factory=dict)
    grace_seconds: float = DEFAULT_GRACE


def _config(session: Session) -> OutboxConfig:
    found = session.info.get(CONFIG)
    return found if isinstance(found, OutboxConfig) else OutboxConfig()


def remember(session: Session, key: str, delay: float) -> None:
    session.info.setdefault(NEW, []).append((key, delay))


def new_rows(session: Session) -> list[tuple[str, float]]:
    """The rows this session wrote (to hand over once it committed), forgotten as read."""
    found: list[tuple[str, float]] = session.info.pop(NEW, None) or []
    return found


def forget(session: Session) -> None:
    session.info.pop(NEW, None)


def _values(
    job: str,
    key: str,
    args: dict[str, Any],
    case_id: int | None,
    now: datetime,
    delay: float,
    grace: float,
) -> dict[str, Any]:
    due = now + timedelta(seconds=delay)
    return {
        "key": key,
        "job": job,
        "args": args,
        "case_id": case_id,
        "state": PENDING,
        "attempts": 0,
        "next_try_at": due,
        # handed at commit: the relay leaves it alone this long, then hands it again
        "lease_until": due + timedelta(seconds=grace),
        "created_at": now,
    }


def add(
    session: Session | AsyncSession,
    job: str,
    *,
    key: str,
    args: dict[str, Any] | None = None,
    case_id: int | None = None,
    delay: float = 0,
) -> OutboxJob:
    """Write follow-up work in the caller's transaction: ``job(ctx, **args)``, ``args``
    JSON-like (ids); ``case_id`` is the case it is for (where a failure is shown)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    values = _values(job, key, args or {}, case_id, utcnow(), delay, _config(sync).grace_seconds)
    row = OutboxJob(**values)
    sync.add(row)
    remember(sync, key, delay)
    return row


def event_key(job: str, event_id: int) -> str:
    return f"{job}:event:{event_id}"


@event.listens_for(Session, "after_flush")
def _follow_case_events(session: Session, _flush: Any) -> None:
    """Rows for the jobs that follow each new CaseEvent, in the same transaction."""
    follow = _config(session).follow
    if not follow:
        return
    now, grace = utcnow(), _config(session).grace_seconds
    rows = []
    for obj in session.new:
        if isinstance(obj, CaseEvent) and obj.action in follow:
            for job in follow[obj.action]:
                key = event_key(job, obj.id)
                args = {"case_id": obj.case_id, "event_id": obj.id}
                rows.append(_values(job, key, args, obj.case_id, now, 0, grace))
    if rows:
        # in the flush: straight to the connection, the session's own state is mid-flush
        session.connection().execute(insert(OutboxJob), rows)
        for row in rows:
            remember(session, row["key"], 0)
