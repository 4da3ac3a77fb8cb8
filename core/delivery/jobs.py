"""Jobs on huey: SQLite in the data directory (embedded) or PostgreSQL (at scale).

A job is ``async def job(ctx, **kwargs)``; plugins contribute them through ``register_jobs``.
Each job is a huey task of its own, with retries and exponential backoff. Huey runs tasks
in worker threads; each thread keeps its own event loop and its own ``AppContext`` (an async
engine belongs to one loop). Arguments must be JSON-like: ids, not objects.

Why huey: it is maintained, has a persistent SQLite storage (a job enqueued before a
``kill -9`` runs after restart) and a PostgreSQL storage (several ``hotline worker`` processes
take jobs with ``FOR UPDATE SKIP LOCKED``), so neither size needs a broker of its own.

Huey takes a task off its queue before it runs it, and nothing enqueued after a commit survives
a crash between the two. Work that must not be lost (follow-up work: acknowledgements, replies,
transcriptions, notices) is therefore a row of the job outbox (``core/storage/outbox.py``), written with
the change that causes it; huey carries only ``hotline.follow_up(key)``, a nudge to run that row
(``core/delivery/followups.py``), and the relay hands again what huey lost. Plain ``enqueue`` stays for
work whose state lives elsewhere and that a periodic sweep redoes (the AXD queue's offers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
from huey import Huey, PostgresHuey, SqliteHuey
from huey.consumer import Consumer
from sqlalchemy.engine import make_url

from hotline.core.foundation.ratelog import rate_limit_job_logs

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.core.foundation.settings import Settings
    from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.jobs")
LISTENER_RESTART_SECONDS = 30
FOLLOW_UP_TASK = "hotline.follow_up"
STORE_PAUSE_SECONDS = 5.0

JobFunc = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Missing:
    """Follow-up work the reconciliation found missing: the outbox row it writes."""

    key: str
    case_id: int | None
    args: dict[str, Any] = field(default_factory=dict)
    rearm: bool = False  # a row with this key that is done runs again (the work is not done)


# (session, oldest time to look at, one case or all) -> what is missing
Reconcile = Callable[["AsyncSession", datetime, int | None], Awaitable[list[Missing]]]


@dataclass(frozen=True)
class JobSpec:
    """A job a plugin offers. ``periodic`` is a huey ``crontab(...)`` for scheduled jobs.

    As follow-up work (``core/storage/outbox.py``) a job runs from an outbox row: ``on_events`` writes
    one with every case event of those actions (arguments ``case_id``, ``event_id``);
    ``reconcile`` finds the work that should exist and does not (see ``Reconcile``);
    ``retries`` and the backoff apply there too, and ``lease_seconds`` overrides
    ``HOTLINE_JOB_LEASE_SECONDS`` for jobs that hold a worker long."""

    name: str
    func: JobFunc
    periodic: Callable[..., bool] | None = None
    retries: int = 6
    retry_delay: float = 5.0
    retry_backoff: float = 2.0
    on_events: tuple[str, ...] = ()
    reconcile: Reconcile | None = None
    lease_seconds: float | None = None


@dataclass(frozen=True)
class ListenerSpec:
    """A long-running listener a plugin offers (IMAP IDLE, a bot's long polling): ``async def
    listen(ctx, stop)`` that returns once ``stop`` (an ``asyncio.Event``) is set. It runs in a
    thread of its own wherever the job workers run; it is started again after a failure."""

    name: str
    func: Callable[[AppContext, asyncio.Event], Awaitable[None]]


def make_huey(settings: Settings) -> Huey:
    """The job store. On PostgreSQL nothing connects until a job is enqueued or taken, and the
    tables are made by ``hotline migrate`` (``prepare_job_tables``), not at every start."""
    if settings.is_postgres:
        url = make_url(settings.db_url)
        return PostgresHuey(
            "hotline",
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database,
            utc=True,
            create_tables=False,
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("hotline", filename=str(settings.data_dir / "jobs.db"), utc=True)


def prepare_job_tables(settings: Settings) -> None:
    """Create the job store's tables if missing (idempotent)."""
    if settings.is_postgres:
        make_huey(settings).storage.initialize_schema()


class _QuietConsumer(Consumer):  # type: ignore[misc]
    """A consumer that runs inside ``hotline serve``: the web server owns the signals."""

    def _set_signal_handlers(self) -> None:
        return None


class JobQueue:
    """Enqueue jobs by name; run them in threads here or in ``hotline worker`` processes."""

    def __init__(self, huey: Huey, context_factory: Callable[[], AppContext]) -> None:
        self.huey = huey
        self.specs: dict[str, JobSpec] = {}
        self._tasks: dict[str, Any] = {}
        self._context_factory = context_factory
        self._local = threading.local()
        self._consumer: Consumer | None = None
        self.listeners: list[ListenerSpec] = []  # the plugins'
        self.own_listeners: list[ListenerSpec] = []  # the kernel's (the outbox relay)
        self._running: list[tuple[threading.Thread, asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._store_down_until = 0.0
        rate_limit_job_logs()

        def follow_up(key: str) -> Any:
            from hotline.core.delivery import followups

            loop, ctx = self._thread_state()
            return loop.run_until_complete(followups.run(ctx, key))

        self._follow_up = huey.task(name=FOLLOW_UP_TASK, retries=0)(follow_up)

    def follows(self) -> dict[str, tuple[str, ...]]:
        """Which jobs follow which case event (``JobSpec.on_events``)."""
        found: dict[str, tuple[str, ...]] = {}
        for spec in self.specs.values():
            for action in spec.on_events:
                found[action] = (*found.get(action, ()), spec.name)
        return found

    def register(self, spec: JobSpec) -> None:
        if spec.name in self.specs:
            raise ValueError(f"two jobs named {spec.name!r}")
        self.specs[spec.name] = spec

        def run(**kwargs: Any) -> Any:
            return self._run_in_thread(spec, kwargs)

        run.__name__ = spec.name
        if spec.periodic is not None:
            task = self.huey.periodic_task(spec.periodic, name=spec.name)(run)
        else:
            task = self.huey.task(
                name=spec.name,
                retries=spec.retries,
                retry_delay=spec.retry_delay,
                retry_backoff=spec.retry_backoff,
            )(run)
        self._tasks[spec.name] = task

    def _thread_state(self) -> tuple[asyncio.AbstractEventLoop, AppContext]:
        state = getattr(self._local, "state", None)
        if state is None:
            loop = asyncio.new_event_loop()
            ctx = self._context_factory()
            state = (loop, ctx)
            self._local.state = state
        return state

    def _run_in_thread(self, spec: JobSpec, kwargs: dict[str, Any]) -> Any:
        loop, ctx = self._thread_state()
        return loop.run_until_complete(spec.func(ctx, **kwargs))

    def enqueue(self, name: str, *, delay: float | None = None, **kwargs: Any) -> str:
        """Put a job in the queue (durable once this returns). Returns the job id."""
        task = self._tasks[name]
        if delay:
            # Straight into the durable schedule: huey's own ``schedule()`` passes through the
            # task queue first, and a crash while a worker moves it across would lose it.
            instance = task.s(delay=delay, **kwargs)
            self.huey.add_schedule(instance)
            return str(instance.id)
        return str(task(**kwargs).id)

    async def aenqueue(self, name: str, *, delay: float | None = None, **kwargs: Any) -> str:
        return await anyio.to_thread.run_sync(lambda: self.enqueue(name, delay=delay, **kwargs))

    def hand_over(self, rows: Sequence[tuple[str, float]], *, force: bool = False) -> int:
        """Nudge a worker to run these outbox rows (key, seconds until due). What fails here
        (the job store locked, the disk full) is logged once a minute and left to the relay:
        the rows are committed already. After a failure the next ``STORE_PAUSE_SECONDS`` of
        hand-overs are left to the relay too (``force``: the relay's own, which probe), so
        requests do not each wait out the store's lock timeout. Returns how many were handed."""
        if not force and time.monotonic() < self._store_down_until:
            return 0
        handed = 0
        for key, delay in rows:
            try:
                if delay > 0:
                    self.huey.add_schedule(self._follow_up.s(key=key, delay=delay))
                else:
                    self._follow_up(key=key)
            except Exception:
                self._store_down_until = time.monotonic() + STORE_PAUSE_SECONDS
                log.warning("follow-up work not handed to the job store; the relay will")
                break
            handed += 1
        return handed

    async def ahand_over(self, rows: Sequence[tuple[str, float]], *, force: bool = False) -> int:
        return await anyio.to_thread.run_sync(lambda: self.hand_over(rows, force=force))

    def pending(self) -> int:
        return int(self.huey.pending_count()) + int(self.huey.scheduled_count())

    def start_listeners(self) -> None:
        """Each listener in a thread with its own loop and context."""
        for spec in [*self.own_listeners, *self.listeners]:
            ready: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
            started = threading.Event()

            def run(
                spec: ListenerSpec = spec,
                ready: list[Any] = ready,
                started: threading.Event = started,
            ) -> None:
                loop = asyncio.new_event_loop()
                stop = asyncio.Event()
                ready.append((loop, stop))
                started.set()
                loop.run_until_complete(self._listen(spec, stop))
                loop.close()

            thread = threading.Thread(target=run, name=f"listener-{spec.name}", daemon=True)
            thread.start()
            started.wait(5)
            loop, stop = ready[0]
            self._running.append((thread, loop, stop))

    async def _listen(self, spec: ListenerSpec, stop: asyncio.Event) -> None:
        ctx = self._context_factory()
        try:
            while not stop.is_set():
                try:
                    await spec.func(ctx, stop)
                except Exception:  # a listener's failure must not end the process
                    log.exception("listener failed", extra={"listener": spec.name})
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), LISTENER_RESTART_SECONDS)
        finally:
            await ctx.db.dispose()

    def stop_listeners(self) -> None:
        for thread, loop, stop in self._running:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
        self._running = []

    def start_in_process(self, workers: int, poll_seconds: float = 0.05) -> None:
        """Run jobs inside this process (the embedded default). Idle workers look for new jobs
        every ``poll_seconds``: a new job waits at most that long for a worker."""
        self._consumer = _QuietConsumer(
            self.huey,
            workers=workers,
            worker_type="thread",
            periodic=True,
            initial_delay=poll_seconds,
            backoff=1.0,
            max_delay=poll_seconds,
            check_worker_health=False,
        )
        self._consumer.start()
        self.start_listeners()

    def stop(self) -> None:
        self.stop_listeners()
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None

    def run_worker(self, workers: int, poll_seconds: float = 0.05) -> None:
        """Block running jobs (``hotline worker``); stops on SIGINT/SIGTERM."""
        # SIGTERM (systemd stop) lets running jobs finish; a second signal or SIGINT cuts them.
        self.start_listeners()
        Consumer(
            self.huey,
            workers=workers,
            worker_type="thread",
            periodic=True,
            graceful_signal="TERM",
            initial_delay=poll_seconds,
            backoff=1.0,
            max_delay=poll_seconds,
        ).run()
        self.stop_listeners()
