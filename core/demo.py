"""Demo city (placeholder until filled)."""

from __future__ import annotations

from hotline.core.settings import Settings


async def load_demo(settings: Settings, days: int = 7, per_day: int = 40) -> dict[str, int]:
    raise NotImplementedError
