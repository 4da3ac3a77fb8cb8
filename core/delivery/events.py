"""Case events after commit: to plugins (the ``case_event`` hook) and to live screens.

Live screens subscribe to Litestar channels; the backend is in-memory on the embedded
default and Redis or PostgreSQL (LISTEN/NOTIFY) at scale, so every app process sees every event.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hotline.core.storage.models.cases import Case, CaseEvent

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.events")

CASES_CHANNEL = "cases"
QUEUE_CHANNEL = "queue"

# Detail keys that may hold what a person wrote or who they are: never leave the database.
PRIVATE_KEYS = frozenset(
    {"text", "name", "contact", "value", "address", "answer", "reason", "comment", "note"}
)

Publisher = Callable[[dict[str, Any], list[str]], None]


@dataclass(frozen=True)
class CaseEventMessage:
    """What plugins and screens are told of a committed event. No personal data."""

    case_id: int
    tracking_number: str
    action: str
    at: datetime
    status: str
    department_id: int | None
    public: bool
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, case: Case, event: CaseEvent) -> CaseEventMessage:
        return cls(
            case_id=case.id,
            tracking_number=case.tracking_number,
            action=event.action,
            at=event.at,
            status=case.status,
            department_id=case.department_id,
            public=event.public,
            detail={k: v for k, v in (event.detail or {}).items() if k not in PRIVATE_KEYS},
        )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


def _no_screens(_data: dict[str, Any], _channels: list[str]) -> None:
    return None


class EventBus:
    """Delivers committed events. Call ``deliver`` only after the transaction committed."""

    def __init__(self, publisher: Publisher = _no_screens) -> None:
        self.publisher = publisher

    async def deliver(self, ctx: AppContext, messages: Iterable[CaseEventMessage]) -> None:
        for message in messages:
            try:
                self.publisher({"type": "case_event", **message.as_json()}, [CASES_CHANNEL])
            except Exception:
                log.exception("live publish failed", extra={"action": message.action})
            # Each plugin is called on its own, so one that fails (logged) neither stops the
            # others nor makes the committed change look undone.
            kwargs = {"ctx": ctx, "event": message}
            for impl in reversed(ctx.pm.hook.case_event.get_hookimpls()):  # pluggy's order
                try:
                    result = impl.function(*(kwargs[name] for name in impl.argnames))
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception(
                        "case_event plugin failed",
                        extra={"plugin": impl.plugin_name, "action": message.action},
                    )

    def publish(self, data: dict[str, Any], channels: list[str]) -> None:
        self.publisher(data, channels)
