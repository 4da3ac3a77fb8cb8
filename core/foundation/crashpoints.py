"""Crash points for the fault tests: nothing happens unless a test asks for it.

``HOTLINE_TEST_CRASH=point:n`` (comma-separated for several points) in the environment of a
process makes it kill itself with SIGKILL, as ``kill -9`` would, the ``n``-th time it passes
``point`` (counted per process). It is read from the environment only, never a setting, and
only the tests set it. The points are named where the code passes them, e.g.
``outbox.before_handover`` (a transaction with follow-up work committed, not yet handed to the
job queue), ``outbox.claimed`` (a job claimed, not yet run), ``outbox.before_done`` (a job ran,
its row not yet marked done), ``reply.sent`` (a channel took a message, its row not yet marked).
"""

from __future__ import annotations

import os
import signal
import threading

VARIABLE = "HOTLINE_TEST_CRASH"


def _parse(value: str) -> dict[str, int]:
    points: dict[str, int] = {}
    for part in value.split(","):
        name, _, count = part.strip().partition(":")
        if name:
            points[name] = int(count or 1)
    return points


_POINTS = _parse(os.environ.get(VARIABLE, ""))
_passed: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    """Die here (SIGKILL) when the test environment asks for it; otherwise nothing."""
    if not _POINTS or name not in _POINTS:
        return
    with _lock:
        _passed[name] = _passed.get(name, 0) + 1
        if _passed[name] == _POINTS[name]:
            os.kill(os.getpid(), signal.SIGKILL)
