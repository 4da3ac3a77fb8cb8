"""Who is signed in to the console, and the per-endpoint permission guard."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission, effective
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import from_networks
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind
from hotline.core.storage.models.people import User

Guard = Any


def ctx_of(request: ASGIConnection[Any, Any, Any, Any]) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def address_allowed(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """The administrator may limit the console to address ranges (HOTLINE_CONSOLE_NETWORKS)."""
    return from_networks(connection, ctx_of(connection).settings.console_networks)


def session_user_id(request: ASGIConnection[Any, Any, Any, Any]) -> int | None:
    """Whose console session this is, if signed in (before the guard has looked them up)."""
    user_id = request.session.get("user_id") if request.scope.get("session") else None
    return int(user_id) if user_id else None


async def current_user(request: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    found = await signed_in(request)
    return found[0] if found else None


async def signed_in(
    request: ASGIConnection[Any, Any, Any, Any],
) -> tuple[User, frozenset[Permission]] | None:
    """The signed-in, active user and what they may do (role, unit and own overrides)."""
    user_id = session_user_id(request)
    if not user_id:
        return None
    epoch = int(request.session.get("epoch", 0) or 0)
    async with ctx_of(request).db.session() as session:
        user = await session.get(User, user_id)
        # a password change or reset raised the epoch: sessions from before it are over
        if user is None or not user.active or user.session_epoch != epoch:
            return None
        return user, await effective(session, user)


def actor_of(request: ASGIConnection[Any, Any, Any, Any], user: User) -> Actor:
    return Actor(
        ActorKind.STAFF,
        id=user.id,
        label=user.username,
        address=request.client.host if request.client else None,
    )


def staff_actor(request: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The signed-in staff member (set by the guard) as the actor of what they do."""
    return actor_of(request, request.scope["state"]["user"])


def can(request: ASGIConnection[Any, Any, Any, Any], permission: Permission) -> bool:
    """For screens: may the user the guard let in do ``permission`` too?"""
    return permission in request.scope.get("state", {}).get("permissions", frozenset())


async def from_allowed_network(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """A guard for the whole console, sign-in page included."""
    if not address_allowed(connection):
        raise PermissionDeniedException("the console is not open to this address")


async def record_refusal(
    connection: ASGIConnection[Any, Any, Any, Any], user: User, what: str
) -> None:
    """A refused attempt at something sealed, kept in the audit trail (who, when, from where)."""
    async with ctx_of(connection).db.transaction() as session:
        audit(
            session,
            actor_of(connection, user),
            "access_refused",
            None,
            what=what,
            path=connection.url.path,
        )


def requires(permission: Permission, *, audit_refusal: bool = False) -> Guard:
    """A guard: signed in, and the user may do ``permission`` (role, unit, own overrides).
    With ``audit_refusal`` a signed-in user's refusal is written to the audit trail."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        found = await signed_in(connection)
        if found is None:
            raise NotAuthorizedException("sign in first")
        user, permissions = found
        if user.must_change_password:
            # The first administrator's password was printed to a terminal: replace it first.
            raise PermissionDeniedException("change your password first")
        if permission not in permissions:
            if audit_refusal:
                await record_refusal(connection, user, permission.value)
            raise PermissionDeniedException("your role may not do this")
        state = connection.scope.setdefault("state", {})
        state["user"], state["permissions"] = user, permissions

    guard.permission = permission  # type: ignore[attr-defined]  # read by the role matrix test
    return guard
