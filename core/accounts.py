"""Staff accounts: argon2 password hashes, and the first administrator made on first start."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, select

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
