"""Recent reports near a place, as FixMyStreet shows them: only what the citizen agreed to
publish. The same rule as the public Open311 list (``channels/open311/reading.py``): a case is
listed only when its first message carries the consent (``public_location``), then with its
service, status and dates and its place rounded to about 100 m; never the citizen's words, the
address typed, a name or a contact; never a letter to the director."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.channels.open311.reading import COARSE_DIGITS, PUBLIC_LOCATION
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseStatus, Direction
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, Interaction
from hotline.core.storage.models.reference import ServiceCategory

RADIUS_M = 1000
DAYS = 90
LIMIT = 20  # the most recent shown; the page says how many there are in all
CANDIDATES = 500  # cases read from the box around the place (beyond: "more than")
EARTH_M = 6_371_000


@dataclass
class Found:
    reports: list[Nearby]  # the most recent LIMIT
    total: int  # every report listed near the place (at least this many when not ``complete``)
    complete: bool


@dataclass
class Nearby:
    number: str
    service: str
    status: str
    closed: bool
    received: datetime
    latitude: float
    longitude: float
    metres: int


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(a))


async def reports_near(
    ctx: AppContext, latitude: float, longitude: float, zh: bool, radius_m: int = RADIUS_M
) -> Found:
    dlat = radius_m / 111_000
    dlon = radius_m / (111_000 * max(math.cos(math.radians(latitude)), 0.01))
    async with ctx.db.session() as session:
        cases = list(
            await session.scalars(
                select(Case)
                .where(
                    Case.sealed.is_(False),
                    Case.created_at >= utcnow() - timedelta(days=DAYS),
                    Case.latitude.between(latitude - dlat, latitude + dlat),
                    Case.longitude.between(longitude - dlon, longitude + dlon),
                )
                .order_by(Case.created_at.desc())
                .limit(CANDIDATES)
            )
        )
        if not cases:
            return Found([], 0, True)
        firsts: dict[int, dict[str, object]] = {}
        rows = await session.execute(
            select(Interaction.case_id, Interaction.meta)
            .where(
                Interaction.case_id.in_([c.id for c in cases]),
                Interaction.direction == Direction.IN,
            )
            .order_by(Interaction.id)
        )
        for case_id, meta in rows:
            firsts.setdefault(case_id, meta or {})
        names = {c.id: c for c in await session.scalars(select(ServiceCategory))}
    found = []
    for case in cases:
        if firsts.get(case.id, {}).get(PUBLIC_LOCATION) != "coarse":
            continue  # the citizen did not agree: not listed at all
        assert case.latitude is not None and case.longitude is not None
        lat, lon = round(case.latitude, COARSE_DIGITS), round(case.longitude, COARSE_DIGITS)
        metres = distance_m(latitude, longitude, lat, lon)
        if metres > radius_m:
            continue
        category = names.get(case.category_id or 0)
        found.append(
            Nearby(
                number=case.tracking_number,
                service=(category.name_zh if zh else category.name_en) if category else "",
                status=str(case.status),
                closed=case.status == CaseStatus.CLOSED,
                received=case.created_at,
                latitude=lat,
                longitude=lon,
                metres=int(round(metres, -2)),
            )
        )
    return Found(found[:LIMIT], len(found), len(cases) < CANDIDATES)
