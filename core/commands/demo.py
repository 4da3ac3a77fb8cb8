"""A demo city, so every screen has something to show: a department tree, services in zh-CN and
en, and a week of cases across channels, all made through the real intake.

Deterministic (seeded) and idempotent: running it again adds nothing."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.core.commands.demo_city import (
    ATTRIBUTES,
    CHANNELS,
    DEPARTMENTS,
    DISTRICTS,
    GIVEN,
    KINDS,
    PAGES,
    PLACES,
    REPLIES,
    SERVICES,
    SURNAMES,
)
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import Submission
from hotline.core.shell.context import open_context
from hotline.core.storage.enums import CaseKind, Priority
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.reference import (
    Department,
    Page,
    ReplyTemplate,
    RoutingRule,
    ServiceCategory,
)


async def _ensure_pages(settings: Settings) -> int:
    added = 0
    async with open_context(settings) as ctx, ctx.db.transaction() as session:
        known = set(await session.scalars(select(Page.slug)))
        for slug, kind, title_zh, title_en, body_zh, body_en in PAGES:
            if slug not in known:
                session.add(
                    Page(
                        slug=slug,
                        kind=kind,
                        title_zh=title_zh,
                        title_en=title_en,
                        body_zh=body_zh,
                        body_en=body_en,
                    )
                )
                added += 1
    return added


async def _ensure_city(settings: Settings) -> tuple[int, int]:
    """Departments and services, added when their code is new."""
    added_departments = added_services = 0
    async with open_context(settings) as ctx, ctx.db.transaction() as session:
        ids = {d.code: d.id for d in await session.scalars(select(Department))}
        for code, parent, zh, en in DEPARTMENTS:
            if code not in ids:
                department = Department(
                    code=code, name_zh=zh, name_en=en, parent_id=ids.get(parent or "")
                )
                session.add(department)
                await session.flush()
                ids[code] = department.id
                added_departments += 1
        known = set(await session.scalars(select(ServiceCategory.code)))
        for code, zh, en, dept, limit, unit, texts_zh, texts_en in SERVICES:
            if code in known:
                continue
            session.add(
                ServiceCategory(
                    code=code,
                    name_zh=zh,
                    name_en=en,
                    default_department_id=ids[dept],
                    description_zh=f"例如：{texts_zh[0].format(place='某地')}",
                    description_en=f"For example: {texts_en[0].format(place_en='a street')}",
                    attributes=ATTRIBUTES.get(code, []),
                    reply_limit=limit,
                    reply_limit_unit=unit,
                    sign_limit=1,
                )
            )
            added_services += 1
        await session.flush()
        services = {s.code: s.id for s in await session.scalars(select(ServiceCategory))}
        rules = set(await session.scalars(select(RoutingRule.pattern)))
        for position, (words, dept, service) in enumerate(DISTRICTS, 1):
            if words not in rules:
                session.add(
                    RoutingRule(
                        kind="district",
                        pattern=words,
                        department_id=ids[dept],
                        category_id=services.get(service),
                        position=position,
                    )
                )
    return added_departments, added_services


async def _ensure_replies(settings: Settings) -> int:
    """The demo's reply templates, added when their English title is new."""
    added = 0
    async with open_context(settings) as ctx, ctx.db.transaction() as session:
        known = set(await session.scalars(select(ReplyTemplate.title_en)))
        services = {s.code: s.id for s in await session.scalars(select(ServiceCategory))}
        for code, title_zh, title_en, body_zh, body_en in REPLIES:
            if title_en not in known:
                session.add(
                    ReplyTemplate(
                        title_zh=title_zh,
                        title_en=title_en,
                        body_zh=body_zh,
                        body_en=body_en,
                        category_id=services.get(code) if code else None,
                    )
                )
                added += 1
    return added


def _answers(code: str, n: int) -> dict[str, object]:
    """An answer to each of the service's questions (no random draw: the demo stays the same)."""
    found: dict[str, object] = {}
    for question in ATTRIBUTES[code]:
        values = [str(v["key"]) for v in question.get("values", [])]  # type: ignore[attr-defined]
        pick = values[n % len(values)] if values else ""
        found[str(question["code"])] = [pick] if question["datatype"] == "multivaluelist" else pick
    return found


def _submissions(days: int, per_day: int, now: datetime) -> list[Submission]:
    rng = random.Random(12345)
    regulars = [f"+86139{rng.randrange(10**8):08d}" for _ in range(max(3, per_day // 8))]
    out = []
    for n in range(days * per_day):
        service = rng.choice(SERVICES)
        code, _zh, _en, _dept, _limit, _unit, texts_zh, texts_en = service
        place_zh, place_en, lat, lon = rng.choice(PLACES)
        english = rng.random() < 0.15
        text = (
            rng.choice(texts_en).format(place_en=place_en)
            if english
            else rng.choice(texts_zh).format(place=place_zh)
        )
        channel = rng.choice(CHANNELS)
        kind = CaseKind.DIRECTOR_MAILBOX if rng.random() < 0.04 else rng.choice(KINDS)
        phone = rng.choice(regulars) if rng.random() < 0.25 else f"+86138{rng.randrange(10**8):08d}"
        contacts = []
        if rng.random() > 0.1:  # one in ten stays anonymous
            contacts.append({"kind": "phone", "value": phone})
            if channel == "email" or rng.random() < 0.2:
                contacts.append(
                    {"kind": "email", "value": f"resident{rng.randrange(10**5)}@example.cn"}
                )
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) if contacts and rng.random() < 0.7 else None
        received = now - timedelta(days=days) + timedelta(seconds=rng.randrange(days * 86400))
        out.append(
            Submission.model_validate(
                dict(
                    channel=channel,
                    external_id=f"demo-{n}",
                    kind=kind,
                    text=text,
                    category=None if kind == CaseKind.DIRECTOR_MAILBOX else code,
                    language="en" if english else "zh_CN",
                    citizen_name=name,
                    contacts=contacts,
                    location={
                        "text": place_en if english else place_zh,
                        "latitude": lat + rng.uniform(-0.002, 0.002),
                        "longitude": lon + rng.uniform(-0.002, 0.002),
                    }
                    if rng.random() < 0.7
                    else None,
                    priority=Priority.HIGH if rng.random() < 0.1 else Priority.NORMAL,
                    # the answers to the service's own questions, as the form asks them
                    meta={"attributes": _answers(code, n)} if code in ATTRIBUTES else {},
                    received_at=received,
                )
            )
        )
    out.sort(key=lambda s: s.received_at or now)
    return out


async def load_demo(settings: Settings, days: int = 7, per_day: int = 40) -> dict[str, int]:
    """Load the demo city into a migrated database. Returns what was added."""
    departments, services = await _ensure_city(settings)
    pages = await _ensure_pages(settings)
    replies = await _ensure_replies(settings)
    created = 0
    async with open_context(settings) as ctx:
        for submission in _submissions(days, per_day, utcnow()):
            result = await receive(ctx, submission)
            created += int(result.created and not result.duplicate)
    return {
        "departments": departments,
        "services": services,
        "pages": pages,
        "reply templates": replies,
        "cases": created,
    }
