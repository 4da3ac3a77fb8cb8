"""Console fixtures: an app on a migrated SQLite copy with one account per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from hotline.core.people.accounts import hash_password
from hotline.core.shell.app import create_app
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import User
from tests.conftest import sqlite_app_settings

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(sqlite_app_settings(tmp_path, sqlite_template))) as c:
        c.headers["Accept-Language"] = "en"

        async def staff() -> None:
            async with c.app.state.ctx.db.transaction() as s:
                for role in Role:
                    s.add(
                        User(
                            username=f"{role.value}1",
                            display_name=f"{role.value} one",
                            role=role,
                            password_hash=hash_password(PASSWORD),
                        )
                    )
                s.add(
                    User(
                        username="gone",
                        display_name="Left",
                        role=Role.AGENT,
                        active=False,
                        password_hash=hash_password(PASSWORD),
                    )
                )

        c.blocking_portal.call(staff)
        yield c


def token(client: TestClient[Any]) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console/login").text)
    assert found
    return found.group(1)


def sign_in(client: TestClient[Any], username: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/console/login",
        data={"_csrf_token": token(client), "username": username, "password": password},
        follow_redirects=False,
    )
