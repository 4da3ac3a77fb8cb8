"""The kernel's tables. Migrations in ``core/migrations`` must match these (a test compares)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from hotline.core.storage.actors import Actor

from hotline.core.storage.enums import (
    ActorKind,
    AgentState,
    CaseStatus,
    Direction,
    LimitUnit,
    Priority,
    QueueState,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit ids on PostgreSQL; SQLite only auto-increments a plain INTEGER primary key.
Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # where its notices (new cases, urging, deadlines) are also sent, when set
    email: Mapped[str | None] = mapped_column(String(320))

    parent: Mapped[Department | None] = relationship(remote_side="Department.id")

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class ServiceCategory(Base):
    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_categories.id"))
    default_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sign_limit: Mapped[int] = mapped_column(Integer, default=1)
    sign_limit_unit: Mapped[str] = mapped_column(String(20), default=LimitUnit.WORKING_DAYS)
    reply_limit: Mapped[int] = mapped_column(Integer, default=5)
    reply_limit_unit: Mapped[str] = mapped_column(String(20), default=LimitUnit.WORKING_DAYS)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the routing suggestion is dispatched without an agent (the administrator's choice)
    auto_dispatch: Mapped[bool] = mapped_column(Boolean, default=False)
    # Extra questions the form asks (the Open311 service definition): a list of
    # {code, datatype, required, description_zh, description_en, values: [{key, name_zh, name_en}]}
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    default_department: Mapped[Department | None] = relationship()

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class User(Base):
    """A staff account. The console issue adds sessions, TOTP and permissions."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # the last TOTP time step accepted: a code of that step or an earlier one is refused
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # raised when the password or second factor changes: sessions of an older epoch end
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notices_read_at: Mapped[datetime | None] = mapped_column()


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


class QueueItem(Base):
    """A contact waiting for a person in the AXD queue (every medium in one queue)."""

    __tablename__ = "queue_items"
    # the queue's order, one direction per column as it is read (priority first, then longest
    # waiting), so that the head of a long queue is read off the index without a sort
    __table_args__ = (
        Index("ix_queue_items_waiting", "state", text("priority DESC"), "waiting_since"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"))
    media: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=1)
    skills: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16), default=QueueState.WAITING)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    offered_at: Mapped[datetime | None] = mapped_column()
    offer_expires_at: Mapped[datetime | None] = mapped_column()
    declined_by: Mapped[list[str]] = mapped_column(default=list)
    waiting_since: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    interaction: Mapped[Interaction | None] = relationship()


class SkillGroup(Base):
    """A queue: the contacts needing one skill, and how they are distributed. An item belongs
    to the group of its first skill; items without a group follow the site's defaults."""

    __tablename__ = "skill_groups"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100), default="")
    name_en: Mapped[str] = mapped_column(String(100), default="")
    strategy: Mapped[str] = mapped_column(String(32), default="")  # empty: the site's default
    offer_seconds: Mapped[int] = mapped_column(Integer, default=20)
    wrap_up_seconds: Mapped[int] = mapped_column(Integer, default=30)
    # skill tiers: the best level first, one more level allowed after each such wait
    widen_after_seconds: Mapped[int] = mapped_column(Integer, default=60)
    # a regional group: callers whose number starts with one of these go to its agents first
    phone_prefixes: Mapped[list[str]] = mapped_column(default=list)


