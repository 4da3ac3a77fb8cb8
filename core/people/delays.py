"""Growing delays after wrong guesses, instead of a lockout anyone can trigger.

A key (a tracking number, say) may be guessed ``free`` times in the window; after that each
next try waits ``base * 2**(n - free)`` seconds after the last wrong one, at most ``cap``. A try
refused for waiting is not counted, so a stranger cannot push the wait up faster than it
runs out, and the citizen with the right code gets in once the wait is over: there is no
state in which the right answer is refused for long. The failures are the ``FailedAttempt``
rows ``core.people.attempts`` writes, so every app process sees the same delay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import FailedAttempt


@dataclass(frozen=True)
class Delay:
    free: int = 5
    base_seconds: float = 2.0
    cap_seconds: float = 900.0

    def after(self, failures: int) -> float:
        """Seconds to wait after the last of ``failures`` wrong tries."""
        if failures < self.free:
            return 0.0
        return float(min(self.cap_seconds, self.base_seconds * 2 ** (failures - self.free)))


def failures(session: Session, key: str, window: timedelta) -> tuple[int, datetime | None]:
    """How many wrong tries ``key`` has in the window, and when the last one was."""
    count, last = session.execute(
        select(func.count(), func.max(FailedAttempt.at)).where(
            FailedAttempt.key == key, FailedAttempt.at >= utcnow() - window
        )
    ).one()
    return int(count or 0), last


def wait_seconds(
    session: Session, key: str, delay: Delay, window: timedelta, now: datetime | None = None
) -> int:
    """Whole seconds until ``key`` may be tried again (0: now)."""
    count, last = failures(session, key, window)
    if not count or last is None:
        return 0
    if last.tzinfo is None:  # SQLite hands back what it was given; we always give UTC
        from datetime import UTC

        last = last.replace(tzinfo=UTC)
    left = delay.after(count) - ((now or utcnow()) - last).total_seconds()
    return max(0, math.ceil(left))


def count_since(session: Session, key: str, window: timedelta) -> int:
    return failures(session, key, window)[0]


def purge(session: Session, older_than: timedelta) -> int:
    """Forget wrong tries older than any window looks at; how many rows went."""
    result = session.execute(delete(FailedAttempt).where(FailedAttempt.at < utcnow() - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
