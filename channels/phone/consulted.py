"""The agents being consulted (``core/axd/consultations.py``) are made available again when
their consultation's call has ended or never began: Kamailio counts each one's calls in its
``consulted`` dialog profile, asked every ``CHECK_SECONDS``. While the stack is down there is
no such call, and they are all released."""

from __future__ import annotations

import asyncio

from hotline.core.axd import consultations
from hotline.core.shell.context import AppContext

from .stack import SoftphoneStack, repeat

CHECK_SECONDS = 2.0
SWEEP_JOB = "axd.sweep"  # the distribution plugin's: offer what waits to whoever can take it


class ConsultedAgents:
    def __init__(self, ctx: AppContext, stack: SoftphoneStack) -> None:
        self.ctx, self.stack = ctx, stack

    async def _talking(self, agent_id: int) -> bool:
        found = await self.stack.rpc("dlg.profile_get_size", "consulted", str(agent_id))
        if not isinstance(found, int):  # an error: not released on a guess
            raise RuntimeError(f"Kamailio's dialog profile answered {found!r}")
        return found > 0

    async def check(self) -> list[int]:
        """Those whose consultation is over, made available; returns who."""
        down = not self.stack.alive()  # no call can begin: every one of them
        over = [
            agent_id
            for agent_id in await consultations.consulted(self.ctx, settled=not down)
            if down or not await self._talking(agent_id)
        ]
        back = await consultations.release(self.ctx, over)
        if back:
            await self.ctx.jobs.aenqueue(SWEEP_JOB)
        return back

    async def keep(self, stop: asyncio.Event) -> None:
        async def step() -> None:
            await self.check()

        await repeat(stop, CHECK_SECONDS, step)
