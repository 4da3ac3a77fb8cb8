"""The AppContext: what every handler, job and plugin gets to reach the kernel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pluggy

from hotline.core.delivery.events import EventBus, Publisher
from hotline.core.delivery.jobs import JobQueue, ListenerSpec, make_huey
from hotline.core.foundation.settings import Settings, ensure_secret_key
from hotline.core.plugin_host.manager import build_plugin_manager
from hotline.core.shell.i18n import Catalogs, load_catalogs
from hotline.core.storage.db import Database
from hotline.core.storage.files import FileStore


@dataclass
class AppContext:
    settings: Settings
    pm: pluggy.PluginManager
    db: Database
    files: FileStore
    jobs: JobQueue
    events: EventBus
    catalogs: Catalogs
    secret_key: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)


def plugin_manager_for(settings: Settings) -> pluggy.PluginManager:
    pm: pluggy.PluginManager = build_plugin_manager(
        extra=settings.plugins, disabled=settings.disabled_plugins, trace=settings.trace_plugins
    )
    return pm


class Kernel:
    """What one process shares: settings, plugins, files, the job queue, the catalogs.

    Contexts are made per event loop (the app's, and one per job thread) since a database
    engine belongs to the loop that made it.
    """

    def __init__(self, settings: Settings, pm: pluggy.PluginManager | None = None) -> None:
        self.settings = settings
        self.pm = pm or plugin_manager_for(settings)
        self.files = FileStore(settings.files_dir)
        self.catalogs = load_catalogs()
        self.secret_key = ensure_secret_key(settings)
        self.publisher: Publisher | None = None
        self.jobs = JobQueue(make_huey(settings), self.new_context)
        self._jobs_registered = False

    def new_context(self) -> AppContext:
        bus = EventBus(self.publisher) if self.publisher else EventBus()
        db = Database(self.settings.db_url, self.settings.db_lock_timeout_seconds)
        ctx = AppContext(
            settings=self.settings,
            pm=self.pm,
            db=db,
            files=self.files,
            jobs=self.jobs,
            events=bus,
            catalogs=self.catalogs,
            secret_key=self.secret_key,
        )
        if not self._jobs_registered:
            self._jobs_registered = True
            for group in self.pm.hook.register_jobs(ctx=ctx):
                for spec in group or ():
                    self.jobs.register(spec)
            for group in self.pm.hook.register_listeners(ctx=ctx):
                self.jobs.listeners.extend(group or ())
            from hotline.core.delivery.followups import relay_loop

            self.jobs.own_listeners = [ListenerSpec("hotline.relay", relay_loop)]
        # the job outbox: rows for the jobs that follow case events, handed over after commit
        db.outbox.follow = self.jobs.follows()
        db.outbox.grace_seconds = self.settings.job_lease_seconds
        db.on_commit = self.jobs.ahand_over
        return ctx


@asynccontextmanager
async def open_context(
    settings: Settings, kernel: Kernel | None = None
) -> AsyncIterator[AppContext]:
    """A context for scripts and tests: no web server, jobs not running unless started."""
    kernel = kernel or Kernel(settings)
    ctx = kernel.new_context()
    try:
        yield ctx
    finally:
        await ctx.db.dispose()
