"""Serve the hotline with a watch on its event loop, for the blocking test.

``python -m tests.loopwatch REPORT PORT`` serves the app (settings from the environment) on
uvicorn with asyncio's debug mode and ``slow_callback_duration`` at ``LOOPWATCH_MS``
milliseconds. Every callback of the loop is timed, in wall time and in the loop thread's own
CPU time, and a sampler thread records where the loop thread is while a callback runs long.
A callback that used more than the threshold of CPU (Pillow, hashing, a big template), or that
held the loop past ten times the threshold while the sampler found it inside the project's
code (file I/O, a sleep; the time the thread waited for a CPU other processes held is left
out, from the kernel's /proc/thread-self/schedstat), is written to REPORT as one JSON line:
what asyncio calls the callback, its times (and the garbage collector's share of its CPU),
and the project's frames it was in, innermost first.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parents[1]
VENV = str(ROOT / ".venv")


class Watch:
    def __init__(self, report: Path, threshold: float) -> None:
        self.report = report
        self.threshold = threshold
        self.loop_thread = 0
        self.current: tuple[Any, float] | None = None
        self.samples: dict[int, tuple[list[str], list[str]]] = {}
        self.lock = threading.Lock()
        self.original: Any = None
        # the garbage collector's time inside the running callback (its passes run in whatever
        # code allocates: a pause of the collector is not the project's code blocking)
        self.gc_started = 0.0
        self.gc_seconds = 0.0
        self.schedstat = -1
        gc.callbacks.append(self.collector)

    def queued(self) -> float:
        """Seconds the loop thread has spent runnable but waiting for a CPU (0 where the
        kernel does not say)."""
        if self.schedstat < 0:
            return 0.0
        return int(os.pread(self.schedstat, 100, 0).split()[1]) / 1e9

    def collector(self, phase: str, _info: dict[str, Any]) -> None:
        if threading.get_ident() != self.loop_thread:
            return
        if phase == "start":
            self.gc_started = time.thread_time()
        elif self.gc_started:
            self.gc_seconds += time.thread_time() - self.gc_started
            self.gc_started = 0.0

    def stack(self) -> tuple[list[str], list[str]]:
        """The loop thread's frames now, innermost first: the project's, and all of them."""
        frame = sys._current_frames().get(self.loop_thread)
        ours, every = [], []
        while frame is not None:
            name = frame.f_code.co_filename
            rel = os.path.relpath(name, ROOT) if name.startswith(str(ROOT)) else name
            where = f"{rel}:{frame.f_lineno} in {frame.f_code.co_name}"
            every.append(where.replace(VENV + "/lib/python3.11/site-packages/", ""))
            if name.startswith(str(ROOT)) and not name.startswith(VENV) and "loopwatch" not in name:
                ours.append(where)
            frame = frame.f_back
        return ours, every[:12]

    def sample(self) -> None:
        while True:
            time.sleep(0.001)
            current = self.current
            if current is None or time.monotonic() - current[1] < self.threshold / 2:
                continue
            ours, every = self.stack()
            if ours:
                with self.lock:
                    self.samples.setdefault(id(current[0]), (ours, every))

    def write(self, entry: dict[str, Any]) -> None:
        with self.lock, self.report.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Time every callback: asyncio's Handle._run, wrapped."""
        watch = self
        original = self.original = asyncio.events.Handle._run
        watch.loop_thread = threading.get_ident()
        try:  # the loop thread's scheduler statistics: its time waiting on a run queue
            watch.schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            watch.schedstat = -1

        def timed(handle: asyncio.Handle) -> None:
            if threading.get_ident() != watch.loop_thread:
                original(handle)
                return
            started, cpu, queued = time.monotonic(), time.thread_time(), watch.queued()
            watch.gc_seconds = 0.0
            watch.current = (handle, started)
            try:
                original(handle)
            finally:
                watch.current = None
                wall, used = time.monotonic() - started, time.thread_time() - cpu
                waited = watch.queued() - queued
                with watch.lock:
                    frames, stack = watch.samples.pop(id(handle), ([], []))
                # time spent runnable but waiting for a CPU (other processes had it) is the
                # machine's, not a block: only the rest counts
                held = wall - waited
                if used >= watch.threshold or (held >= 10 * watch.threshold and frames):
                    watch.write(
                        {
                            "callback": asyncio.base_events._format_handle(handle),  # type: ignore[attr-defined]
                            "wall_ms": round(wall * 1000, 1),
                            "cpu_ms": round(used * 1000, 1),
                            "waited_ms": round(waited * 1000, 1),
                            "gc_ms": round(watch.gc_seconds * 1000, 1),
                            "frames": frames,
                            "stack": stack,
                        }
                    )

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]
        threading.Thread(target=watch.sample, daemon=True).start()


class SlowCallbacks(logging.Handler):
    """asyncio's own debug report ("Executing <...> took 0.123 seconds"), kept beside ours."""

    def __init__(self, watch: Watch) -> None:
        super().__init__(logging.WARNING)
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Executing"):
            self.watch.write({"asyncio": record.getMessage()[:500]})


def main() -> None:
    from hotline.core.foundation.settings import load_settings
    from hotline.core.shell.app import create_app
    from hotline.core.shell.serving import server_config

    report, port = Path(sys.argv[1]), int(sys.argv[2])
    threshold = float(os.environ.get("LOOPWATCH_MS", "10")) / 1000
    settings = load_settings(port=port)
    watch = Watch(report, threshold)
    logging.getLogger("asyncio").addHandler(SlowCallbacks(watch))
    app = create_app(settings, owns_process=True)  # as ``hotline serve`` builds it
    server = uvicorn.Server(server_config(app, settings, log_level="warning"))

    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = threshold
    asyncio.set_event_loop(loop)
    watch.install(loop)
    loop.run_until_complete(server.serve())


if __name__ == "__main__":
    main()
