"""Portal fixtures: an app on a migrated SQLite copy with a small city and a client that
keeps cookies (session and CSRF) like a browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.foundation.settings import Settings
from hotline.core.shell.app import create_app
from hotline.core.shell.context import AppContext, Kernel
from hotline.core.storage.models.reference import ServiceCategory
from tests.conftest import seed_city, sqlite_app_settings

NOISE_ATTRIBUTES = [
    {
        "code": "when",
        "datatype": "singlevaluelist",
        "required": True,
        "description_zh": "噪声什么时候出现？",
        "description_en": "When is the noise?",
        "values": [
            {"key": "night", "name_zh": "夜间", "name_en": "At night"},
            {"key": "day", "name_zh": "白天", "name_en": "In the day"},
        ],
    },
    {
        "code": "floor",
        "datatype": "number",
        "required": False,
        "description_zh": "您住几楼？",
        "description_en": "Which floor do you live on?",
    },
]


async def seed_services(ctx: AppContext) -> None:
    """The small city, with extra questions on the noise service (as Open311 serves them)."""
    await seed_city(ctx)
    async with ctx.db.transaction() as s:
        noise = await s.scalar(select(ServiceCategory).where(ServiceCategory.code == "noise"))
        assert noise is not None
        noise.attributes = NOISE_ATTRIBUTES


@pytest.fixture
def portal_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    return sqlite_app_settings(tmp_path, sqlite_template)


@pytest.fixture
def kernel(portal_settings: Settings) -> Kernel:
    return Kernel(portal_settings)


@pytest.fixture
def client(portal_settings: Settings, kernel: Kernel) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(portal_settings, kernel)) as c:
        c.headers["Accept-Language"] = "en"
        c.blocking_portal.call(seed_services, c.app.state.ctx)
        yield c


def page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf(client: TestClient[Any], path: str = "/track") -> str:
    token = page(client.get(path)).find("input", attrs={"name": "_csrf_token"})
    assert token is not None
    return str(token["value"])


def text_of(soup: BeautifulSoup) -> str:
    return re.sub(r"\s+", " ", soup.get_text(" "))
