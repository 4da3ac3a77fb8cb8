"""Live screens hear every committed case event through Litestar channels, without personal data."""

from __future__ import annotations

import asyncio
import json

from litestar.channels import ChannelsPlugin
from litestar.testing import TestClient

from hotline.core.delivery.events import CASES_CHANNEL, QUEUE_CHANNEL
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.shell.app import create_app
from hotline.core.shell.context import Kernel
from tests.conftest import seed_city
from tests.factories import submission


def test_screens_hear_intake_after_commit(settings: Settings, kernel: Kernel) -> None:
    app = create_app(settings, kernel)
    channels = app.plugins.get(ChannelsPlugin)

    async def scenario() -> list[dict[str, object]]:
        ctx = app.state.ctx
        await seed_city(ctx)
        heard: list[dict[str, object]] = []
        async with channels.start_subscription([CASES_CHANNEL, QUEUE_CHANNEL]) as subscriber:
            result = await receive(ctx, submission(citizen_name="王五", text="垃圾没人清运"))

            async def listen() -> None:
                async for raw in subscriber.iter_events():
                    heard.append(json.loads(raw))
                    if len(heard) == 3:
                        return

            await asyncio.wait_for(listen(), timeout=10)
        assert heard[0]["tracking_number"] == result.tracking_number
        return heard

    with TestClient(app) as client:
        heard = client.blocking_portal.call(scenario)
    assert [h.get("action", h["type"]) for h in heard] == ["received", "routed", "queue_changed"]
    assert "王五" not in json.dumps(heard, ensure_ascii=False)
    assert "垃圾" not in json.dumps(heard, ensure_ascii=False)
