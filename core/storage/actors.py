"""Who acts: a citizen, a staff member, the system or a plugin, and from which address."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.storage.enums import ActorKind


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None = None
    label: str = ""
    address: str | None = None


SYSTEM = Actor(ActorKind.SYSTEM, label="system")
