"""Console sign-in and the guard every console endpoint uses.

Server-side sessions (the ``sessions`` store: files in the data directory, or Redis), CSRF on
every form, sign-in rate limited and locked after repeated failures, a fresh session id at
sign-in, and a permission check per endpoint (``requires``).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.response import Redirect
from litestar.types import ASGIApp

from hotline.core.accounts import SignInRefused, sign_in
from hotline.core.context import AppContext
from hotline.core.enums import Role
from hotline.core.models import User
from hotline.core.permissions import ROLE_GRANTS, Permission
from hotline.core.web import render

from .audit import audit_search
from .guards import ctx_of as _ctx
from .guards import from_allowed_network, requires
from .queue import change_state, item_action, queue_screen, stream
from .workspace import classify, workspace

Req = Request[Any, Any, Any]
Guard = Any


ROTATE = "hotline_rotate_session"


class RotatingSessions(ServerSideSessionBackend):
    """Server-side sessions whose id is replaced at sign-in (no session fixation)."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(ROTATE) is True:
            state[ROTATE] = self.generate_session_id()
        if isinstance(state.get(ROTATE), str):
            return str(state[ROTATE])
        return super().get_session_id(connection)


def _sessions(app: ASGIApp, secure: bool) -> ASGIApp:
    config = ServerSideSessionConfig(
        key="hotline_console",
        max_age=8 * 3600,
        samesite="strict",
        httponly=True,
        secure=secure,
        store="sessions",
    )
    return SessionMiddleware(app=app, backend=RotatingSessions(config=config))


@get("/console/login")
async def login_form(request: Req) -> Response[str]:
    return render(request, "admin/login.html", error=None)


@post("/console/login")
async def login(request: Req) -> Response[Any]:
    form = await request.form()
    address = request.client.host if request.client else "unknown"
    try:
        user = await sign_in(
            _ctx(request), str(form.get("username", "")), str(form.get("password", "")), address
        )
    except SignInRefused as refused:
        response = render(request, "admin/login.html", error=refused.code)
        response.status_code = 429 if refused.code == "locked" else 401
        return response
    old = request.cookies.get("hotline_console")
    if old:
        await request.app.stores.get("sessions").delete(old)
    request.scope.setdefault("state", {})[ROTATE] = True  # a fresh session id: no fixation
    request.set_session({"user_id": user.id})
    return Redirect("/console", status_code=303)


@post("/console/logout")
async def logout(request: Req) -> Response[Any]:
    request.clear_session()
    return Redirect("/console/login", status_code=303)


@get("/console", guards=[requires(Permission.CONSOLE)])
async def console_home(request: Req) -> Response[str]:
    user: User = request.scope["state"]["user"]
    grants = sorted(p.value for p in ROLE_GRANTS.get(Role(user.role), frozenset()))
    return render(request, "admin/home.html", user=user, grants=grants)


def _is_post(request: Req) -> bool:
    return request.method == "POST"


def console_router(ctx: AppContext) -> Router:
    secure = ctx.settings.url.startswith("https")
    sessions = DefineMiddleware(_sessions, secure=secure)
    csrf = CSRFConfig(
        secret=ctx.secret_key,
        cookie_name="hotline_console_csrf",
        cookie_samesite="strict",
        cookie_secure=secure,
    )
    posts = RateLimitConfig(
        rate_limit=("minute", 30), check_throttle_handler=_is_post, store="console_posts"
    )
    return Router(
        path="/",
        route_handlers=[
            login_form,
            login,
            logout,
            console_home,
            queue_screen,
            change_state,
            item_action,
            stream,
            workspace,
            classify,
            audit_search,
        ],
        middleware=[
            sessions,
            DefineMiddleware(CSRFMiddleware, config=csrf),
            posts.middleware,
        ],
        guards=[from_allowed_network],
        include_in_schema=False,
    )
