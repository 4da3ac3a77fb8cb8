"""The AXD queue's selection: call distribution generalised to every medium.

A contact waiting for a person (a call, a chat, an e-mail, an SMS, a web form) is a QueueItem.
An agent is offered an item only when available, speaking its language, having its skills, and
having free capacity for its medium; a voice contact takes the agent whole. The
``choose_agent`` hook picks among the eligible (built-in: longest idle). Nothing here writes:
the changes are in ``state``."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload

from hotline.core.axd.offer_limit import within_limit
from hotline.core.foundation.settings import Settings
from hotline.core.storage.enums import AgentState, Media, QueueState
from hotline.core.storage.models.axd import AgentPresence, QueueItem, SkillGroup
from hotline.core.storage.models.cases import Case, Citizen, ContactPoint

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

REPEAT_DAYS = 30  # a citizen with this many days' worth of repeat contacts is a priority

# A letter to the director is read by the director's office alone: it never enters this queue.
# Intake makes no queue item for one; every read of the queue also leaves them out, so an
# item made before (or by a plugin) is never offered, picked, counted or shown.
NOT_SEALED = ~exists().where(Case.id == QueueItem.case_id, Case.sealed.is_(True))


@dataclass(frozen=True)
class QueueRules:
    """How one queue (skill group) distributes: its strategy, offer time, wrap-up time, and how
    long before skill tiers and regions widen. ``code`` is the queue's (empty: site defaults)."""

    code: str
    strategy: str
    offer_seconds: int
    wrap_up_seconds: int
    widen_after_seconds: int


@dataclass(frozen=True)
class Situation:
    """What strategies know about the item besides the candidates."""

    rules: QueueRules
    waited_seconds: float
    region: str | None = None  # the regional group whose prefix the citizen's phone has
    last_agent_id: int | None = None  # who last served this citizen
    priority_citizen: bool = False  # flagged (elderly, disabled...) or a repeat contact


@dataclass(frozen=True)
class Offer:
    agent_id: int
    seconds: int


@dataclass(frozen=True)
class Candidate:
    """An agent who could take the item now, with what strategies weigh."""

    user_id: int
    idle_since: datetime
    skill_level: int  # worst (highest) level over the item's skills; 0 when none are needed
    load: dict[str, int]
    last_assigned_at: datetime | None = None
    today: int = 0  # contacts assigned to them since midnight (local time)
    handled_seconds: float = 0.0  # time spent on contacts since midnight, ongoing ones included
    groups: frozenset[str] = frozenset()  # the skill groups (queues) they belong to


def free_for(presence: AgentPresence, load: dict[str, int], media: str) -> bool:
    """One capacity model across media: a voice contact takes the agent whole, and an agent on
    a call takes nothing else; other media count against their own capacity."""
    if load.get(Media.VOICE, 0) > 0:
        return False
    if media == Media.VOICE:
        return sum(load.values()) == 0 and int(presence.capacity.get(Media.VOICE, 0)) > 0
    return load.get(media, 0) < int(presence.capacity.get(media, 0))


def _load(session: Session) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(QueueItem.agent_id, QueueItem.media, func.count())
        .where(
            QueueItem.state.in_([QueueState.OFFERED, QueueState.ASSIGNED]),
            QueueItem.agent_id.is_not(None),
        )
        .group_by(QueueItem.agent_id, QueueItem.media)
    )
    load: dict[int, dict[str, int]] = {}
    for agent_id, media, count in rows:
        if agent_id is not None:
            load.setdefault(agent_id, {})[str(media)] = int(count)
    return load


def _today(
    session: Session, since: datetime, now: datetime
) -> tuple[dict[int, int], dict[int, float]]:
    """Per agent since ``since``: contacts taken, and seconds spent on them (ongoing included)."""
    rows = session.execute(
        select(QueueItem.agent_id, QueueItem.assigned_at, QueueItem.done_at).where(
            QueueItem.agent_id.is_not(None),
            QueueItem.state.in_([QueueState.ASSIGNED, QueueState.DONE]),
            QueueItem.assigned_at >= since,
        )
    )
    count: dict[int, int] = {}
    spent: dict[int, float] = {}
    for agent, assigned, done in rows:
        if agent is None or assigned is None:
            continue
        count[agent] = count.get(agent, 0) + 1
        spent[agent] = spent.get(agent, 0.0) + ((done or now) - assigned).total_seconds()
    return count, spent


def rules_for(session: Session, item: QueueItem, settings: Settings) -> QueueRules:
    """The item's queue is the group of its first skill; without one, the site's defaults."""
    group = session.get(SkillGroup, item.skills[0]) if item.skills else None
    return QueueRules(
        code=group.code if group else "",
        strategy=(group.strategy if group else "") or settings.axd_strategy,
        offer_seconds=group.offer_seconds if group else settings.axd_offer_seconds,
        wrap_up_seconds=group.wrap_up_seconds if group else settings.axd_wrap_up_seconds,
        widen_after_seconds=group.widen_after_seconds
        if group
        else settings.axd_widen_after_seconds,
    )


def _region(session: Session, citizen_id: int) -> str | None:
    """The regional group with the longest prefix matching one of the citizen's phones."""
    phones = list(
        session.scalars(
            select(ContactPoint.value).where(
                ContactPoint.citizen_id == citizen_id, ContactPoint.kind == "phone"
            )
        )
    )
    best: tuple[int, str] | None = None
    for code, prefixes in session.execute(select(SkillGroup.code, SkillGroup.phone_prefixes)):
        for prefix in prefixes or []:
            if any(p.startswith(prefix) for p in phones) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), code)
    return best[1] if best else None


