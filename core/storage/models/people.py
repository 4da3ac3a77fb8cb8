"""Tables of people: staff accounts, their grants and requests, the audit, wrong guesses,
edge counters and API clients."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.storage.models.base import Base, Id, utcnow


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
    next use (see ``core/people/apikeys.py``)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str | None] = mapped_column(String(200))
    key_digest: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
