"""The wallboard's content: today's figures and the floor now, coloured by the administrator's
thresholds. One snapshot serves every screen for a second (a busy queue changes many times a
second, and every wall screen asks again on each change)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.models.reports import WallboardSettings

from . import figures
from .figures.contacts import Breakdown

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

FRESH_SECONDS = 1.0  # a snapshot serves every screen this long

# figure -> (worse when higher?, warn, alarm): the defaults an administrator may change
THRESHOLDS: dict[str, tuple[bool, float, float]] = {
    "waiting": (True, 5, 15),  # contacts waiting now
    "longest_wait": (True, 60, 180),  # seconds
    "available": (False, 1, 0),  # agents free now
    "asa": (True, 20, 60),  # seconds
    "aht": (True, 480, 900),  # seconds
    "service_level": (False, 80, 60),  # per cent
    "abandon_rate": (True, 5, 10),  # per cent
    "satisfaction": (False, 90, 80),  # per cent
    "overdue": (True, 1, 10),  # assignments past their deadline
}


@dataclass(frozen=True)
class BoardSettings:
    service_level_seconds: int = 20
    short_abandon_seconds: int = 5
    thresholds: dict[str, tuple[float, float]] = field(default_factory=dict)

    def limits(self, figure: str) -> tuple[bool, float, float]:
        higher, warn, alarm = THRESHOLDS[figure]
        warn, alarm = self.thresholds.get(figure, (warn, alarm))
        return higher, warn, alarm

    def level(self, figure: str, value: float | None) -> str:
        """``ok``, ``warn`` or ``alarm`` for ``value`` of ``figure``; ``none`` without one."""
        if value is None:
            return "none"
        higher, warn, alarm = self.limits(figure)
        if (value >= alarm) if higher else (value <= alarm):
            return "alarm"
        if (value >= warn) if higher else (value <= warn):
            return "warn"
        return "ok"


async def load_settings(session: AsyncSession) -> BoardSettings:
    row = await session.get(WallboardSettings, 1)
    if row is None:
        return BoardSettings()
    kept = {
        k: (float(v[0]), float(v[1]))
        for k, v in (row.thresholds or {}).items()
        if k in THRESHOLDS and isinstance(v, list) and len(v) == 2
    }
    return BoardSettings(row.service_level_seconds, row.short_abandon_seconds, kept)


async def save_settings(session: AsyncSession, chosen: BoardSettings) -> None:
    row = await session.get(WallboardSettings, 1) or WallboardSettings(id=1)
    row.service_level_seconds = chosen.service_level_seconds
    row.short_abandon_seconds = chosen.short_abandon_seconds
    row.thresholds = {k: list(v) for k, v in chosen.thresholds.items()}
    session.add(row)


@dataclass(frozen=True)
class Board:
    at: datetime
    settings: BoardSettings
    agents: figures.AgentsNow
    waiting: list[figures.Waiting]
    today: Breakdown
    per_hour: list[int]
    per_hour_last_week: list[int]
    departments: list[figures.DepartmentLoad]
    evaluations: figures.Evaluations

    @property
    def waiting_total(self) -> int:
        return sum(w.count for w in self.waiting)

    @property
    def longest_wait(self) -> int:
        return max((w.longest_seconds for w in self.waiting), default=0)

    @property
    def waiting_by_media(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for w in self.waiting:
            found[w.media] = found.get(w.media, 0) + w.count
        return found

    @property
    def overdue(self) -> int:
        return sum(d.overdue for d in self.departments)

    def level(self, figure: str) -> str:
        return self.settings.level(figure, self.value(figure))

    def value(self, figure: str) -> float | None:
        t = self.today.total
        percent = {
            "service_level": t.service_level,
            "abandon_rate": t.abandon_rate,
            "satisfaction": self.evaluations.rate,
        }
        if figure in percent:
            found = percent[figure]
            return None if found is None else round(found * 100, 1)
        values: dict[str, float | None] = {
            "waiting": self.waiting_total,
            "longest_wait": self.longest_wait if self.waiting else None,
            "available": self.agents.available,
            "asa": t.asa,
            "aht": t.aht,
            "overdue": self.overdue,
        }
        return values[figure]


async def compute(session: AsyncSession, ctx: AppContext, now: datetime) -> Board:
    chosen = await load_settings(session)
    today = figures.Period.today(ctx.tz, now)
    return Board(
        at=now,
        settings=chosen,
        agents=await figures.agents_now(session),
        waiting=await figures.waiting_now(session, now),
        today=await figures.contacts(
            session,
            today,
            service_seconds=chosen.service_level_seconds,
            short_seconds=chosen.short_abandon_seconds,
        ),
        per_hour=await figures.intake_per_hour(session, today),
        per_hour_last_week=await figures.intake_per_hour(session, today.shifted(-7)),
        departments=await figures.department_load(session, today),
        evaluations=await figures.evaluations(session, today),
    )


_fresh: dict[int, tuple[float, Board]] = {}


async def snapshot(ctx: AppContext, since: float = 0.0) -> Board:
    """The board now, or as it was less than a second ago when that was computed after
    ``since`` (the time, ``time.time()``, a screen was told of a change: it then sees it)."""
    key = id(ctx.db)
    kept = _fresh.get(key)
    now = time.time()
    if kept and now - kept[0] < FRESH_SECONDS and kept[0] >= since:
        return kept[1]
    async with ctx.db.session() as session:
        board = await compute(session, ctx, datetime.now(UTC))
    _fresh[key] = (now, board)
    return board


def forget(ctx: AppContext) -> None:
    """The next snapshot is computed afresh (after the settings changed)."""
    _fresh.pop(id(ctx.db), None)
