"""Nothing a citizen sends is lost or doubled: a real ``hotline serve`` under load is killed
(``kill -9``) at many points of intake and delivery, its job store and database are locked,
its disk is full; after recovery every case has exactly one acknowledgement at the SMTP sink,
every receipt a citizen saw is a case, and no message made two cases. On SQLite and
PostgreSQL. See ``tests/faultload.py``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_DSN, need
from tests.faultload import (
    CRASH_POINTS,
    Site,
    count,
    kill_rounds,
    pg_database,
    pg_execute,
    running,
    settle,
)
from tests.mailservers import SmtpSink
from tests.processes import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Site]:
    if request.param == "sqlite":
        made = Site(tmp_path / "data", smtp_sink)
        made.prepare()
        yield made
        return
    request.getfixturevalue("pg_database")  # skips, or fails under CI, without PostgreSQL
    name = f"hotline_faults_{uuid.uuid4().hex[:8]}"
    made = Site(tmp_path / "data", smtp_sink, database_url=pg_database(PG_ADMIN_DSN, name))
    made.prepare()
    yield made
    pg_execute(PG_ADMIN_DSN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_kill_9_at_every_point_loses_and_doubles_no_acknowledgement(site: Site) -> None:
    with running(site) as citizens:
        ended = kill_rounds(site, citizens, per_round=12, points=(*CRASH_POINTS, None))
        server = settle(site, citizens)
        server.stop()
    result = count(site, citizens)
    assert ended == ["crashed"] * 4 + ["killed"]  # each crash point was reached
    assert result.cases == result.receipts == citizens.sent == 60
    assert result.clean, result


def _lock_sqlite(path: Path, seconds: float) -> None:
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("BEGIN EXCLUSIVE")
    time.sleep(seconds)
    conn.rollback()
    conn.close()


def _lock_postgres(site: Site, table: str, seconds: float) -> None:
    import psycopg

    from tests.faultload import sync_url

    dsn = sync_url(site.database_url).replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn) as conn:
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        time.sleep(seconds)
        conn.rollback()


def test_a_locked_job_store_and_database_lose_no_acknowledgement(site: Site) -> None:
    """The job store locked for 8 s (longer than huey's SQLite lock timeout: hand-overs fail
    and are left to the relay), then the database for 12 s (longer than SQLite's busy timeout:
    some submissions fail and are sent again), while citizens keep submitting."""
    server = site.serve()
    postgres = bool(site.database_url)
    with running(site) as citizens:
        citizens.allow(10)
        assert wait_for(lambda: citizens.answered >= 10, 30)
        for target, seconds in (("jobs", 8.0), ("cases", 12.0)):
            if postgres:
                table = "huey_task" if target == "jobs" else "cases"
                lock = threading.Thread(target=_lock_postgres, args=(site, table, seconds))
            else:
                name = "jobs.db" if target == "jobs" else "hotline.db"
                lock = threading.Thread(target=_lock_sqlite, args=(site.data_dir / name, seconds))
            lock.start()
            time.sleep(0.3)
            citizens.allow(15)
            lock.join()
        _out, log = settle(site, citizens, server).stop()
    result = count(site, citizens)
    assert result.cases == citizens.sent == 40
    assert result.clean, result
    if not postgres:  # locked past SQLite's busy timeout: those citizens had to send again
        assert citizens.refused > 0
    assert len(log.splitlines()) < 40  # logged once per kind of trouble, not per attempt


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 64 MB tmpfs (outside pytest's private temporary folder, so that PostgreSQL's own user
    can reach it), unmounted after."""
    need(os.geteuid() == 0, "root (to mount a small tmpfs)")
    disk = Path(tempfile.mkdtemp(prefix="hotline-disk-"))
    disk.chmod(0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        disk.rmdir()


def _fill(path: Path) -> Path:
    """Fill the file system of ``path`` to the last byte; the filler's path."""
    filler = path / "filler"
    # unbuffered: a buffered file keeps the bytes that did not fit and fails again when closed
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


@pytest.fixture
def full_site(site: Site, small_disk: Path, tmp_path: Path) -> Iterator[Site]:
    """The data directory (SQLite) or the database's tablespace (PostgreSQL) on the small disk."""
    if not site.database_url:
        made = Site(small_disk / "data", site.sink)
        made.prepare()
        yield made
        return
    space = small_disk / "pg"
    space.mkdir()
    os.chown(space, *_postgres_ids())
    tablespace = f"faults_{uuid.uuid4().hex[:8]}"
    pg_execute(PG_ADMIN_DSN, f"CREATE TABLESPACE {tablespace} LOCATION '{space}'")
    name = f"hotline_full_{uuid.uuid4().hex[:8]}"
    try:
        url = pg_database(PG_ADMIN_DSN, name, tablespace=tablespace)
        made = Site(tmp_path / "data-full", site.sink, database_url=url)
        made.prepare()
        yield made
    finally:
        pg_execute(PG_ADMIN_DSN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_execute(PG_ADMIN_DSN, f"DROP TABLESPACE IF EXISTS {tablespace}")


def test_a_full_disk_loses_no_acknowledgement(full_site: Site, small_disk: Path) -> None:
    """The disk filled to the last byte for 4 s while citizens submit, then freed."""
    server = full_site.serve()
    with running(full_site) as citizens:
        citizens.allow(10)
        assert wait_for(lambda: citizens.answered >= 10, 30)
        filler = _fill(small_disk)
        citizens.allow(20)
        time.sleep(4)
        filler.unlink()
        _out, log = settle(full_site, citizens, server).stop()
    result = count(full_site, citizens)
    assert result.cases == citizens.sent == 30
    assert result.clean, result
    assert citizens.refused > 0  # the disk was full: those citizens had to send again
    assert len(log.splitlines()) < 40  # logged once per kind of trouble


def _postgres_ids() -> tuple[int, int]:
    import pwd

    found = pwd.getpwnam("postgres")
    return found.pw_uid, found.pw_gid
