"""PostgreSQL's faults as citizens meet them: a lock held past ``lock_timeout``, and the
server gone (a TCP forwarder cut and restored). 503 with Retry-After in every format, one log
line per kind, /readyz not ready while the database is unreachable, recovery without a
restart, and every submission counted once (see ``test_faults.py`` for SQLite and the disk)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hotline.core.foundation.settings import Settings
from hotline.core.storage.models.cases import Case
from tests.conftest import _truncate_pg
from tests.core.test_faults import (
    _quiet,
    _seed,
    _token,
    assert_each_once,
    assert_fault_page,
    fault_lines,
    send_again,
    submit,
    tracking_number,
)
from tests.liveapp import LiveApp
from tests.tcpproxy import TcpProxy


@pytest.fixture
def pg_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    url = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return _quiet(
        Settings(
            data_dir=tmp_path / "data",
            database_url=url,
            jobs_in_process=False,
            secret_key="test-secret-key-not-for-production",
        ),
        lock_timeout=0.5,
    )


def test_postgres_lock_timeout_answers_503_and_loses_nothing(
    pg_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncpg

    live = LiveApp(pg_settings)
    try:
        live.call(_seed)
        dsn = pg_settings.db_url.replace("postgresql+asyncpg", "postgresql")
        loop = asyncio.new_event_loop()
        holder = loop.run_until_complete(asyncpg.connect(dsn))
        citizens = [
            httpx.Client(base_url=live.url, timeout=30, follow_redirects=True) for _ in range(3)
        ]
        loop.run_until_complete(holder.execute("BEGIN; LOCK TABLE cases IN EXCLUSIVE MODE"))
        try:
            refused = []
            for i, client in enumerate(citizens):
                page = submit(client, f"第{i}棵树倒了", f"1330013300{i}")
                assert_fault_page(page, f"第{i}棵树倒了")
                refused.append(page)
        finally:
            loop.run_until_complete(holder.execute("ROLLBACK"))
            loop.run_until_complete(holder.close())
            loop.close()
        assert len(fault_lines(caplog, "database_locked")) == 1
        numbers = [
            tracking_number(send_again(c, p)) for c, p in zip(citizens, refused, strict=True)
        ]
        assert all(numbers)
        assert_each_once(live, [n for n in numbers if n], 3)
    finally:
        live.stop()


def test_postgres_gone_answers_503_in_every_format_and_recovers(
    pg_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_url(pg_settings.db_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    pg_settings.database_url = url.set(port=proxy.port).render_as_string(hide_password=False)
    live = LiveApp(pg_settings)
    try:
        live.call(_seed)
        citizen = httpx.Client(base_url=live.url, timeout=30, follow_redirects=True)
        assert citizen.get("/api/v1/services").status_code == 200
        token = _token(citizen, "/services/pothole")
        proxy.cut()
        api = citizen.get("/api/v1/services")
        assert api.status_code == 503 and api.json()["fault"] == "database_unavailable"
        assert int(api.headers["retry-after"]) > 0
        xml = citizen.get("/open311/v2/services.xml")
        assert xml.status_code == 503 and xml.headers["content-type"].startswith("text/xml")
        assert "<errors><error><code>503</code>" in xml.text
        js = citizen.get("/open311/v2/requests.json")
        assert js.status_code == 503 and js.json()[0]["code"] == 503
        page = citizen.get("/")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert BeautifulSoup(page.text, "html.parser").find(id="try-again") is not None
        posted = citizen.post(
            "/services/pothole",
            data={
                "_csrf_token": token,
                "description": "路面塌陷",
                "phone": "13200132000",
                "consent": "yes",
            },
        )
        assert_fault_page(posted, "路面塌陷")
        ready = citizen.get("/readyz")
        assert ready.status_code == 503 and "unreachable" in ready.json()["database"]
        assert len(fault_lines(caplog, "database_unavailable")) == 1
        proxy.start()
        deadline = time.monotonic() + 30
        while citizen.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert citizen.get("/api/v1/services").status_code == 200  # no restart needed
        number = tracking_number(send_again(citizen, posted, photo=False))
        assert number

        async def count(ctx: Any) -> int:
            async with ctx.db.session() as s:
                return int(await s.scalar(select(func.count()).select_from(Case)) or 0)

        assert live.call(count) == 1
    finally:
        live.stop()
        proxy.close()
