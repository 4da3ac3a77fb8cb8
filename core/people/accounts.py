"""Staff accounts: the first administrator made on first start, new accounts, password resets
and changes. Hashing runs off the event loop (``core.people.passwords``); signing in is
``core.people.signin`` (its names are here too, for callers that import them from here)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hotline.core.people.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    hash_password_async,
    password_problem,
    verify_password,
    verify_password_async,
)
from hotline.core.people.signin import (
    TOTP_ROLES,
    SignInRefused,
    check_second_factor,
    enrol_totp,
    second_factor,
    sign_in,
    totp_ok,
    totp_required,
)
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import User

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "TOTP_ROLES",
    "SignInRefused",
    "add_user",
    "change_password",
    "check_second_factor",
    "enrol_totp",
    "ensure_first_admin",
    "hash_password",
    "password_problem",
    "reset_password",
    "second_factor",
    "sign_in",
    "totp_ok",
    "totp_required",
    "verify_password",
]


async def ensure_first_admin(ctx: AppContext) -> str | None:
    """Make ``admin`` when there is no staff account yet. Returns the generated password once
    (the caller prints it); only its hash is stored, and it is never logged."""
    password = secrets.token_urlsafe(12)
    password_hash = await hash_password_async(password)
    async with ctx.db.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(User))
        if count:
            return None
        session.add(
            User(
                username="admin",
                display_name="Administrator",
                role=Role.ADMINISTRATOR,
                password_hash=password_hash,
                must_change_password=True,
            )
        )
    return password


async def add_user(
    ctx: AppContext,
    username: str,
    role: Role,
    display_name: str,
    *,
    department_id: int | None = None,
    must_change: bool = False,
) -> str | None:
    """A new staff account with a generated password, returned once; None if the name is taken.
    ``must_change``: the password is to be replaced at first sign-in (accounts made in the
    console; ``hotline user add`` hands it to its operator)."""
    password = secrets.token_urlsafe(12)
    password_hash = await hash_password_async(password)
    async with ctx.db.transaction() as session:
        taken = await session.scalar(
            select(User.id).where(func.lower(User.username) == username.strip().lower())
        )
        if taken is not None:
            return None
        session.add(
            User(
                username=username.strip(),
                display_name=display_name[:200],
                role=role,
                password_hash=password_hash,
                department_id=department_id,
                must_change_password=must_change,
            )
        )
    return password


async def reset_password(ctx: AppContext, user_id: int) -> str | None:
    """A new generated password (returned once) to be replaced at the next sign-in; the
    account's sessions end. Who may reset whose password is ``core.people.separation``'s to say."""
    password = secrets.token_urlsafe(12)
    password_hash = await hash_password_async(password)
    async with ctx.db.transaction() as session:
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            return None
        user.password_hash = password_hash
        user.must_change_password = True
        user.session_epoch += 1
    return password


async def change_password(ctx: AppContext, user_id: int, current: str, new: str) -> str | None:
    """Set a new password after checking the current one; returns the problem, or None. The
    user's other sessions end (the caller gives the current one a fresh session)."""
    async with ctx.db.session() as session:
        user = await session.get(User, user_id)
    if user is None or not await verify_password_async(user.password_hash, current):
        return "wrong"
    problem = password_problem(new, user.username, user.display_name)
    if problem:
        return problem
    if await verify_password_async(user.password_hash, new):
        return "same"
    password_hash = await hash_password_async(new)
    async with ctx.db.transaction() as session:
        locked = await session.get(User, user_id, with_for_update=True)
        if locked is None or locked.password_hash != user.password_hash:
            return "wrong"  # changed meanwhile by another session
        locked.password_hash = password_hash
        locked.must_change_password = False
        locked.session_epoch += 1
    return None
