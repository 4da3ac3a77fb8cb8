"""Console sign-in and the guard every console endpoint uses.

Server-side sessions (the ``sessions`` store: files in the data directory, or Redis), CSRF on
every form, sign-in rate limited and locked after repeated failures, a fresh session id at
sign-in, and a permission check per endpoint (``requires``).
"""

from __future__ import annotations

from typing import Any

import pyotp
from litestar import Request, Response, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.response import Redirect
from litestar.types import ASGIApp, Empty

from hotline.core.people.accounts import change_password
from hotline.core.people.signin import (
    SignInRefused,
    enrol_totp,
    second_factor,
    session_data,
    sign_in,
    totp_required,
)
from hotline.core.shell.context import AppContext
from hotline.core.shell.returns import HOME, safe_next
from hotline.core.shell.web import render

from .approvals import approval_decide, approvals
from .audit import audit_search
from .case_search import case_search
from .citizens import citizen_edit, citizen_merge, citizen_record, citizen_search
from .department import department_case, department_step, todo, unmask
from .departments import departments, save_departments
from .desk import desk
from .desktop import worklist_pane
from .files import staff_file
from .guards import ctx_of as _ctx
from .guards import current_user, from_allowed_network, session_user_id
from .held import (
    held_list,
    held_message,
    held_step,
    office_held_list,
    office_held_message,
    office_held_step,
)
from .homes import console_home
from .notices import announce, notices
from .profile import profile, profile_totp, user_page
from .queue import change_state, item_action, queue_screen, stream
from .queue_settings import queue_settings, save_away_reason, save_queue
from .record import record, record_form
from .reply_templates import reply_template, reply_templates, save_reply_template
from .rules import (
    add_rule,
    auto_dispatch,
    calendar_day,
    calendar_import,
    calendar_settings,
    delete_rule,
    routing_settings,
)
from .supervision import break_glass, mailbox_overview, supervision
from .team import agent_profile, move_item, save_agent_profile, sign_agent_out, team_board
from .users import (
    grant_add,
    grant_delete,
    user_add,
    user_edit,
    user_reset,
    user_reset_totp,
    users,
)
from .work import my_work, team_work
from .workflow import hotline_step, mailbox_step, supervisor_step
from .workspace import answer, classify, hand_over, mailbox_letter, workspace

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

    async def store_in_message(
        self, scope_session: Any, message: Any, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        """Nothing is stored for a stranger: an empty session writes no row or file and sets no
        cookie (only clears one that was sent). A session exists once sign-in has begun."""
        if not scope_session:
            if connection.cookies.get(self.config.key):
                await super().store_in_message(Empty, message, connection)
            return
        await super().store_in_message(scope_session, message, connection)


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
    next_path = safe_next(request.query_params.get("next"))
    return render(request, "admin/login.html", error=None, wait=0, next_path=next_path)


@post("/console/login")
async def login(request: Req) -> Response[Any]:
    form = await request.form()
    address = request.client.host if request.client else "unknown"
    next_path = safe_next(form.get("next"))
    try:
        user = await sign_in(
            _ctx(request), str(form.get("username", "")), str(form.get("password", "")), address
        )
    except SignInRefused as refused:
        response = render(
            request,
            "admin/login.html",
            error=refused.code,
            wait=refused.wait,
            next_path=next_path,
            status=401 if refused.code == "wrong" else 429,
        )
        if refused.wait:
            response.headers["Retry-After"] = str(refused.wait)
        return response
    ctx = _ctx(request)
    if totp_required(ctx, user):
        # Half signed in: the password was right, the second factor is still to come.
        if user.totp_secret:
            await _fresh_session(request, {"pending": user.id, "next": next_path})
            return Redirect("/console/login/totp", status_code=303)
        await _fresh_session(request, {"enrolling": user.id, "secret": pyotp.random_base32()})
        return Redirect("/console/totp/setup", status_code=303)
    await _fresh_session(request, await session_data(ctx, user.id))
    if user.must_change_password:
        return Redirect("/console/password", status_code=303)
    return Redirect(next_path or HOME, status_code=303)


async def _fresh_session(request: Req, data: dict[str, Any]) -> None:
    """A new session id for a new level of trust: no fixation."""
    old = request.cookies.get("hotline_console")
    if old:
        await request.app.stores.get("sessions").delete(old)
    request.scope.setdefault("state", {})[ROTATE] = True
    request.set_session(data)


@get("/console/login/totp")
async def totp_form(request: Req) -> Response[Any]:
    if not request.session.get("pending"):
        return Redirect("/console/login", status_code=303)
    return render(request, "admin/totp.html", error=None)


@post("/console/login/totp")
async def totp_check(request: Req) -> Response[Any]:
    ctx = _ctx(request)
    user_id = request.session.get("pending")
    if not user_id:
        return Redirect("/console/login", status_code=303)
    code = str((await request.form()).get("code", ""))
    problem = await second_factor(ctx, int(user_id), code)
    if problem:
        status = 429 if problem == "wait" else 401
        return render(request, "admin/totp.html", error=problem, status=status)
    next_path = safe_next(request.session.get("next"))
    await _fresh_session(request, await session_data(ctx, int(user_id)))
    return Redirect(next_path or HOME, status_code=303)


@get("/console/totp/setup")
async def totp_setup(request: Req) -> Response[Any]:
    secret = request.session.get("secret")
    if not request.session.get("enrolling") or not secret:
        return Redirect("/console/login", status_code=303)
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=f"user-{request.session['enrolling']}", issuer_name="Civic Hotline"
    )
    return render(request, "admin/totp_setup.html", secret=secret, uri=uri, error=None)


