"""Load and faults on a real ``hotline serve`` (for the crash-safety tests and bench_faults).

Citizens (threads) submit messages with an e-mail address through ``tests.intakeprobe``; one
that gets no answer (the server died, or failed) sends the same message again, with the same
``external_id``, until it gets its receipt. Meanwhile the server is killed (``kill -9``, or a
crash point of ``hotline.core.foundation.crashpoints``), its job store or database is locked, or its disk is
full. Afterwards a clean server settles and the count is made: every committed case must have
exactly one acknowledgement at the SMTP sink (one Message-ID; a second copy with the same
Message-ID is a resend a mail system drops), every receipt a case, every message one case.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from hotline.core.cases.replies import LOOKUP_CODE_MASK
from hotline.core.delivery.jobs import prepare_job_tables
from hotline.core.foundation.settings import Settings
from hotline.core.storage import migrate
from hotline.core.storage.enums import Direction
from hotline.core.storage.models.cases import Case, ContactPoint, Interaction
from hotline.core.storage.models.reference import Department, ServiceCategory
from tests.mailservers import SmtpSink
from tests.processes import Served, free_port, wait_for

# short leases and a busy relay, so that recovery takes seconds, not minutes
FAST = {
    "HOTLINE_JOB_LEASE_SECONDS": "2",
    "HOTLINE_JOB_RELAY_SECONDS": "0.5",
    "HOTLINE_JOB_RECONCILE_SECONDS": "5",
    "HOTLINE_JOB_WORKERS": "4",
    "HOTLINE_RATE_LIMIT_PER_MINUTE": "1000000",
    "HOTLINE_PLUGINS": "tests.intakeprobe",
    "HOTLINE_MAIL_ADDRESS": "12345@hotline.example.cn",
    "HOTLINE_SECRET_KEY": "fault-test-secret-0123456789abcdef",
}
# where a process may die: after a commit before its hand-over; a job claimed, not run; a
# channel took the message, not yet marked sent; a job ran, not yet marked done
CRASH_POINTS = (
    "outbox.before_handover:7",
    "outbox.claimed:5",
    "reply.sent:3",
    "outbox.before_done:4",
)


def sync_url(url: str) -> str:
    parts = make_url(url)
    driver = "sqlite" if parts.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parts.set(drivername=driver).render_as_string(hide_password=False)


@dataclass
class Site:
    """A data directory (and a PostgreSQL database, or SQLite in it), an SMTP sink, a port."""

    data_dir: Path
    sink: SmtpSink
    database_url: str = ""
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=self.database_url)

    def prepare(self) -> None:
        """Migrate, make the job store's tables, and add the one service the citizens use."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        settings = self.settings
        migrate.upgrade(settings.db_url)
        prepare_job_tables(settings)
        engine = create_engine(sync_url(settings.db_url))
        with engine.begin() as conn:
            if conn.execute(
                select(ServiceCategory.id).where(ServiceCategory.code == "pothole")
            ).first():
                engine.dispose()
                return
            roads = conn.execute(
                Department.__table__.insert()
                .values(code="roads", name_zh="交通运输局", name_en="Transport", active=True)
                .returning(Department.__table__.c.id)
            ).scalar_one()
            conn.execute(
                ServiceCategory.__table__.insert().values(
                    code="pothole",
                    name_zh="道路破损",
                    name_en="Road damage",
                    default_department_id=roads,
                )
            )
        engine.dispose()

    def serve(self, **extra: str) -> Served:
        env = {**FAST, "HOTLINE_SMTP_URL": self.sink.url, **self.env, **extra}
        if self.database_url:
            env["HOTLINE_DATABASE_URL"] = self.database_url
        return Served(self.data_dir, port=self.port, **env)

    def engine(self) -> Engine:
        return create_engine(sync_url(self.settings.db_url))


class Citizens:
    """``threads`` citizens submitting numbered messages until ``stop``; each retries its own
    message (same external id) until it is answered."""

    def __init__(self, site: Site, threads: int = 6, prefix: str = "m") -> None:
        self.site = site
        self.prefix = prefix
        self.receipts: dict[str, str] = {}  # external id -> tracking number seen by the citizen
        self.refused = 0  # answers that were not a receipt (the server failing): retried
        self._next = 0
        self._limit = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def allow(self, count: int) -> None:
        """Let ``count`` more messages be sent."""
        with self._lock:
            self._limit += count

    @property
    def answered(self) -> int:
        return len(self.receipts)

    @property
    def sent(self) -> int:
        return self._limit

    def start(self) -> Citizens:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= self._limit:
                return None
            self._next += 1
            return self._next - 1

    def message(self, n: int) -> dict[str, object]:
        return {
            "channel": "web",
            "external_id": f"{self.prefix}-{n}",
            "kind": "complaint",
            "category": "pothole",
            "language": "en" if n % 2 else "zh_CN",
            "text": f"人民路第{n}号门前有一个大坑 #{self.prefix}{n}",
            "contacts": [{"kind": "email", "value": f"{self.prefix}{n}@citizens.example.cn"}],
        }

    def _run(self) -> None:
        with httpx.Client(base_url=self.site.url, timeout=30) as client:
            while not self._stop.is_set():
                n = self._take()
                if n is None:
                    self._stop.wait(0.05)
                    continue
                body = self.message(n)
                while not self._stop.is_set():
                    try:
                        answer = client.post("/probe/submit", json=body)
                    except httpx.HTTPError:
                        self._stop.wait(0.2)  # the server is down: try again
                        continue
                    if answer.status_code == 201:
                        self.receipts[str(body["external_id"])] = answer.json()["tracking_number"]
                        break
                    self.refused += 1
                    self._stop.wait(0.2)


