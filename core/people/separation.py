"""Separation of duties around staff rights and the director's sealed mailbox.

- No one changes their own rights: not their role, department or whether they are active, not
  an override that applies to them (their own, or their unit's), not their password or second
  factor through an administrator's screen (they use their own password page).
- A change that would let someone read the sealed mailbox (``director.mailbox`` granted to a
  user or a unit, a deny of it removed, someone moved into the director's office or into a
  unit or role that has it, an office account added) or that would let someone else sign in
  as a person of the office (a reset of their password or second factor) is not made from
  the console at once: it becomes a pending request that a second person of the office (not
  the one who asked, not the one concerned) approves or refuses in the console. A reset's
  new password is shown to that person, never to the administrator who asked.
- At the command line (``hotline user ...``, run by whoever operates the server) changes are
  made at once, for setting up the office and for emergencies: audited, and told to the office.
- Every change that touches the office's rights (granted or taken away) is told to the office
  in its message centre, in the transaction that makes it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.people.audit import audit
from hotline.core.people.office import notify_office
from hotline.core.people.passwords import hash_password_async
from hotline.core.people.permissions import Permission, effective
from hotline.core.people.rights import (
    ADD,
    EDIT,
    GRANT,
    GRANT_DELETE,
    MAILBOX,
    RESET_PASSWORD,
    Change,
    RightsRefused,
    apply,
    covers,
    permissions_of,
)
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import Role
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import AccountRequest, PermissionGrant, User
from hotline.core.storage.models.workflow import Notice

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
AUDIT_ACTION = {
    EDIT: "user_edit",
    ADD: "user_add",
    GRANT: "permission_override",
    GRANT_DELETE: "permission_override_removed",
    RESET_PASSWORD: "password_reset",
    "reset_totp": "totp_reset",
}


@dataclass(frozen=True)
class Outcome:
    """``done`` (made now) or ``pending`` (waiting for the office); a generated password to
    show once to whoever made it happen."""

    state: str
    request_id: int | None = None
    password: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class Verdict:
    concerns_actor: bool  # the change is about the one making it
    needs_office: bool  # a second person of the director's office must approve it
    touches_office: bool  # the office is told of it


async def _grant(session: AsyncSession, change: Change) -> PermissionGrant:
    grant = await session.get(PermissionGrant, change.detail.get("grant_id"))
    if grant is None:
        raise RightsRefused("missing")
    return grant


async def judge(session: AsyncSession, change: Change, actor: User | None) -> Verdict:
    """How the change stands with the rules above (``actor``: the staff member making it or
    deciding on it; None at the command line)."""
    d = change.detail
    target = await session.get(User, change.user_id) if change.user_id else None
    if change.user_id and target is None:
        raise RightsRefused("missing")
    if change.kind == EDIT:
        assert target is not None
        before = await effective(session, target)
        after = await permissions_of(
            session,
            target.id,
            d.get("role", target.role),
            d.get("department_id", target.department_id),
        )
        gains = Permission.DIRECTOR_MAILBOX in after - before
        moved = any(
            k in d and d[k] != getattr(target, k) for k in ("role", "department_id", "active")
        )
        return Verdict(
            concerns_actor=actor is not None and target.id == actor.id and moved,
            needs_office=gains,
            touches_office=gains or (moved and Permission.DIRECTOR_MAILBOX in before),
        )
    if change.kind == ADD:
        after = await permissions_of(session, None, d["role"], d.get("department_id"))
        gains = Permission.DIRECTOR_MAILBOX in after or d["role"] == Role.DIRECTOR_OFFICE
        return Verdict(False, gains, gains)
    if change.kind in (GRANT, GRANT_DELETE):
        if change.kind == GRANT:
            user, department, role = change.user_id, d.get("department_id"), d.get("role")
            permission, allow = d["permission"], bool(d.get("allow", True))
        else:
            grant = await _grant(session, change)
            user, department, role = grant.user_id, grant.department_id, grant.role
            permission, allow = grant.permission, not grant.allow  # removing a deny allows
        mailbox = permission == MAILBOX
        return Verdict(
            concerns_actor=actor is not None and covers(user, department, role, actor),
            needs_office=mailbox and allow,
            touches_office=mailbox,
        )
    assert target is not None  # resets
    office = Permission.DIRECTOR_MAILBOX in await effective(session, target)
    return Verdict(actor is not None and target.id == actor.id, office, office)


def _tell_office(session: AsyncSession, kind: str, change: Change, info: dict[str, Any]) -> None:
    who = info.get("user") or info.get("username")
    notify_office(
        session, kind, what=change.kind, user=who, **{k: info[k] for k in ("by",) if k in info}
    )


async def _secret_for(change: Change) -> tuple[str | None, str | None]:
    """A generated password and its hash, for a change that makes one."""
    if change.kind not in (ADD, RESET_PASSWORD):
        return None, None
    password = secrets.token_urlsafe(12)
    return password, await hash_password_async(password)


async def request_change(ctx: AppContext, actor: Actor, change: Change) -> Outcome:
    """From the console: made now, refused (``RightsRefused``), or a pending request for the
    director's office. An attempt on one's own rights is refused and kept in the audit trail."""
    try:
        return await _request(ctx, actor, change)
    except RightsRefused as refused:
        if refused.code == "self":
            async with ctx.db.transaction() as session:
                audit(
                    session, actor, "rights_refused_self", None, what=change.kind, **change.detail
                )
        raise


async def _request(ctx: AppContext, actor: Actor, change: Change) -> Outcome:
    password, password_hash = await _secret_for(change)
    async with ctx.db.transaction() as session:
        me = await session.get(User, actor.id) if actor.id else None
        verdict = await judge(session, change, me)
        if verdict.concerns_actor:
            raise RightsRefused("self")
        if verdict.needs_office:
            request = AccountRequest(
                kind=change.kind,
                requested_by=actor.id,
                user_id=change.user_id,
                detail=dict(change.detail),
            )
            session.add(request)
            await session.flush()
            target = await session.get(User, change.user_id) if change.user_id else None
            who = target.username if target else change.detail.get("username")
            audit(
                session,
                actor,
                "rights_requested",
                None,
                request=request.id,
                what=change.kind,
                user=who,
            )
            notify_office(
                session,
                "rights_request",
                request=request.id,
                what=change.kind,
                user=who,
                by=actor.label,
            )
            return Outcome(PENDING, request_id=request.id)
        info = await apply(session, change, password_hash)
        audit(session, actor, AUDIT_ACTION[change.kind], None, **info)
        if verdict.touches_office:
            _tell_office(session, "rights_changed", change, {**info, "by": actor.label})
    return Outcome("done", password=password, username=info.get("user") or info.get("username"))


async def decide(ctx: AppContext, actor: Actor, request_id: int, approve: bool) -> Outcome:
    """A second person of the director's office approves (the change is made now) or refuses a
    pending request. Not the one who asked, not the one it concerns."""
    async with ctx.db.session() as session:
        pending = await session.get(AccountRequest, request_id)
        kind = pending.kind if pending else ""
    password, password_hash = await _secret_for(Change(kind)) if approve else (None, None)
    async with ctx.db.transaction() as session:
        request = await session.get(AccountRequest, request_id, with_for_update=True)
        if request is None:
            raise RightsRefused("missing")
        if request.state != PENDING:
            raise RightsRefused("decided")
        me = await session.get(User, actor.id) if actor.id else None
        if me is None or Permission.DIRECTOR_MAILBOX not in await effective(session, me):
            raise RightsRefused("invalid")
        change = Change(request.kind, request.user_id, dict(request.detail))
        verdict = await judge(session, change, me)
        if actor.id in (request.requested_by, request.user_id) or verdict.concerns_actor:
            raise RightsRefused("same_person")
        request.state = APPROVED if approve else REFUSED
        request.decided_by, request.decided_at = actor.id, utcnow()
        info: dict[str, Any] = {"request": request.id, "what": request.kind}
        if approve:
            info.update(await apply(session, change, password_hash))
            audit(session, actor, AUDIT_ACTION[change.kind], None, **info)
        audit(session, actor, "rights_approved" if approve else "rights_refused", None, **info)
        _tell_office(
            session,
            "rights_approved" if approve else "rights_refused",
            change,
            {**info, "by": actor.label},
        )
        session.add(
            Notice(
                kind="rights_approved" if approve else "rights_refused",
                user_id=request.requested_by,
                detail={
                    "what": request.kind,
                    "user": info.get("user") or info.get("username"),
                    "by": actor.label,
                },
            )
        )
    return Outcome(
        APPROVED if approve else REFUSED,
        request_id=request_id,
        password=password if approve else None,
        username=info.get("user") or info.get("username"),
    )


async def change_at_command_line(ctx: AppContext, change: Change, operator: str) -> Outcome:
    """``hotline user ...``: made at once by whoever runs the server's command line; audited
    (``cli:<operator>``) and told to the director's office when it touches its rights."""
    from hotline.core.storage.enums import ActorKind

    actor = Actor(ActorKind.SYSTEM, label=f"cli:{operator}"[:100])
    password, password_hash = await _secret_for(change)
    async with ctx.db.transaction() as session:
        verdict = await judge(session, change, None)
        info = await apply(session, change, password_hash)
        audit(session, actor, AUDIT_ACTION[change.kind], None, via="command line", **info)
        if verdict.touches_office or verdict.needs_office:
            _tell_office(session, "rights_changed", change, {**info, "by": actor.label})
    return Outcome("done", password=password, username=info.get("user") or info.get("username"))
