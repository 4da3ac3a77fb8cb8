"""What the console says about rights in words, a staff member's own profile page (their role,
what they may do, their password and second factor) and the administrator's page of one account.

Any user may turn on the second factor (TOTP) from their profile; administrators and the
director's office are asked for it at sign-in unless the site relaxes ``HOTLINE_REQUIRE_TOTP``."""

from __future__ import annotations

from typing import Any

import pyotp
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from hotline.core.people.permissions import ROLE_GRANTS, Permission
from hotline.core.people.signin import TOTP_ROLES, enrol_totp
from hotline.core.shell.web import render
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import PermissionGrant, User
from hotline.core.storage.models.reference import Department

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]


def _(message: str) -> str:
    """Marks a word for the catalogs; the page translates it when it shows it."""
    return message


# Every permission in words (the codes never reach a screen).
PERMISSION_WORDS: dict[str, str] = {
    Permission.CONSOLE: _("Sign in to the console"),
    Permission.QUEUE_WORK: _("Take contacts from the queue"),
    Permission.QUEUE_MANAGE: _("Manage the team's queue and sign agents out"),
    Permission.CASE_READ: _("Read the hotline's cases"),
    Permission.CASE_EDIT: _("Classify, summarise and answer cases; correct a citizen's record"),
    Permission.CITIZEN_MERGE: _("Merge two records of the same person"),
    Permission.DEPARTMENT_HANDLE: _("Sign for, handle, answer and return a department's cases"),
    Permission.DEPARTMENT_APPROVE: _("Approve for a department (department head)"),
    Permission.CONTACT_UNMASK: _("See a citizen's full phone number or address"),
    Permission.DIRECTOR_MAILBOX: _("Read the director's mailbox"),
    Permission.MAILBOX_COUNTS: _("See the director's mailbox as counts and deadlines"),
    Permission.SUPERVISE: _("Urge, supervise, approve extensions, read reports and the audit"),
    Permission.WALLBOARD: _("See the wallboard: the centre's live figures"),
    Permission.ADMINISTER: _("Manage users, roles, routing, calendars and settings"),
}


def permission_words(permissions: Any) -> list[str]:
    """The words of these permissions, in the order of the list above."""
    given = {str(p) for p in permissions}
    return [words for code, words in PERMISSION_WORDS.items() if str(code) in given]


def role_permissions(role: str) -> list[str]:
    return permission_words(ROLE_GRANTS.get(Role(role), frozenset()))


@get("/console/profile", guards=[requires(Permission.CONSOLE)])
async def profile(request: Req) -> Response[str]:
    user: User = request.scope["state"]["user"]
    return _profile(request, user)


def _profile(
    request: Req, user: User, *, secret: str = "", error: str | None = None, status: int = 200
) -> Response[str]:
    ctx = ctx_of(request)
    uri = (
        pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="Civic Hotline")
        if secret
        else ""
    )
    return render(
        request,
        "admin/profile.html",
        user=user,
        allowed=permission_words(request.scope["state"].get("permissions", frozenset())),
        must=ctx.settings.require_totp and Role(user.role) in TOTP_ROLES,
        secret=secret,
        uri=uri,
        error=error,
        status=status,
    )


@post("/console/profile/totp", guards=[requires(Permission.CONSOLE)])
async def profile_totp(request: Req) -> Response[Any]:
    """Step one (no code yet): a new secret to scan, kept in the session; step two: the code
    the authenticator shows, which stores the secret."""
    user: User = request.scope["state"]["user"]
    form = await request.form()
    code = str(form.get("code", "")).strip()
    secret = str(request.session.get("totp_new") or "")
    if not code or not secret:
        secret = pyotp.random_base32()
        request.session["totp_new"] = secret
        return _profile(request, user, secret=secret)
    if not await enrol_totp(ctx_of(request), user.id, secret, code):
        return _profile(request, user, secret=secret, error="wrong", status=422)
    request.session.pop("totp_new", None)
    return Redirect("/console/profile?done=totp", status_code=303)


@get("/console/settings/users/{user_id:int}", guards=[requires(Permission.ADMINISTER)])
async def user_page(request: Req, user_id: FromPath[int]) -> Response[str]:
    """One account: its details to edit, what its role may do, its overrides, its resets."""
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFoundException("no such user")
        departments = list(await session.scalars(select(Department).order_by(Department.code)))
        grants = list(
            await session.scalars(
                select(PermissionGrant)
                .where(PermissionGrant.user_id == user_id)
                .order_by(PermissionGrant.id)
            )
        )
    return render(
        request,
        "admin/user_edit.html",
        account=user,
        departments=departments,
        roles=list(Role),
        allowed=role_permissions(user.role),
        permission_names=PERMISSION_WORDS,
        grants=grants,
        me=request.scope["state"]["user"].id,
    )
