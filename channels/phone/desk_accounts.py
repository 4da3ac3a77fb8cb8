"""The desk phones that register to the softphones' Kamailio: their extensions and password
HA1s (kept with the agents' profiles, ``core/axd/desk_phones.py``) given to Kamailio's
``deskauth`` table at each start of the stack, and again when a profile changes (looked at
every few seconds). A phone whose extension is removed or whose password changes is
unregistered at once."""

from __future__ import annotations

import asyncio

from hotline.core.axd.desk_phones import accounts
from hotline.core.shell.context import AppContext

from .stack import SoftphoneStack, repeat

SYNC_SECONDS = 5.0


class DeskAccounts:
    def __init__(self, ctx: AppContext, stack: SoftphoneStack) -> None:
        self.ctx, self.stack = ctx, stack
        self.given: dict[str, str] = {}  # what Kamailio holds now
        self.starts = -1  # the stack's start they were given to

    async def sync(self) -> None:
        """Kamailio's table made the same as the profiles (nothing while the stack is down)."""
        if not self.stack.alive():
            return
        if self.stack.starts != self.starts:  # a new Kamailio: an empty table
            self.given, self.starts = {}, self.stack.starts
        wanted = await accounts(self.ctx)
        for extension, secret in wanted.items():
            if self.given.get(extension) == secret:
                continue
            if extension in self.given:  # a new password: the phone registers with it again
                await self.stack.rpc("ul.rm", "location", extension)
            await self.stack.rpc("htable.sets", "deskauth", extension, secret)
            self.given[extension] = secret
        for extension in set(self.given) - set(wanted):
            await self.stack.rpc("htable.delete", "deskauth", extension)
            await self.stack.rpc("ul.rm", "location", extension)
            del self.given[extension]

    async def keep(self, stop: asyncio.Event) -> None:
        await repeat(stop, SYNC_SECONDS, self._sync_or_again)

    async def _sync_or_again(self) -> None:
        try:
            await self.sync()
        except Exception:
            self.starts = -1  # all of them again next time
            raise