@dataclass
class Count:
    cases: int
    receipts: int
    acks_lost: list[str]
    acks_doubled: list[str]
    acks_resent: int  # copies with a Message-ID already received (dropped by mail systems)
    receipts_without_case: list[str]
    messages_with_two_cases: list[str]
    codes_masked: int  # acknowledgements that left with the mask instead of the code

    @property
    def clean(self) -> bool:
        return not (
            self.acks_lost
            or self.acks_doubled
            or self.receipts_without_case
            or self.messages_with_two_cases
            or self.codes_masked
        )


def live_jobs(site: Site) -> int:
    engine = site.engine()
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM job_outbox WHERE state IN ('pending', 'running')")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def settle(
    site: Site, citizens: Citizens, server: Served | None = None, timeout: float = 90
) -> Served:
    """A clean server (a new one, or ``server``) until every message has its receipt and no
    follow-up work is left."""
    server = server or site.serve()
    try:
        assert wait_for(lambda: citizens.answered >= citizens.sent, timeout=timeout), (
            f"{citizens.sent - citizens.answered} messages never answered"
        )
        assert wait_for(lambda: live_jobs(site) == 0, timeout=timeout), "follow-up work left"
        seen = -1
        while seen != len(site.sink.received):  # the last mails in flight have arrived
            seen = len(site.sink.received)
            time.sleep(0.5)
    except BaseException:
        server.kill9()
        raise
    return server


def count(site: Site, citizens: Citizens) -> Count:
    engine = site.engine()
    with engine.connect() as conn:
        found = conn.execute(
            select(Case.tracking_number, ContactPoint.value)
            .join(Interaction, Interaction.case_id == Case.id)
            .join(ContactPoint, ContactPoint.id == Interaction.contact_point_id)
            .where(Interaction.direction == Direction.IN)
        ).all()
    engine.dispose()
    cases = {number for number, _email in found}
    per_message: dict[str, set[str]] = defaultdict(set)
    for number, email in found:
        per_message[email].add(number)
    ids: dict[str, set[str]] = defaultdict(set)
    masked = 0
    for mail in site.sink.received:
        ids[str(mail["X-Hotline-Case"])].add(str(mail["Message-ID"]))
        masked += LOOKUP_CODE_MASK in mail.get_content()
    received = sum(len(v) for v in ids.values())
    return Count(
        cases=len(cases),
        receipts=len(citizens.receipts),
        acks_lost=sorted(n for n in cases if not ids.get(n)),
        acks_doubled=sorted(n for n, found_ids in ids.items() if len(found_ids) > 1),
        acks_resent=len(site.sink.received) - received,
        receipts_without_case=sorted(n for n in citizens.receipts.values() if n not in cases),
        messages_with_two_cases=sorted(e for e, numbers in per_message.items() if len(numbers) > 1),
        codes_masked=masked,
    )


def kill_rounds(
    site: Site, citizens: Citizens, per_round: int, points: tuple[str | None, ...]
) -> list[str]:
    """One server per round, each killed: at a crash point, or (``None``) by ``kill -9`` at a
    random moment of the load. Returns how each round ended: ``"crashed"`` (the process died
    at its crash point), ``"killed"`` (kill -9 from here: the timed round, or a crash point
    not reached in 90 s)."""
    ended = []
    rng = random.Random(23)
    for point in points:
        citizens.allow(per_round)
        try:
            server = site.serve(**({"HOTLINE_TEST_CRASH": point} if point else {}))
        except RuntimeError as died:  # at its crash point already, in the work left over
            ended.append("crashed" if "exited -9" in str(died) else f"failed: {died}")
            continue
        if point is None:
            time.sleep(rng.uniform(0.3, 1.2))
        else:  # its share of messages makes work enough to pass the point n times
            proc = server.proc
            wait_for(lambda: proc.poll() is not None, 90)  # noqa: B023
        if server.proc.poll() is None:
            server.kill9()
            ended.append("killed")
        else:
            server.proc.communicate(timeout=10)
            ended.append("crashed" if server.proc.returncode == -9 else "exited")
    return ended


@contextmanager
def running(site: Site, threads: int = 6, prefix: str = "m") -> Iterator[Citizens]:
    citizens = Citizens(site, threads, prefix).start()
    try:
        yield citizens
    finally:
        citizens.stop()


def pg_database(admin_dsn: str, name: str, tablespace: str | None = None) -> str:
    """A fresh database (in ``tablespace``) on the server of ``admin_dsn``; its async URL."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            where = f' TABLESPACE "{tablespace}"' if tablespace else ""
            await conn.execute(f'CREATE DATABASE "{name}"{where}')
        finally:
            await conn.close()

    asyncio.run(run())
    return (
        make_url(admin_dsn)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )


def pg_execute(admin_dsn: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            for attempt in range(3):
                try:
                    await conn.execute(sql)
                    return
                except asyncpg.InternalServerError as exc:
                    # DROP DATABASE waits for a checkpoint; one that failed on the full-disk
                    # test's tablespace makes it answer "checkpoint request failed" once
                    if "checkpoint request failed" not in str(exc) or attempt == 2:
                        raise
                    await asyncio.sleep(1)
        finally:
            await conn.close()

    asyncio.run(run())
