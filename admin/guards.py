"""Who is signed in to the console, and the per-endpoint permission guard."""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from hotline.core.context import AppContext
from hotline.core.models import User
from hotline.core.permissions import Permission, allowed

Guard = Any


def ctx_of(request: ASGIConnection[Any, Any, Any, Any]) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def address_allowed(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """The administrator may limit the console to address ranges (HOTLINE_CONSOLE_NETWORKS)."""
    networks = ctx_of(connection).settings.console_networks
    if not networks:
        return True
    host = connection.client.host if connection.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


async def current_user(request: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    user_id = request.session.get("user_id") if request.scope.get("session") else None
    if not user_id:
        return None
    async with ctx_of(request).db.session() as session:
        user = await session.get(User, int(user_id))
    return user if user is not None and user.active else None


async def from_allowed_network(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """A guard for the whole console, sign-in page included."""
    if not address_allowed(connection):
        raise PermissionDeniedException("the console is not open to this address")


def requires(permission: Permission) -> Guard:
    """A guard: signed in, and the user's role is granted ``permission``."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        user = await current_user(connection)
        if user is None:
            raise NotAuthorizedException("sign in first")
        if user.must_change_password:
            # The first administrator's password was printed to a terminal: replace it first.
            raise PermissionDeniedException("change your password first")
        if not allowed(user.role, permission):
            raise PermissionDeniedException("your role may not do this")
        connection.scope.setdefault("state", {})["user"] = user

    guard.permission = permission  # type: ignore[attr-defined]  # read by the role matrix test
    return guard