class AuditEntry(Base):
    """Staff reads and changes of citizens' records outside a case (searches, profile reads,
    edits, merges); reads within a case are CaseEvents on it."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_at", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str | None] = mapped_column(String(64))
    citizen_id: Mapped[int | None] = mapped_column(Id, index=True)  # no FK: kept after a merge
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PermissionGrant(Base):
    """An override of the role grants: for a unit (a department and its people, optionally one
    role there) or for one user, a permission added (``allow``) or taken away. The user's own
    override wins over their unit's, which wins over their role's."""

    __tablename__ = "permission_grants"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    permission: Mapped[str] = mapped_column(String(32))
    allow: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountRequest(Base):
    """A change to staff rights that needs a second person of the director's office: granting
    ``director.mailbox``, moving someone into the office (or adding an office account),
    resetting an office account's password or second factor. An administrator asks; another
    person of the office (not the one asking, not the one concerned) approves or refuses."""

    __tablename__ = "account_requests"
    __table_args__ = (Index("ix_account_requests_state", "state", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))  # grant | role | add | reset_password | ...
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the account concerned
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # approved|refused|...
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()


class AwayReason(Base):
    """Why an agent is away (break, meal, meeting, training...), defined by administrators."""

    __tablename__ = "away_reasons"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FailedAttempt(Base):
    """A wrong guess (a lookup's second factor, a sign-in's password), kept to slow guessing
    per address, per tracking number, per account. ``key`` says which: ``n:…``, ``a:…``."""

    __tablename__ = "failed_attempts"
    __table_args__ = (Index("ix_failed_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class EdgeCount(Base):
    """Something a stranger did that a limit counts (a chat begun, per address and per contact;
    a proof of work spent), so every app process sees the same count. Purged after two days."""

    __tablename__ = "edge_counts"
    __table_args__ = (Index("ix_edge_counts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiClient(Base):
    """An app allowed to post requests through Open311. Its key is kept as a keyed digest
    (``key_digest``); keys issued before digests have only an argon2 ``key_hash`` until their
    next use (see ``core/apikeys.py``)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str | None] = mapped_column(String(200))
    key_digest: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Page(Base):
    """A public information page: an announcement or a service guide, in both languages."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # announcement | guide
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body_zh: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    def title(self, language: str) -> str:
        return self.title_zh if language.startswith("zh") else self.title_en

    def body(self, language: str) -> str:
        return self.body_zh if language.startswith("zh") else self.body_en


class AgentPresence(Base):
    """An agent's state and what they can take, for the AXD queue."""

    __tablename__ = "agent_presence"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=AgentState.SIGNED_OUT)
    away_reason: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(default=utcnow)
    wrap_up_until: Mapped[datetime | None] = mapped_column()
    # contacts at once per medium, e.g. {"voice": 1, "chat": 3, "email": 5}
    capacity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # skill -> level (1 best), e.g. {"noise": 1, "road": 2}
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    languages: Mapped[list[str]] = mapped_column(default=list)
    last_assigned_at: Mapped[datetime | None] = mapped_column()
    missed_offers: Mapped[int] = mapped_column(Integer, default=0)


OPEN_NOT_OVERDUE = "state IN ('dispatched', 'accepted') AND NOT overdue"
DISPATCHED_NOT_OVERDUE = "state = 'dispatched' AND NOT overdue"


class Assignment(Base):
    """A case with one department: the lead (主办) or a co-handler (协办), each with its own
    deadlines, sign-for, reply, return, extension and urging. A case dispatched twice (after a
    return) keeps both rows: the history of who had it."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_department_state", "department_id", "state"),
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


class CaseLink(Base):
    """Two cases about one matter (related), or a case split off another."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "other_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # related | split
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarDay(Base):
    """An exception to the default calendar: a holiday on a weekday, or a weekend day that is
    a working day (调休). Imported from iCalendar or CSV, or edited one by one."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(200), default="")


class RoutingRule(Base):
    """Words in a case (keyword) or in its place (district) that send it to a department."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # keyword | district
    pattern: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    # only for cases of this service, when set
    category_id: Mapped[int | None] = mapped_column(ForeignKey("service_categories.id"))
    position: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

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


class OutboxJob(Base):
    """Follow-up work (an acknowledgement, a reply's delivery, a transcription...) written in
    the same transaction as the change that causes it: the transactional outbox. A row leaves
    the queue only when its job finished (``done``) or gave up (``dead``, shown to staff); a
    runner holds it with a lease (``lease_until``) and ``claim`` names that run. See
    ``core/outbox.py``."""

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


class CaseEvent(Base):
    """The audit trail and the case timeline: who did what, when, from where."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_at", "case_id", "at"),)

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


class MailCursor(Base):
    """Where reading a mailbox stopped: its UIDVALIDITY and the last UID taken, so a restart
    fetches each new message once and skips none."""

    __tablename__ = "mail_cursors"

    mailbox: Mapped[str] = mapped_column(String(64), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HeldMessage(Base):
    """A message a channel could not turn into a case (unreadable, refused by intake): kept
    whole in the file store, listed for a person to retry or to make a case of by hand."""

    __tablename__ = "held_messages"
    __table_args__ = (Index("ix_held_messages_state", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64), default="")  # e.g. the mailbox
    external_id: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting|case|dismissed
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str] = mapped_column(String(100), default="")


class MessageTrace(Base):
    """A message that made no case of its own, kept visible for a set time: mail no person
    wrote to the hotline (auto-replies, bulk and list mail, reports, bounces, our own mail
    coming back) and second copies of a message already taken (duplicates). Its bytes are in
    the file store; a person may make a case of one wrongly ignored."""

    __tablename__ = "message_traces"
    __table_args__ = (
        Index("ix_message_traces_source", "source", "created_at"),
        Index("ix_message_traces_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64), default="")  # e.g. the mailbox
    reason: Mapped[str] = mapped_column(
        String(32)
    )  # auto_reply|bulk|list|report|bounce|loop|duplicate
    detail: Mapped[str] = mapped_column(String(500), default="")  # the header that shows it
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    times: Mapped[int] = mapped_column(Integer, default=1)  # the same bytes seen again
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))  # the original, or made
    state: Mapped[str] = mapped_column(String(16), default="kept")  # kept|case
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str] = mapped_column(String(100), default="")