@post("/console/totp/setup")
async def totp_enrol(request: Req) -> Response[Any]:
    user_id, secret = request.session.get("enrolling"), request.session.get("secret")
    if not user_id or not secret:
        return Redirect("/console/login", status_code=303)
    code = str((await request.form()).get("code", ""))
    if not await enrol_totp(_ctx(request), int(user_id), str(secret), code):
        return render(
            request, "admin/totp_setup.html", secret=secret, uri="", error="wrong", status=401
        )
    await _fresh_session(request, await session_data(_ctx(request), int(user_id)))
    return Redirect("/console", status_code=303)


@get("/console/password")
async def password_form(request: Req) -> Response[Any]:
    if await current_user(request) is None:
        return Redirect("/console/login", status_code=303)
    return render(request, "admin/password.html", error=None)


@post("/console/password")
async def password_change(request: Req) -> Response[Any]:
    user = await current_user(request)
    if user is None:
        return Redirect("/console/login", status_code=303)
    form = await request.form()
    problem = await change_password(
        _ctx(request), user.id, str(form.get("current", "")), str(form.get("new", ""))
    )
    if problem:
        return render(request, "admin/password.html", error=problem, status=422)
    # the user's other sessions ended with the change (their epoch is old); this one goes on
    await _fresh_session(request, await session_data(_ctx(request), user.id))
    return Redirect("/console", status_code=303)


@post("/console/logout")
async def logout(request: Req) -> Response[Any]:
    request.clear_session()
    return Redirect("/console/login", status_code=303)


def _is_post(request: Req) -> bool:
    return request.method == "POST"


def _is_signin_page(request: Req) -> bool:
    """Requests from someone not signed in (the sign-in pages, or any console address they
    try), counted per address: a stranger may not hammer them. Signed-in staff are limited
    per user instead (a call centre's agents share one address)."""
    return not session_user_id(request)


def _poster(request: Req) -> str:
    """Console posts are limited per signed-in user (a call centre's agents share one address),
    and per address before signing in."""
    user_id = session_user_id(request)
    return f"user:{user_id}" if user_id else f"address:{get_remote_address(request)}"


def plugin_console_routes(ctx: AppContext) -> list[Any]:
    """Staff screens other plugins add (``register_console_routes``)."""
    return [handler for group in ctx.pm.hook.register_console_routes(ctx=ctx) for handler in group]


def console_router(ctx: AppContext) -> Router:
    secure = ctx.settings.url.startswith("https")
    sessions = DefineMiddleware(_sessions, secure=secure)
    csrf = CSRFConfig(
        secret=ctx.secret_key,
        cookie_name="hotline_console_csrf",
        cookie_samesite="strict",
        cookie_secure=secure,
    )
    signin = RateLimitConfig(
        rate_limit=("minute", ctx.settings.signin_per_minute),
        check_throttle_handler=_is_signin_page,
        store="signin",
    )
    posts = RateLimitConfig(
        rate_limit=("minute", ctx.settings.console_posts_per_minute),
        check_throttle_handler=_is_post,
        identifier_for_request=_poster,
        store="console_posts",
    )
    return Router(
        path="/",
        route_handlers=[
            login_form,
            login,
            totp_form,
            totp_check,
            totp_setup,
            totp_enrol,
            password_form,
            password_change,
            logout,
            console_home,
            queue_screen,
            worklist_pane,
            change_state,
            item_action,
            stream,
            workspace,
            mailbox_letter,
            classify,
            answer,
            hand_over,
            audit_search,
            team_board,
            sign_agent_out,
            move_item,
            agent_profile,
            save_agent_profile,
            record_form,
            record,
            citizen_search,
            case_search,
            citizen_record,
            citizen_edit,
            citizen_merge,
            my_work,
            team_work,
            users,
            user_page,
            profile,
            profile_totp,
            user_add,
            user_edit,
            user_reset,
            user_reset_totp,
            approvals,
            approval_decide,
            grant_add,
            grant_delete,
            queue_settings,
            reply_templates,
            reply_template,
            save_reply_template,
            save_queue,
            save_away_reason,
            hotline_step,
            supervisor_step,
            mailbox_step,
            desk,
            departments,
            save_departments,
            held_list,
            held_message,
            held_step,
            office_held_list,
            office_held_message,
            office_held_step,
            staff_file,
            todo,
            department_case,
            department_step,
            unmask,
            supervision,
            mailbox_overview,
            break_glass,
            notices,
            announce,
            routing_settings,
            add_rule,
            delete_rule,
            auto_dispatch,
            calendar_settings,
            calendar_import,
            calendar_day,
            *plugin_console_routes(ctx),
        ],
        middleware=[
            sessions,
            DefineMiddleware(CSRFMiddleware, config=csrf),
            posts.middleware,
            signin.middleware,
        ],
        guards=[from_allowed_network],
        include_in_schema=False,
    )
