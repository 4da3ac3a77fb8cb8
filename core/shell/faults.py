"""Faults of the machine, not of the request: a locked or unreachable database, a full disk.

``classify`` names the fault an exception shows (or None for a plain bug); the web shell answers
such a request 503 with ``Retry-After`` and ``FaultLog`` writes one line per fault kind per
interval, however many requests fail. Nothing personal is logged: the fault's kind, where it
happened and the exception's type, never its message (SQLAlchemy's carries SQL parameters).
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from enum import StrEnum

log = logging.getLogger("hotline.faults")


class Fault(StrEnum):
    DATABASE_LOCKED = "database_locked"
    DATABASE_UNAVAILABLE = "database_unavailable"
    STORAGE_FULL = "storage_full"


# How long a client is told to wait (seconds): a lock passes quickly, a full disk needs people.
RETRY_AFTER = {
    Fault.DATABASE_LOCKED: 5,
    Fault.DATABASE_UNAVAILABLE: 30,
    Fault.STORAGE_FULL: 60,
}

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}
_UNREACHABLE_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}
# SQLite says these in its messages (sqlite3.OperationalError has no error code on 3.11).
_SQLITE_LOCKED = ("database is locked", "database table is locked", "database is busy")
_SQLITE_FULL = ("database or disk is full", "disk i/o error", "unable to open database file")
# PostgreSQL SQLSTATEs: lock_not_available, deadlock, serialization; the server is not there.
_PG_LOCKED = {"55P03", "40P01", "40001"}
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57P")


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception, what caused it and what it wraps (SQLAlchemy's ``orig``), bounded."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 12:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        todo += [orig if isinstance(orig, BaseException) else None]
        todo += [current.__cause__, current.__context__]
    return seen


_DATABASE_MODULES = ("sqlalchemy", "asyncpg", "psycopg", "aiosqlite", "sqlite3", "huey")


def _from_database(err: BaseException) -> bool:
    """Was ``err`` raised inside a database driver (asyncpg raises a bare OSError)?"""
    tb = err.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(_DATABASE_MODULES):
            return True
        tb = tb.tb_next
    return type(err).__module__.startswith(_DATABASE_MODULES)


def classify(exc: BaseException) -> Fault | None:
    """The machine fault ``exc`` shows, or None when it is an ordinary error."""
    from sqlalchemy import exc as sa_exc

    for err in exception_chain(exc):
        if isinstance(err, sa_exc.TimeoutError):  # no pooled connection came free
            return Fault.DATABASE_UNAVAILABLE
        state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if isinstance(state, str) and state:
            if state in _PG_LOCKED:
                return Fault.DATABASE_LOCKED
            if state.startswith(_PG_UNAVAILABLE_CLASSES):
                return Fault.DATABASE_UNAVAILABLE
        name = type(err).__name__
        module = type(err).__module__
        if module.startswith("sqlite3") or name == "OperationalError":
            message = str(err).lower()
            if any(m in message for m in _SQLITE_LOCKED):
                return Fault.DATABASE_LOCKED
            if any(m in message for m in _SQLITE_FULL):
                return Fault.STORAGE_FULL
        if isinstance(err, OSError) and err.errno in _FULL_ERRNOS:
            return Fault.STORAGE_FULL
        unreachable = isinstance(err, ConnectionError | TimeoutError) or (
            isinstance(err, OSError) and err.errno in _UNREACHABLE_ERRNOS
        )
        if unreachable and _from_database(err):
            return Fault.DATABASE_UNAVAILABLE
        if module.startswith("asyncpg") and name in (
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "CannotConnectNowError",
            "TooManyConnectionsError",
        ):
            return Fault.DATABASE_UNAVAILABLE
        if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
            return Fault.DATABASE_UNAVAILABLE
    return None


class FaultLog:
    """One log line per fault kind per ``interval`` seconds; the next line counts the requests
    that failed the same way in between. Safe to call from job threads too."""

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._last: dict[Fault, float] = {}
        self._suppressed: dict[Fault, int] = {}
        self._lock = threading.Lock()

    def report(self, fault: Fault, where: str, exc: BaseException) -> bool:
        """Log the fault unless it was logged within the interval; True when logged."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(fault)
            if last is not None and now - last < self.interval:
                self._suppressed[fault] = self._suppressed.get(fault, 0) + 1
                return False
            self._last[fault] = now
            suppressed = self._suppressed.pop(fault, 0)
        log.error(
            "fault",
            extra={
                "fault": fault.value,
                "where": where,
                "error": f"{type(exc).__module__}.{type(exc).__name__}",
                "suppressed": suppressed,
                "retry_after": RETRY_AFTER[fault],
            },
        )
        return True