def is_priority_citizen(session: Session, citizen: Citizen, now: datetime, repeat: int) -> bool:
    """Flagged by staff (elderly, disabled...), or contacting for the ``repeat``-th time in
    ``REPEAT_DAYS`` days."""
    if citizen.flags.get("priority"):
        return True
    recent = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.citizen_id == citizen.id,
            Case.created_at >= now - timedelta(days=REPEAT_DAYS),
            Case.sealed.is_(False),
        )
    )
    return int(recent or 0) >= repeat > 0


def situation(session: Session, item: QueueItem, now: datetime, settings: Settings) -> Situation:
    rules = rules_for(session, item, settings)
    waited = (now - item.waiting_since).total_seconds()
    citizen = session.get(Citizen, item.case.citizen_id) if item.case.citizen_id else None
    if citizen is None:
        return Situation(rules, waited)
    last = session.scalar(
        select(QueueItem.agent_id)
        .join(Case, Case.id == QueueItem.case_id)
        .where(
            Case.citizen_id == citizen.id,
            QueueItem.id != item.id,
            QueueItem.assigned_at.is_not(None),
        )
        .order_by(QueueItem.assigned_at.desc())
        .limit(1)
    )
    return Situation(
        rules,
        waited,
        region=_region(session, citizen.id),
        last_agent_id=last,
        priority_citizen=is_priority_citizen(session, citizen, now, settings.axd_repeat_contacts),
    )


def _eligible(presence: AgentPresence, load: dict[str, int], item: QueueItem) -> list[int] | None:
    """The agent's skill levels for the item, if they may be offered it now; else None."""
    if str(presence.user_id) in item.declined_by:
        return None
    if item.language and presence.languages and item.language not in presence.languages:
        return None
    # An agent with no skills set is a generalist: every group's contacts are theirs.
    levels = [
        presence.skills.get(skill, 0 if not presence.skills else None) for skill in item.skills
    ]
    if any(level is None for level in levels) or not free_for(presence, load, item.media):
        return None
    return [int(v) for v in levels if v is not None]


def offerable(session: Session) -> list[int]:
    """The waiting items some available agent could take now, in queue order (priority, then
    waiting time): what a sweep offers. One pass over agents and items, so that a long queue
    nobody can take (a language no one on shift speaks) costs one query, not one per item."""
    load = _load(session)
    free = list(
        session.scalars(select(AgentPresence).where(AgentPresence.state == AgentState.AVAILABLE))
    )
    if not free:
        return []
    query = (
        select(QueueItem)
        .where(QueueItem.state == QueueState.WAITING, NOT_SEALED)
        .order_by(QueueItem.priority.desc(), QueueItem.waiting_since)
    )
    found = []
    seen: dict[tuple[Any, ...], bool] = {}  # items alike get the same answer
    for item in session.scalars(query):
        key = (item.media, item.language, tuple(item.skills), tuple(item.declined_by))
        if key not in seen:
            seen[key] = any(_eligible(p, load.get(p.user_id, {}), item) is not None for p in free)
        if seen[key]:
            found.append(item.id)
    return found


def local_midnight(now: datetime, timezone: str) -> datetime:
    """The start of ``now``'s day in the hotline's time zone, as a UTC time."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def candidates(
    session: Session, item: QueueItem, now: datetime, midnight: datetime | None = None
) -> list[Candidate]:
    """Every agent who may be offered ``item`` now; "today" counts from ``midnight``
    (the hotline's local midnight; UTC midnight when not given)."""
    load = _load(session)
    today, spent = _today(
        session, midnight or now.replace(hour=0, minute=0, second=0, microsecond=0), now
    )
    found = []
    for presence in session.scalars(
        select(AgentPresence).where(AgentPresence.state == AgentState.AVAILABLE)
    ):
        agent_load = load.get(presence.user_id, {})
        levels = _eligible(presence, agent_load, item)
        if levels is None:
            continue
        idle = presence.last_assigned_at or presence.since
        found.append(
            Candidate(
                presence.user_id,
                idle,
                max(levels, default=0),
                agent_load,
                presence.last_assigned_at,
                today.get(presence.user_id, 0),
                spent.get(presence.user_id, 0.0),
                frozenset(presence.skills or {}),
            )
        )
    return found


async def choose(
    ctx: AppContext, item: QueueItem, found: list[Candidate], where: Situation
) -> int | None:
    """Ask the ``choose_agent`` hook; an answer that is not among the candidates is ignored."""
    if not found:
        return None
    answer: Any = ctx.pm.hook.choose_agent(ctx=ctx, item=item, candidates=found, situation=where)
    if inspect.isawaitable(answer):
        answer = await answer
    return int(answer) if answer is not None and any(c.user_id == answer for c in found) else None


def _pool(
    session: Session, item_id: int, now: datetime, settings: Settings
) -> tuple[QueueItem, list[Candidate], Situation] | None:
    """The waiting item, who could take it, and its situation; None when nobody can."""
    item = session.scalar(
        select(QueueItem)
        .options(joinedload(QueueItem.case))
        .where(QueueItem.id == item_id, QueueItem.state == QueueState.WAITING, NOT_SEALED)
    )
    midnight = local_midnight(now, settings.timezone)
    found = candidates(session, item, now, midnight) if item is not None else []
    found = within_limit(session, found, settings.axd_offers_per_agent)
    if item is None or not found:
        return None
    return item, found, situation(session, item, now, settings)
