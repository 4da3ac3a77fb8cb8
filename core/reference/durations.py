"""A length of time in words, as a person says it: "5 天 2 小时", "5 days 2 hours" (Babel's
``format_timedelta`` for each unit, in the reader's language)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from babel.dates import format_timedelta

Unit = Literal["day", "hour", "minute", "second"]
_UNITS: tuple[tuple[Unit, int], ...] = (
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def in_words(seconds: float, language: str, parts: int = 2) -> str:
    """``seconds`` as at most ``parts`` units, largest first (days and hours; minutes below a
    day's length, seconds below a minute)."""
    left = max(0, int(seconds))
    found: list[str] = []
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count and len(found) < parts:
            found.append(
                format_timedelta(
                    timedelta(seconds=count * size), granularity=unit, threshold=1, locale=language
                )
            )
        elif found:
            break  # "1 day 3 minutes" says less than "1 day": stop at the first gap
    if not found:
        found.append(format_timedelta(timedelta(0), granularity="second", locale=language))
    return " ".join(found)
