"""Strangers at the console: no session is written until sign-in succeeds, the sign-in pages are
limited per address, and expired sessions (and old counted guesses) are purged by a job."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import func, select

from hotline.admin.sessions import purge_expired
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import EdgeCount, FailedAttempt
from tests.admin.conftest import sign_in


def session_files(client: TestClient[Any]) -> list[Path]:
    folder = client.app.state.ctx.settings.data_dir / "sessions"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_anonymous_requests_write_no_session(client: TestClient[Any]) -> None:
    for path in ("/console", "/console/queue", "/console/login", "/console/cases", "/console/x"):
        for _ in range(4):
            answer = client.get(path, follow_redirects=False)
            assert "hotline_console=" not in answer.headers.get("set-cookie", "")
    refused = sign_in(client, "agent1", "wrong password")
    assert refused.status_code == 401
    assert session_files(client) == [] and "hotline_console" not in client.cookies
    assert sign_in(client, "agent1").status_code == 303
    assert len(session_files(client)) == 1 and client.cookies.get("hotline_console")
    assert client.get("/console", follow_redirects=False).status_code == 200
    client.post("/console/logout", data={"_csrf_token": client.cookies["hotline_console_csrf"]})
    assert session_files(client) == []


def test_the_sign_in_page_is_limited_per_address(client: TestClient[Any]) -> None:
    limit = client.app.state.ctx.settings.signin_per_minute
    codes = [client.get("/console/login").status_code for _ in range(limit + 1)]
    assert codes[:limit] == [200] * limit and codes[-1] == 429


def test_the_purge_job_deletes_expired_sessions_and_old_counts(client: TestClient[Any]) -> None:
    store = client.app.stores.get("sessions")
    ctx = client.app.state.ctx

    async def seed() -> None:
        await store.set("old", b"{}", expires_in=1)
        await store.set("current", b"{}", expires_in=3600)
        async with ctx.db.transaction() as s:
            s.add_all(
                [
                    FailedAttempt(key="n:old", at=utcnow() - timedelta(days=3)),
                    FailedAttempt(key="n:new"),
                    EdgeCount(key="chat:a:old", at=utcnow() - timedelta(days=3)),
                    EdgeCount(key="chat:a:new"),
                ]
            )

    client.blocking_portal.call(seed)
    time.sleep(1.1)
    done = client.blocking_portal.call(purge_expired, ctx)
    assert done == {"sessions": 1, "attempts": 1, "counts": 1}
    assert len(session_files(client)) == 1 and client.blocking_portal.call(store.exists, "current")

    async def left() -> tuple[int, int]:
        async with ctx.db.session() as s:
            attempts = await s.scalar(select(func.count()).select_from(FailedAttempt))
            counts = await s.scalar(select(func.count()).select_from(EdgeCount))
            return int(attempts or 0), int(counts or 0)

    assert client.blocking_portal.call(left) == (1, 1)
