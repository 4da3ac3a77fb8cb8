"""Which department a case should go to: the ``route_case`` hook's single call site.

The answer is a suggestion with its reason, shown to the agent; it is dispatched without an
agent only for service categories where the administrator turned automatic dispatch on.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.core.intake.submission import Submission
    from hotline.core.shell.context import AppContext
    from hotline.core.storage.models.cases import Case
    from hotline.core.storage.models.reference import ServiceCategory


@dataclass(frozen=True)
class Route:
    """A department code and why (shown to the agent, kept on the case)."""

    department: str
    reason: str = ""


async def route_case(
    ctx: AppContext, case: Case, category: ServiceCategory | None, sub: Submission | None
) -> Route | None:
    """Ask the ``route_case`` hook; a plain code from a plugin counts as a route without reason."""
    answer = ctx.pm.hook.route_case(ctx=ctx, case=case, category=category, submission=sub)
    if inspect.isawaitable(answer):
        answer = await answer
    if answer is None:
        return None
    if isinstance(answer, Route):
        return answer
    return Route(str(answer))
