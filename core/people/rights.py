"""Changes to staff accounts and their rights, as data (``Change``) and as the one function that
applies them (``apply``). Who may make which change, and when a second person of the director's
office must approve it, is ``core.people.separation``'s to decide; nothing else writes these rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.people.permissions import Permission, effective
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import PermissionGrant, User

# what a change is
EDIT = "edit"  # role, department, active, display name of an account
ADD = "add"  # a new account (its generated password shown once)
GRANT = "grant"  # a permission override for a user or a unit
GRANT_DELETE = "grant_delete"  # an override removed
RESET_PASSWORD = "reset_password"  # noqa: S105 (a kind of change, not a password): a new generated password, the account's sessions ended
RESET_TOTP = "reset_totp"  # the second factor removed (set up again at the next sign-in)
KINDS = (EDIT, ADD, GRANT, GRANT_DELETE, RESET_PASSWORD, RESET_TOTP)
MAILBOX = Permission.DIRECTOR_MAILBOX.value


class RightsRefused(Exception):
    """The change is not made. ``code``: ``self`` (no one changes their own rights), ``same_person``
    (the approver asked for it or is concerned by it), ``last_admin``, ``taken``, ``invalid``,
    ``missing``, ``decided``."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class Change:
    kind: str
    user_id: int | None = None  # the account concerned (edits, resets, a user's override)
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "user_id": self.user_id, **self.detail}


async def _user(session: AsyncSession, user_id: int | None) -> User:
    user = await session.get(User, user_id, with_for_update=True) if user_id else None
    if user is None:
        raise RightsRefused("missing")
    return user


async def permissions_of(
    session: AsyncSession, user_id: int | None, role: str, department_id: int | None
) -> frozenset[Permission]:
    """What an account would be allowed with this role and department (its own overrides and
    its unit's included)."""
    # an account not made yet has no overrides of its own: an id no row has (None would
    # match every unit override in the query)
    probe = User(id=user_id if user_id is not None else -1, role=role, department_id=department_id)
    return await effective(session, probe)


async def last_admin(session: AsyncSession, user: User) -> bool:
    others = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMINISTRATOR, User.active.is_(True), User.id != user.id)
    )
    return user.role == Role.ADMINISTRATOR and not others


def covers(grant_user: int | None, department: int | None, role: str | None, user: User) -> bool:
    """Does an override (for a user, or for a unit and maybe one role there) apply to ``user``?"""
    if grant_user is not None:
        return grant_user == user.id
    return department is not None and department == user.department_id and role in (None, user.role)


async def apply(
    session: AsyncSession, change: Change, password_hash: str | None = None
) -> dict[str, Any]:
    """Make the change; returns what the audit entry and the notices say about it."""
    d = change.detail
    if change.kind == EDIT:
        user = await _user(session, change.user_id)
        wanted = {k: d[k] for k in ("role", "active", "department_id", "display_name") if k in d}
        demoted = wanted.get("role", user.role) != Role.ADMINISTRATOR
        if (demoted or not wanted.get("active", user.active)) and await last_admin(session, user):
            raise RightsRefused("last_admin")
        fields = [k for k, v in wanted.items() if getattr(user, k) != v]
        for name in fields:
            setattr(user, name, wanted[name])
        return {"user": user.username, "fields": fields, **{k: wanted[k] for k in fields}}
    if change.kind == ADD:
        username = str(d["username"]).strip()
        taken = await session.scalar(
            select(User.id).where(func.lower(User.username) == username.lower())
        )
        if taken is not None:
            raise RightsRefused("taken")
        assert password_hash is not None
        session.add(
            User(
                username=username,
                display_name=str(d.get("display_name") or username)[:200],
                role=d["role"],
                department_id=d.get("department_id"),
                password_hash=password_hash,
                must_change_password=bool(d.get("must_change", True)),
            )
        )
        return {"username": username, "role": d["role"]}
    if change.kind == GRANT:
        session.add(
            PermissionGrant(
                department_id=None if change.user_id else d.get("department_id"),
                role=None if change.user_id else d.get("role"),
                user_id=change.user_id,
                permission=d["permission"],
                allow=bool(d.get("allow", True)),
            )
        )
        holder = await session.get(User, change.user_id) if change.user_id else None
        return {
            "user": holder.username if holder else None,
            "department": d.get("department_id"),
            "role": d.get("role"),
            "permission": d["permission"],
            "allow": bool(d.get("allow", True)),
        }
    if change.kind == GRANT_DELETE:
        grant = await session.get(PermissionGrant, d["grant_id"], with_for_update=True)
        if grant is None:
            raise RightsRefused("missing")
        await session.delete(grant)
        return {"grant": grant.id, "permission": grant.permission, "allow": grant.allow}
    user = await _user(session, change.user_id)
    if change.kind == RESET_PASSWORD:
        assert password_hash is not None
        user.password_hash, user.must_change_password = password_hash, True
    elif change.kind == RESET_TOTP:
        user.totp_secret = user.totp_last_step = None
    else:
        raise RightsRefused("invalid")
    user.session_epoch += 1  # whoever was signed in as them is signed out
    return {"user": user.username}
