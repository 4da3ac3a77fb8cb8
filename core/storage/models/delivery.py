"""The job outbox: follow-up work written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.storage.models.base import Base, Id, utcnow


class OutboxJob(Base):
    """Follow-up work (an acknowledgement, a reply's delivery, a transcription...) written in
    the same transaction as the change that causes it: the transactional outbox. A row leaves
    the queue only when its job finished (``done``) or gave up (``dead``, shown to staff); a
    runner holds it with a lease (``lease_until``) and ``claim`` names that run. See
    ``core/storage/outbox.py``."""

    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_state_lease", "state", "lease_until"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # the idempotency key
    job: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # running|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column()
    claim: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
