"""Tables of cases and citizens: citizens and their contact points, cases, interactions,
attachments, links between cases, and case events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from hotline.core.storage.actors import Actor


from hotline.core.storage.enums import ActorKind, CaseStatus, Direction, Priority
from hotline.core.storage.models.base import Base, Id, utcnow

if TYPE_CHECKING:
    from hotline.core.storage.models.reference import Department, ServiceCategory


class Citizen(Base):
    """A person who contacted the hotline; anonymous when no name and no contact point."""

    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(10))
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contacts: Mapped[list[ContactPoint]] = relationship(back_populates="citizen")


class ContactPoint(Base):
    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    citizen: Mapped[Citizen] = relationship(back_populates="contacts")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_department", "status", "department_id"),
        Index("ix_cases_reply_deadline", "reply_deadline"),
        # the timers close answered cases whose evaluation did not come in time
        Index("ix_cases_status_answered", "status", "answered_at"),
        # the workflow desk's lists, oldest change first (keyset paging)
        Index("ix_cases_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("service_categories.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.RECEIVED)
    priority: Mapped[str] = mapped_column(String(10), default=Priority.NORMAL)
    language: Mapped[str] = mapped_column(String(10))
    first_channel: Mapped[str] = mapped_column(String(32))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")  # the agent's, for departments
    location_text: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The citizen asked that departments not see who they are.
    contact_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # The hotline asked the citizen for more information (the portal then offers a form).
    info_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    # the workflow: why the department was suggested, supervision (督办), overdue, reopen, merge
    route_reason: Mapped[str] = mapped_column(String(300), default="")
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    # the department must call the citizen back itself: their contact may be shown to it
    direct_callback: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    answered_at: Mapped[datetime | None] = mapped_column()
    sign_deadline: Mapped[datetime | None] = mapped_column()
    reply_deadline: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()

    category: Mapped[ServiceCategory | None] = relationship()
    department: Mapped[Department | None] = relationship()
    citizen: Mapped[Citizen | None] = relationship()


class Interaction(Base):
    """One message in or out: a form, an e-mail, an SMS, a call, a reply."""

    __tablename__ = "interactions"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3), default=Direction.IN)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(255))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    delivery_status: Mapped[str | None] = mapped_column(String(16), index=True)
    delivery_detail: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column()
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="interaction")
    contact_point: Mapped[ContactPoint | None] = relationship()


class Attachment(Base):
    """A file of an interaction; its bytes live once per sha256 under ``<data dir>/files``."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interactions.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    interaction: Mapped[Interaction] = relationship(back_populates="attachments")


class CaseLink(Base):
    """Two cases about one matter (related), or a case split off another."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "other_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # related | split
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseEvent(Base):
    """The audit trail and the case timeline: who did what, when, from where."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case_at", "case_id", "at"),
        Index("ix_case_events_at", "at"),  # the audit trail's pages
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(50))
    actor_kind: Mapped[str] = mapped_column(String(16), default=ActorKind.SYSTEM)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str | None] = mapped_column(String(64))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[Case] = relationship()

    @classmethod
    def by(
        cls,
        actor: Actor,
        case_id: int,
        action: str,
        detail: dict[str, Any] | None = None,
        *,
        public: bool = False,
        at: datetime | None = None,
    ) -> CaseEvent:
        """An event ``actor`` did on the case: who, from where, when."""
        return cls(
            case_id=case_id,
            action=action,
            detail=detail or {},
            public=public,
            at=at or utcnow(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            address=actor.address,
        )
