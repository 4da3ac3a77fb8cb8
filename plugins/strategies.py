"""Built-in AXD strategies. Each queue (skill group) names its own in the console; without one,
``HOTLINE_AXD_STRATEGY`` decides. A site plugin answering ``choose_agent`` first overrides them.

- ``longest_idle`` (default): the agent waiting longest since their last contact or state change;
- ``round_robin``: the agent whose last contact is oldest (never served first);
- ``fewest_today``: the agent with the fewest contacts since midnight;
- ``least_handling``: the agent who spent least time on contacts since midnight;
- ``skill_level``: skill tiers: only agents at the best level are offered the contact at first,
  one more level is allowed after each ``widen_after_seconds`` of waiting;
- ``citizen_priority``: a priority citizen (flagged by staff: elderly, disabled...; or a repeat
  contact) gets the most skilled agent; everyone else the longest idle. (Their queue items are
  also raised one priority step at intake, so they are offered first.)
- ``region``: a caller whose number has a regional group's prefix goes to that group's agents;
  others join after ``widen_after_seconds``;
- ``last_agent``: the agent who last served this citizen, if free; else the longest idle.

A strategy may answer ``None`` (nobody suitable yet): the item waits, and the sweep asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from hotline.core.axd.selection import Candidate, Situation
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext

NEVER = datetime.min.replace(tzinfo=UTC)

Strategy = Callable[[Sequence[Candidate], Situation], Candidate | None]


def _idle(c: Candidate) -> tuple[datetime, int]:
    return (c.idle_since, c.user_id)


def _ranked(rank: Callable[[Candidate], tuple[object, ...]]) -> Strategy:
    return lambda found, _where: min(found, key=rank)


def _widened(where: Situation) -> int:
    """How many widenings the item's wait has earned."""
    return int(where.waited_seconds // max(where.rules.widen_after_seconds, 1))


def skill_tiers(found: Sequence[Candidate], where: Situation) -> Candidate | None:
    allowed = 1 + _widened(where)  # level 1 is the best; 0 means the item needs no skill
    tier = [c for c in found if c.skill_level <= allowed]
    return min(tier, key=lambda c: (c.skill_level, *_idle(c))) if tier else None


def citizen_priority(found: Sequence[Candidate], where: Situation) -> Candidate:
    if where.priority_citizen:
        return min(found, key=lambda c: (c.skill_level, *_idle(c)))
    return min(found, key=_idle)


def region(found: Sequence[Candidate], where: Situation) -> Candidate | None:
    if where.region is None:
        return min(found, key=_idle)
    local = [c for c in found if where.region in c.groups]
    if local:
        return min(local, key=_idle)
    return min(found, key=_idle) if _widened(where) >= 1 else None


def last_agent(found: Sequence[Candidate], where: Situation) -> Candidate:
    return min(found, key=lambda c: (c.user_id != where.last_agent_id, *_idle(c)))


STRATEGIES: dict[str, Strategy] = {
    "longest_idle": _ranked(_idle),
    "round_robin": _ranked(lambda c: (c.last_assigned_at or NEVER, c.user_id)),
    "fewest_today": _ranked(lambda c: (c.today, *_idle(c))),
    "least_handling": _ranked(lambda c: (c.handled_seconds, *_idle(c))),
    "skill_level": skill_tiers,
    "citizen_priority": citizen_priority,
    "region": region,
    "last_agent": last_agent,
}


@hookimpl(trylast=True)
def choose_agent(
    ctx: AppContext, candidates: Sequence[Candidate], situation: Situation
) -> int | None:
    if not candidates:
        return None
    strategy = STRATEGIES.get(situation.rules.strategy) or STRATEGIES[ctx.settings.axd_strategy]
    chosen = strategy(candidates, situation)
    return chosen.user_id if chosen else None
