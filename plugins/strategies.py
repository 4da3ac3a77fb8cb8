"""Built-in AXD strategy: offer to the agent idle longest (the fairest default)."""

from __future__ import annotations

from collections.abc import Sequence

from hotline.core.axd import Candidate
from hotline.plugins.manager import hookimpl


@hookimpl(trylast=True)
def choose_agent(candidates: Sequence[Candidate]) -> int | None:
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.idle_since, c.user_id)).user_id
