"""Tables of the workflow: departments' assignments and notices."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.storage.models.base import Base, Id, utcnow

if TYPE_CHECKING:
    from hotline.core.storage.models.cases import Case
    from hotline.core.storage.models.reference import Department


OPEN_NOT_OVERDUE = "state IN ('dispatched', 'accepted') AND NOT overdue"
DISPATCHED_NOT_OVERDUE = "state = 'dispatched' AND NOT overdue"


class Assignment(Base):
    """A case with one department: the lead (主办) or a co-handler (协办), each with its own
    deadlines, sign-for, reply, return, extension and urging. A case dispatched twice (after a
    return) keeps both rows: the history of who had it."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_department_state", "department_id", "state"),
        # a department's to-do pages, oldest dispatch first
        Index("ix_assignments_department_dispatched", "department_id", "dispatched_at"),
        # the deadline scan: open assignments not yet overdue, by deadline. PostgreSQL's
        # planner cannot see that few open assignments are past due and not yet marked (the
        # columns are correlated) and reads the whole table; a partial index holds only those.
        Index("ix_assignments_due_reply", "state", "overdue", "reply_deadline"),
        Index("ix_assignments_due_sign", "state", "overdue", "sign_deadline"),
        Index(
            "ix_assignments_open_reply",
            "reply_deadline",
            postgresql_where=text(OPEN_NOT_OVERDUE),
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_assignments_open_sign",
            "sign_deadline",
            postgresql_where=text(DISPATCHED_NOT_OVERDUE),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    lead: Mapped[bool] = mapped_column(Boolean, default=True)
    # dispatched -> accepted -> replied -> done; or returned; or closed (the lead finished)
    state: Mapped[str] = mapped_column(String(16))
    instructions: Mapped[str] = mapped_column(Text, default="")
    dispatched_at: Mapped[datetime] = mapped_column(default=utcnow)
    sign_deadline: Mapped[datetime | None] = mapped_column()
    reply_deadline: Mapped[datetime | None] = mapped_column()
    signed_at: Mapped[datetime | None] = mapped_column()
    replied_at: Mapped[datetime | None] = mapped_column()
    reply_text: Mapped[str] = mapped_column(Text, default="")
    # why the hotline sent the reply back, or why the department returned the case
    reason: Mapped[str] = mapped_column(Text, default="")
    sent_back: Mapped[int] = mapped_column(Integer, default=0)
    urged: Mapped[int] = mapped_column(Integer, default=0)
    extension_days: Mapped[int | None] = mapped_column(Integer)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    extension_state: Mapped[str | None] = mapped_column(String(16))  # requested|approved|refused
    warned_at: Mapped[datetime | None] = mapped_column()  # the due-soon notice went out
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship()
    department: Mapped[Department] = relationship()


class Notice(Base):
    """An in-app notice (message centre): a new case, an urging, a return, a deadline, or an
    announcement; addressed to a department, a role, one user, or everyone (all empty)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_at", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # a department's notice also went out by e-mail (or there was nothing to send it to)
    emailed_at: Mapped[datetime | None] = mapped_column()
