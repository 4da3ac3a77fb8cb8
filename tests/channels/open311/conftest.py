"""Open311 fixtures: the app on SQLite and on PostgreSQL (``db_url``), the small city with the
noise service's extra questions, and one API key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from hotline.core.foundation.settings import Settings
from hotline.core.people.apikeys import issue_key
from hotline.core.shell.app import create_app
from hotline.core.storage.models.cases import Case, Interaction
from tests.portal.conftest import seed_services


@dataclass
class Api:
    client: TestClient[Any]
    key: str

    @property
    def ctx(self) -> Any:
        return self.client.app.state.ctx

    def post(self, fmt: str = "json", **fields: Any) -> Any:
        return self.client.post(f"/open311/v2/requests.{fmt}", data=fields)

    def fields(self, **change: str) -> dict[str, str]:
        """A valid request for the noise service, changed as given."""
        return {
            "api_key": self.key,
            "service_code": "noise",
            "lat": "39.9",
            "long": "116.4",
            "attribute[when]": "day",
            "description": "噪音",
            **change,
        }

    def stored(self) -> tuple[int, int]:
        """How many cases and messages the database holds."""

        async def count() -> tuple[int, int]:
            async with self.ctx.db.session() as s:
                cases = await s.scalar(select(func.count()).select_from(Case))
                messages = await s.scalar(select(func.count()).select_from(Interaction))
                return int(cases or 0), int(messages or 0)

        return self.client.blocking_portal.call(count)


def open311_settings(tmp_path: Path, db_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": db_url,
        "jobs_in_process": False,
        "secret_key": "open311-test-secret-0123456789abcdef",
        "rate_limit_per_minute": 100_000,
    }
    return Settings(**{**values, **extra})


@pytest.fixture
def api(tmp_path: Path, db_url: str) -> Iterator[Api]:
    with TestClient(create_app(open311_settings(tmp_path, db_url))) as client:
        ctx = client.app.state.ctx

        async def setup() -> str:
            await seed_services(ctx)
            return await issue_key(ctx, "Another city's app")

        yield Api(client, client.blocking_portal.call(setup))


@pytest.fixture
def sqlite_api(tmp_path: Path, sqlite_template: Path) -> Iterator[Api]:
    """SQLite only, for the tests that do not touch what differs between the databases."""
    import shutil

    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(sqlite_template, data / "hotline.db")
    with TestClient(
        create_app(open311_settings(tmp_path, f"sqlite+aiosqlite:///{data / 'hotline.db'}"))
    ) as client:
        ctx = client.app.state.ctx

        async def setup() -> str:
            await seed_services(ctx)
            return await issue_key(ctx, "Another city's app")

        yield Api(client, client.blocking_portal.call(setup))


@pytest.fixture
def portal_client(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient[Any]]:
    """The portal as a browser meets it (cookies kept, English), on the small city."""
    from tests.conftest import sqlite_app_settings

    with TestClient(create_app(sqlite_app_settings(tmp_path, sqlite_template))) as c:
        c.headers["Accept-Language"] = "en"
        c.blocking_portal.call(seed_services, c.app.state.ctx)
        yield c
