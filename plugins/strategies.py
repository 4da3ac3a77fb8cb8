"""Built-in AXD strategies, chosen by ``HOTLINE_AXD_STRATEGY``. A site plugin answering
``choose_agent`` first overrides them all.

- ``longest_idle`` (default): the agent waiting longest since their last contact or state change;
- ``round_robin``: the agent whose last contact is oldest (never served first);
- ``fewest_today``: the agent with the fewest contacts since midnight;
- ``skill_level``: the best skill level for the item first, then longest idle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from hotline.core.axd import Candidate
from hotline.core.context import AppContext
from hotline.plugins.manager import hookimpl

NEVER = datetime.min.replace(tzinfo=UTC)

RANKINGS: dict[str, Callable[[Candidate], tuple[object, ...]]] = {
    "longest_idle": lambda c: (c.idle_since, c.user_id),
    "round_robin": lambda c: (c.last_assigned_at or NEVER, c.user_id),
    "fewest_today": lambda c: (c.today, c.idle_since, c.user_id),
    "skill_level": lambda c: (c.skill_level, c.idle_since, c.user_id),
}


@hookimpl(trylast=True)
def choose_agent(ctx: AppContext, candidates: Sequence[Candidate]) -> int | None:
    if not candidates:
        return None
    rank = RANKINGS[ctx.settings.axd_strategy]
    return min(candidates, key=rank).user_id
