"""Agents' desk phones. The profile's desk phone is a SIP address the line puts calls through
to, or an extension with which the phone registers to the hotline's registrar (the softphones'
Kamailio) with a password set in the profile. The password is kept only as the SIP digest's
HA1, MD5("extension:hotline:password"), which is what the registrar needs to check it (SIP
digest leaves no stronger choice); it never leaves the database but to the registrar."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.reference.labels import N_
from hotline.core.storage.models.axd import AgentPresence

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

REALM = "hotline"
EXTENSION = re.compile(r"^[0-9]{3,8}$")
MIN_PASSWORD = 10


class DeskPhoneRefused(ValueError):
    """Why the desk phone's extension or password cannot be saved (a catalog message)."""


def is_extension(desk_phone: str | None) -> bool:
    return bool(desk_phone) and EXTENSION.fullmatch(desk_phone or "") is not None


def ha1(extension: str, password: str) -> str:
    """The SIP digest's HA1 for the extension's password in the registrar's realm."""
    text = f"{extension}:{REALM}:{password}".encode()
    return hashlib.md5(text, usedforsecurity=False).hexdigest()


async def desk_secret(
    ctx: AppContext, user_id: int, desk_phone: str | None, password: str
) -> str | None:
    """The HA1 to keep with ``desk_phone``: None for a SIP address or none; for an extension,
    that of ``password`` or, when it is empty and the extension is unchanged, the one kept.
    Refused: an extension another agent has, or one without a password."""

    def read(session: Session) -> str | None:
        if not is_extension(desk_phone):
            return None
        taken = session.scalar(
            select(AgentPresence.user_id).where(
                AgentPresence.desk_phone == desk_phone, AgentPresence.user_id != user_id
            )
        )
        if taken is not None:
            raise DeskPhoneRefused(N_("Another agent's desk phone has that extension."))
        if password:
            if len(password) < MIN_PASSWORD:
                raise DeskPhoneRefused(N_("The desk phone's password needs 10 characters or more."))
            return ha1(str(desk_phone), password)
        kept = session.get(AgentPresence, user_id)
        if kept is not None and kept.desk_phone == desk_phone and kept.desk_ha1:
            return kept.desk_ha1
        raise DeskPhoneRefused(N_("Set a password for the desk phone's extension."))

    return await ctx.db.run(read, write=False)


async def accounts(ctx: AppContext) -> dict[str, str]:
    """Every registering desk phone: extension -> HA1, for the registrar."""

    def read(session: Session) -> dict[str, str]:
        rows = session.execute(
            select(AgentPresence.desk_phone, AgentPresence.desk_ha1).where(
                AgentPresence.desk_ha1.is_not(None)
            )
        )
        return {str(phone): secret for phone, secret in rows if is_extension(phone) and secret}

    return await ctx.db.run(read, write=False)
