"""Staff accounts: argon2 password hashes, and the first administrator made on first start."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.core import attempts
from hotline.core.context import AppContext
from hotline.core.enums import Role
from hotline.core.models import User

hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


async def ensure_first_admin(ctx: AppContext) -> str | None:
    """Make ``admin`` when there is no staff account yet. Returns the generated password once
    (the caller prints it); only its hash is stored, and it is never logged."""
    async with ctx.db.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(User))
        if count:
            return None
        password = secrets.token_urlsafe(12)
        session.add(
            User(
                username="admin",
                display_name="Administrator",
                role=Role.ADMINISTRATOR,
                password_hash=hash_password(password),
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
                password_hash=hash_password(password),
                department_id=department_id,
                must_change_password=must_change,
            )
        )
    return password


async def reset_password(ctx: AppContext, user_id: int) -> str | None:
    """A new generated password (returned once) to be replaced at the next sign-in."""
    password = secrets.token_urlsafe(12)
    async with ctx.db.transaction() as session:
        user = await session.get(User, user_id)
        if user is None:
            return None
        user.password_hash = hash_password(password)
        user.must_change_password = True
    return password


# --- signing in ------------------------------------------------------------------------------

SIGN_IN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
# Verified against when the account does not exist, so both answers take the same time.
_DUMMY_HASH = hasher.hash("not-a-real-password")


class SignInRefused(Exception):
    """``code``: ``wrong`` (unknown name or wrong password, alike) or ``locked``."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def _sign_in(session: Session, username: str, password: str, address: str) -> User | str:
    name = username.strip().lower()[:64]
    limits = {f"u:{name}": MAX_FAILURES_PER_ACCOUNT, f"ip:{address}": MAX_FAILURES_PER_ADDRESS}
    if attempts.over_limit(session, limits, SIGN_IN_WINDOW):
        return "locked"
    user = session.scalar(select(User).where(func.lower(User.username) == name))
    valid = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or not user.active:
        attempts.record(session, list(limits))
        return "wrong"
    return user


async def sign_in(ctx: AppContext, username: str, password: str, address: str) -> User:
    """The user for these credentials, or SignInRefused. Wrong tries lock the account and the
    address for a while (counted in the database, so every app process agrees)."""
    found = await ctx.db.run(lambda s: _sign_in(s, username, password, address), write=True)
    if isinstance(found, str):
        raise SignInRefused(found)
    return found


# --- the second factor (TOTP) ----------------------------------------------------------------

TOTP_ROLES = (Role.ADMINISTRATOR, Role.DIRECTOR_OFFICE)


def totp_required(ctx: AppContext, user: User) -> bool:
    """A user with a second factor always uses it; the site may require one of these roles."""
    return bool(user.totp_secret) or (ctx.settings.require_totp and user.role in TOTP_ROLES)


def totp_ok(secret: str, code: str) -> bool:
    return pyotp.TOTP(secret).verify(code.strip().replace(" ", ""), valid_window=1)


async def enrol_totp(ctx: AppContext, user_id: int, secret: str, code: str) -> bool:
    """Store the secret once the user proved their authenticator shows its codes."""
    if not totp_ok(secret, code):
        return False
    async with ctx.db.transaction() as session:
        user = await session.get(User, user_id)
        if user is None:
            return False
        user.totp_secret = secret
    return True


def _second_factor(session: Session, user_id: int, code: str) -> bool:
    limits = {f"t:{user_id}": MAX_FAILURES_PER_ACCOUNT}
    if attempts.over_limit(session, limits, SIGN_IN_WINDOW):
        return False
    user = session.get(User, user_id)
    if (
        user is None
        or not user.active
        or not user.totp_secret
        or not totp_ok(user.totp_secret, code)
    ):
        attempts.record(session, list(limits))
        return False
    return True


async def check_second_factor(ctx: AppContext, user_id: int, code: str) -> bool:
    """The code from the user's authenticator; wrong codes lock like wrong passwords."""
    return await ctx.db.run(lambda s: _second_factor(s, user_id, code), write=True)


MIN_PASSWORD_LENGTH = 12


async def change_password(ctx: AppContext, user_id: int, current: str, new: str) -> str | None:
    """Set a new password after checking the current one; returns the problem, or None."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return "too_short"
    async with ctx.db.transaction() as session:
        user = await session.get(User, user_id)
        if user is None or not verify_password(user.password_hash, current):
            return "wrong"
        if verify_password(user.password_hash, new):
            return "same"
        user.password_hash = hash_password(new)
        user.must_change_password = False
    return None
