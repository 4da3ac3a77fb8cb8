"""The hotline app served by uvicorn in a thread of the test process, on a free loopback port,
for peers that must call it over HTTP (Kannel's smsbox); ``call`` runs a coroutine on the
app's own loop, so a test can act on the same context the server uses."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import uvicorn

from hotline.core.foundation.settings import Settings
from hotline.core.shell.app import create_app
from hotline.core.shell.context import AppContext
from hotline.core.shell.serving import server_config
from tests.processes import free_port

T = TypeVar("T")


class LiveApp:
    def __init__(self, settings: Settings, port: int | None = None) -> None:
        # a free port may be taken by another process before uvicorn binds it (the suite's
        # other workers and the phone tests start servers too): another port, up to three
        for _attempt in range(1 if port else 3):
            if self._start(settings, port or free_port()):
                return
        raise RuntimeError("the app did not start")

    def _start(self, settings: Settings, port: int) -> bool:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings)  # a new one: a failed start ran the lifespan's end
        config = server_config(
            self.app,
            settings,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=1,  # open event streams do not hold the stop
        )
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive():
                return False
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        return True

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    @property
    def ctx(self) -> AppContext:
        return self.app.state.ctx  # type: ignore[no-any-return]

    def call(self, make: Callable[[AppContext], Awaitable[T]], timeout: float = 30) -> T:
        async def run() -> T:
            return await make(self.ctx)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve(settings: Settings, **kwargs: Any) -> LiveApp:
    return LiveApp(settings, **kwargs)
