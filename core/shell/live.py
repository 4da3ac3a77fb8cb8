"""Live screens: Litestar channels on a backend chosen by settings, and publishers for events.

memory (embedded, one process) · redis (pub/sub) · postgres (LISTEN/NOTIFY through asyncpg).
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from sqlalchemy.engine import make_url

from hotline.core.delivery.events import CASES_CHANNEL, QUEUE_CHANNEL, Publisher
from hotline.core.foundation.settings import Settings

LIVE_CHANNELS = [CASES_CHANNEL, QUEUE_CHANNEL]


def make_backend(settings: Settings) -> ChannelsBackend:
    if settings.events_backend == "redis":
        from redis.asyncio import Redis

        return RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url))
    if settings.events_backend == "postgres":
        dsn = make_url(settings.db_url).set(drivername="postgresql")
        return AsyncPgChannelsBackend(dsn.render_as_string(hide_password=False))
    return MemoryChannelsBackend()


def make_channels_plugin(settings: Settings) -> ChannelsPlugin:
    # Conversations (web chat) get a channel each, named by the plugin: ``chat_<case id>``.
    return ChannelsPlugin(
        backend=make_backend(settings), channels=LIVE_CHANNELS, arbitrary_channels_allowed=True
    )


def plugin_publisher(plugin: ChannelsPlugin, loop: asyncio.AbstractEventLoop) -> Publisher:
    """Publish through the app's plugin; safe to call from job threads too."""

    def publish(data: dict[str, Any], channels: list[str]) -> None:
        loop.call_soon_threadsafe(plugin.publish, data, channels)

    return publish


class BackendPublisher:
    """For ``hotline worker``: its own loop in a thread, talking to the shared backend."""

    def __init__(self, backend: ChannelsBackend) -> None:
        self.backend = backend
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="live")
        self.thread.start()
        asyncio.run_coroutine_threadsafe(backend.on_startup(), self.loop).result(timeout=30)

    def __call__(self, data: dict[str, Any], channels: list[str]) -> None:
        payload = json.dumps(data, default=str).encode()
        asyncio.run_coroutine_threadsafe(self.backend.publish(payload, channels), self.loop)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.backend.on_shutdown(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
