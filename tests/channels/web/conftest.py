"""An app on SQLite and on PostgreSQL (the ``db_url`` fixture) with the small city, a client
that keeps cookies like a browser, and helpers to post bytes exactly as a stranger may."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from hotline.core.foundation.settings import Settings
from hotline.core.shell.app import create_app
from hotline.core.shell.context import Kernel
from tests.conftest import count_rows
from tests.portal.conftest import seed_services

# Counted on purpose when a stranger guesses: not "stored" in the sense of a case.
COUNTERS = {"failed_attempts", "edge_counts"}


@pytest.fixture
def edge_settings(settings: Settings) -> Settings:
    # Generous request limits: these tests send many requests from one address on purpose.
    return settings.model_copy(
        update={
            "form_posts_per_minute": 100_000,
            "webchat_posts_per_minute": 100_000,
            "rate_limit_per_minute": 100_000,
            "chat_starts_free": 100_000,
            "chat_starts_per_address": 100_000,
            "chat_starts_per_contact": 100_000,
        }
    )


@pytest.fixture
def client(edge_settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(edge_settings, Kernel(edge_settings))) as c:
        c.headers["Accept-Language"] = "en"
        c.blocking_portal.call(seed_services, c.app.state.ctx)
        yield c


def csrf(client: TestClient[Any], path: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


def stored(client: TestClient[Any]) -> dict[str, int]:
    """Rows per table, but the counters of guesses and starts."""
    counts = client.blocking_portal.call(count_rows, client.app.state.ctx)
    return {k: v for k, v in counts.items() if k not in COUNTERS}


def multipart(
    fields: list[tuple[bytes, bytes]],
    files: list[tuple[bytes, bytes, bytes]] = (),  # type: ignore[assignment]
) -> tuple[bytes, str]:
    """A multipart body from raw bytes (names, values and file names exactly as sent)."""
    boundary = b"edgeBoundary7MA4YWxkTrZu0gW"
    parts = [
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, n, v)
        for n, v in fields
    ]
    parts += [
        b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n%s\r\n" % (boundary, n, f, d)
        for n, f, d in files
    ]
    body = b"".join(parts) + b"--%s--\r\n" % boundary
    return body, f"multipart/form-data; boundary={boundary.decode()}"
