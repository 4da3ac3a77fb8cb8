"""Signing staff in: the password, then the second factor (TOTP) when the user has one.

Wrong guesses slow down the account they aim at, they never lock it: after a few free tries
each further try must wait longer (1 s, 2 s, 4 s... at most ``MAX_DELAY``), so a stranger who
types wrong passwords for someone else's name cannot keep that person out for long, while a
guesser gets a handful of tries a minute. The hard limit is per address: one address that
fails too often is refused outright for a while. Counted in the database, so every app
process agrees. Password hashes are checked in a worker thread, off the event loop.

A TOTP code is good for one sign-in: the time step it belongs to is stored, and a code of
that step or an earlier one is refused (a code seen over a shoulder or in a proxy log cannot
be replayed while it is still valid).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyotp
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.core.people import attempts
from hotline.core.people.passwords import hasher, verify_password_async
from hotline.core.storage.enums import Role
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import User

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

WINDOW = timedelta(minutes=15)
FREE_FAILURES = 3  # per account, before the delays begin
MAX_DELAY = 60.0  # seconds: the longest an account's next try must wait
MAX_FAILURES_PER_ADDRESS = 20  # within WINDOW; then the address is refused until it passes
# Checked when the account does not exist, so both answers take the same time.
_DUMMY_HASH = hasher.hash("not-a-real-password")


class SignInRefused(Exception):
    """``code``: ``wrong`` (unknown name or wrong password, alike), ``wait`` (the account's
    next try must wait ``wait`` seconds) or ``locked`` (this address failed too often)."""

    def __init__(self, code: str, wait: int = 0) -> None:
        self.code = code
        self.wait = wait
        super().__init__(code)


def delay_after(failures: int) -> float:
    """Seconds an account's next try waits after ``failures`` recent failures."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY, 2.0 ** min(failures - FREE_FAILURES, 16))


def _wait(session: Session, key: str, now: datetime) -> int:
    count, last = attempts.failures(session, key, WINDOW)
    if last is None:
        return 0
    left = delay_after(count) - (now - last).total_seconds()
    return math.ceil(left) if left > 0 else 0


def _name(username: str) -> str:
    return username.strip().lower()[:64]


def _look(session: Session, name: str, address: str) -> User | tuple[str, int] | None:
    """The account to check the password of; or why not to check now."""
    if attempts.over_limit(session, {f"ip:{address}": MAX_FAILURES_PER_ADDRESS}, WINDOW):
        return ("locked", 0)
    wait = _wait(session, f"u:{name}", utcnow())
    if wait:
        return ("wait", wait)
    return session.scalar(select(User).where(func.lower(User.username) == name))


async def sign_in(ctx: AppContext, username: str, password: str, address: str) -> User:
    """The user for these credentials, or SignInRefused."""
    name = _name(username)
    found = await ctx.db.run(lambda s: _look(s, name, address), write=False)
    if isinstance(found, tuple):
        raise SignInRefused(*found)
    valid = await verify_password_async(found.password_hash if found else _DUMMY_HASH, password)
    keys = [f"u:{name}", f"ip:{address}"]
    if found is None or not valid or not found.active:
        await ctx.db.run(lambda s: attempts.record(s, keys), write=True)
        raise SignInRefused("wrong")
    await ctx.db.run(lambda s: attempts.clear(s, keys[0]), write=True)
    return found


# --- the second factor (TOTP) ----------------------------------------------------------------

TOTP_ROLES = (Role.ADMINISTRATOR, Role.DIRECTOR_OFFICE)
TOTP_WINDOW = 1  # steps either side of now: a phone's clock may be off by up to 30 s


def totp_required(ctx: AppContext, user: User) -> bool:
    """A user with a second factor always uses it; the site may require one of these roles."""
    return bool(user.totp_secret) or (ctx.settings.require_totp and user.role in TOTP_ROLES)


def totp_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step ``code`` belongs to, within the window around now; None when it fits none."""
    code = code.strip().replace(" ", "")
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now or utcnow())
    for candidate in range(step - TOTP_WINDOW, step + TOTP_WINDOW + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(candidate)):
            return candidate
    return None


def totp_ok(secret: str, code: str) -> bool:
    return totp_step(secret, code) is not None


def _use_step(session: Session, user_id: int, step: int) -> bool:
    """Take the step for this user, unless it or a later one was used: one UPDATE, so two
    sign-ins racing with the same code cannot both win."""
    done = session.execute(
        update(User)
        .where(
            User.id == user_id,
            (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def enrol_totp(ctx: AppContext, user_id: int, secret: str, code: str) -> bool:
    """Store the secret once the user proved their authenticator shows its codes (that code is
    used up: it cannot sign in again)."""
    step = totp_step(secret, code)
    if step is None:
        return False
    async with ctx.db.transaction() as session:
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            return False
        user.totp_secret, user.totp_last_step = secret, step
    return True


def _second_factor(session: Session, user_id: int, code: str) -> str | None:
    key = f"t:{user_id}"
    if _wait(session, key, utcnow()):
        return "wait"
    user = session.get(User, user_id)
    if user is None or not user.active or not user.totp_secret:
        attempts.record(session, [key])
        return "wrong"
    step = totp_step(user.totp_secret, code)
    if step is None:
        attempts.record(session, [key])
        return "wrong"
    if not _use_step(session, user_id, step):
        attempts.record(session, [key])
        return "reused"
    attempts.clear(session, key)
    return None


async def second_factor(ctx: AppContext, user_id: int, code: str) -> str | None:
    """None when the code is right and new; else ``wrong``, ``reused`` (a code already used)
    or ``wait`` (too many wrong codes just now: the delays of passwords apply)."""
    return await ctx.db.run(lambda s: _second_factor(s, user_id, code), write=True)


async def check_second_factor(ctx: AppContext, user_id: int, code: str) -> bool:
    return await second_factor(ctx, user_id, code) is None


async def session_data(ctx: AppContext, user_id: int) -> dict[str, Any]:
    """What a signed-in console session holds: the user and their session epoch (a password
    change or reset raises the epoch, and sessions of an older one end)."""
    async with ctx.db.session() as session:
        epoch = await session.scalar(select(User.session_epoch).where(User.id == user_id))
    return {"user_id": user_id, "epoch": int(epoch or 0)}
