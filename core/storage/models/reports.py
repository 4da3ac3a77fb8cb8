"""Tables of management reports: the wallboard's settings (the service-level target, the short
abandon limit, the thresholds that colour a figure), its read-only links for wall screens, and
the reports mailed on a schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.storage.models.base import Base, Id, utcnow


class WallboardSettings(Base):
    """One row (id 1): what the administrator set for the wallboard; missing: the defaults."""

    __tablename__ = "wallboard_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # service level: answered within this many seconds of arriving in the queue
    service_level_seconds: Mapped[int] = mapped_column(Integer, default=20)
    # a contact that left the queue sooner than this is a short abandon, counted apart
    short_abandon_seconds: Mapped[int] = mapped_column(Integer, default=5)
    # figure -> [warn, alarm] (see plugins/reports/figures/thresholds.py)
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScreenLink(Base):
    """A read-only link for a wall screen that cannot sign in. The token is shown once; only
    its keyed digest is kept. A revoked link answers 404."""

    __tablename__ = "wallboard_links"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class ReportSchedule(Base):
    """A report mailed each week or month (the one just ended) to a list of addresses, as Excel
    and CSV; ``last_period`` names the last one sent (``2026-W49``, ``2026-11``)."""

    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    every: Mapped[str] = mapped_column(String(8))  # week | month
    by: Mapped[str] = mapped_column(String(8), default="media")  # contacts per media | queue
    recipients: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_period: Mapped[str | None] = mapped_column(String(16))
    last_sent_at: Mapped[datetime | None] = mapped_column()


class SavedReport(Base):
    """A report a user keeps (its period kind and breakdown, as the report page's query), for
    themselves or shared with everyone of a role."""

    __tablename__ = "saved_reports"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    shared_with: Mapped[str | None] = mapped_column(String(32))  # a role, or None: the owner's
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
