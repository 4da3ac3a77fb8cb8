"""Cases opened over a report's period, step by step, beside the period before: per hour for
a day, per day up to two months, per week (seven days from the period's first) up to half a
year, per calendar month beyond. The period before is laid beside it step for step (a shorter
month leaves its last steps empty)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report import Span

STEPS = ("hour", "day", "week", "month")


@dataclass(frozen=True)
class Series:
    step: str  # hour | day | week | month
    labels: list[str]  # each step's start as shown: 09:00, 03-18, 2026-03
    now: list[int]
    before: list[int | None]  # the period before, step for step (None: it had no such step)

    @property
    def rows(self) -> list[tuple[str, int, int | None]]:
        return list(zip(self.labels, self.now, self.before, strict=True))


def step_for(span: Span) -> str:
    if span.days <= 1:
        return "hour"
    if span.days <= 62:
        return "day"
    if span.days <= 186:
        return "week"
    return "month"


def starts(span: Span, step: str) -> list[date]:
    """The first day of each step (``day``, ``week``, ``month``) of ``span``."""
    if step == "month":
        found, day = [span.first], span.first
        while True:
            index = day.year * 12 + day.month  # the next month's
            day = date(index // 12, index % 12 + 1, 1)
            if day >= span.after:
                return found
            found.append(day)
    size = 7 if step == "week" else 1
    return [span.first + timedelta(days=n) for n in range(0, span.days, size)]


def fold(per_day: list[int], span: Span, step: str) -> list[int]:
    """Daily counts (day 0 is ``span.first``) summed per step."""
    firsts = starts(span, step)
    counts = [0] * len(firsts)
    slot = 0
    for offset, n in enumerate(per_day):
        day = span.first + timedelta(days=offset)
        while slot + 1 < len(firsts) and firsts[slot + 1] <= day:
            slot += 1
        counts[slot] += n
    return counts


def label(first: date, step: str) -> str:
    return first.strftime("%Y-%m") if step == "month" else first.strftime("%m-%d")


def series(step: str, now: list[int], before: list[int], span: Span, hours: bool = False) -> Series:
    """``now`` and ``before`` already per step (per hour for a day)."""
    if hours:
        labels = [f"{h:02d}:00" for h in range(len(now))]
    else:
        labels = [label(first, step) for first in starts(span, step)]
    beside: list[int | None] = [before[n] if n < len(before) else None for n in range(len(now))]
    return Series(step, labels, now, beside)
