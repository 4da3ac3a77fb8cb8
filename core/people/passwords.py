"""People's passwords: argon2 hashes made and checked in a worker thread (argon2 takes tens of
milliseconds of CPU on purpose; on the event loop it would stall every other request), and the
policy a new password must meet: long enough, and not guessable (zxcvbn: common and breached
passwords, keyboard walks, repeats and sequences, the user's own names)."""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
MIN_SCORE = 3  # zxcvbn's 0..4: 3 is "safely unguessable" against online and throttled attacks
# words an attacker of this site tries first, besides the user's own names
SITE_WORDS = ("hotline", "civic", "12345", "311", "console", "admin", "administrator")


def hash_password(password: str) -> str:
    """Blocking: for scripts, tests and threads. Request handlers use ``hash_password_async``."""
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Blocking, like ``hash_password``."""
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    return await anyio.to_thread.run_sync(hasher.hash, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    return await anyio.to_thread.run_sync(verify_password, password_hash, password)


def password_problem(password: str, *personal: str) -> str | None:
    """Why ``password`` may not be used, or None: ``too_short``, ``common`` (on the lists of
    breached and common passwords, or close to one), ``repetitive`` (repeats, sequences,
    keyboard walks), ``personal`` (the user's name or the site's), ``weak`` (guessable
    otherwise)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    words = [w for w in (*personal, *SITE_WORDS) if w]
    lowered = password.lower()
    if any(len(w) >= 4 and w.lower() in lowered for w in personal):
        return "personal"
    result = zxcvbn(password[:200], user_inputs=words)  # zxcvbn slows on very long input
    if result["score"] >= MIN_SCORE:
        return None
    patterns = {m.get("pattern") for m in result["sequence"]}
    dictionaries = {m.get("dictionary_name") for m in result["sequence"]}
    if "user_inputs" in dictionaries:
        return "personal"
    if "passwords" in dictionaries:
        return "common"
    if patterns & {"repeat", "sequence", "spatial"}:
        return "repetitive"
    return "weak"
