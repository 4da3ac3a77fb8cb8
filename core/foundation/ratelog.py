"""One log line per kind of trouble per minute, not one per poll.

With the job store locked or the disk full, huey's workers fail every time they look for work
(20 times a second each) and log each failure with its traceback: 746 lines in 20 seconds. The
``RateLimited`` filter lets the first warning of a kind through, then holds back the same kind
for ``seconds``; the next one let through says how many were held back (``suppressed``).
"""

from __future__ import annotations

import logging
import threading
import time

WINDOW_SECONDS = 60.0
# huey's loggers (a filter on a logger does not reach its children) and ours around jobs
JOB_LOGGERS = (
    "huey",
    "huey.consumer",
    "huey.consumer.Worker",
    "huey.consumer.Scheduler",
    "hotline.jobs",
    "hotline.followups",
    "hotline.db",
)


class RateLimited(logging.Filter):
    """Warnings and errors of one kind (logger, message template, exception type) at most
    once per ``seconds``; lower levels pass."""

    def __init__(self, seconds: float = WINDOW_SECONDS) -> None:
        super().__init__()
        self.seconds = seconds
        self._seen: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, str(record.msg), error)
        now = time.monotonic()
        with self._lock:
            last, held = self._seen.get(kind, (None, 0))
            if last is not None and now - last < self.seconds:
                self._seen[kind] = (last, held + 1)
                return False
            self._seen[kind] = (now, 0)
        if held:
            record.suppressed = held
        return True


_installed = RateLimited()


def rate_limit_job_logs() -> RateLimited:
    """Put the one filter on the job loggers (again is harmless)."""
    for name in JOB_LOGGERS:
        logger = logging.getLogger(name)
        if _installed not in logger.filters:
            logger.addFilter(_installed)
    return _installed
