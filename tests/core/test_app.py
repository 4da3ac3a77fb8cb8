"""The web app as a client sees it: health, readiness, the API and its schema, the home page
in both languages, rate limits, security headers, request ids, and no personal data in logs."""

from __future__ import annotations

import json
import logging

import pytest
from litestar.testing import TestClient

from hotline.core.foundation.logging import JsonFormatter, configure_logging
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.shell.app import create_app
from hotline.core.shell.context import Kernel
from hotline.core.storage import migrate
from tests.conftest import seed_city
from tests.factories import submission


@pytest.fixture
def client(settings: Settings, kernel: Kernel):
    with TestClient(create_app(settings, kernel)) as c:
        c.blocking_portal.call(seed_city, c.app.state.ctx)
        yield c


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["migration"] == migrate.head_revision()


def test_not_ready_when_the_schema_is_behind(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "d", jobs_in_process=False)
    settings.data_dir.mkdir()
    migrate.upgrade(settings.db_url)
    migrate.downgrade(settings.db_url, "base")
    with TestClient(create_app(settings)) as c:
        response = c.get("/readyz")
    assert response.status_code == 503
    assert response.json()["expected"] == migrate.head_revision()


def test_not_ready_when_the_database_is_unreachable(tmp_path) -> None:
    settings = Settings(
        data_dir=tmp_path / "d",
        jobs_in_process=False,
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
    )
    with TestClient(create_app(settings)) as c:
        response = c.get("/readyz")
    assert response.status_code == 503 and "unreachable" in response.json()["database"]


def test_openapi_schema_lists_the_api(client: TestClient) -> None:
    schema = client.get("/api/schema/openapi.json").json()
    assert client.get("/api/schema/swagger").status_code == 404  # no viewer that needs a CDN
    assert {
        "/api/v1/services",
        "/api/v1/departments",
        "/api/v1/cases/{number}/status",
        "/healthz",
    } <= set(schema["paths"])


def test_services_and_departments(client: TestClient) -> None:
    services = {s["code"]: s for s in client.get("/api/v1/services").json()}
    assert (
        services["pothole"]["name_zh"] == "道路破损"
        and services["pothole"]["name_en"] == "Road damage"
    )
    departments = {d["code"]: d["parent"] for d in client.get("/api/v1/departments").json()}
    assert departments == {"city": None, "roads": "city", "env": "city"}


def test_case_status_shows_the_public_timeline_only(client: TestClient) -> None:
    result = client.blocking_portal.call(receive, client.app.state.ctx, submission())
    body = client.get(f"/api/v1/cases/{result.tracking_number}/status").json()
    assert body["status"] == "received"
    assert [e["action"] for e in body["timeline"]] == ["received"]  # "routed" is internal
    text = json.dumps(body, ensure_ascii=False)
    for private in ("张三", "13800138000", "大坑", "roads"):
        assert private not in text
    wrong = result.tracking_number[:-1] + str((int(result.tracking_number[-1]) + 1) % 10)
    assert client.get(f"/api/v1/cases/{wrong}/status").status_code == 404


def test_home_page_speaks_the_visitors_language(client: TestClient) -> None:
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "紧急情况请拨打 110" in zh.text and "道路破损" in zh.text
    assert zh.headers["content-language"] == "zh-CN"
    en = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Emergencies: call 110" in en.text and "Road damage" in en.text
    chosen = client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})
    assert "How can we help?" in chosen.text
    # the choice sticks, over the browser's preference
    again = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert "How can we help?" in again.text


def test_pages_are_escaped(client: TestClient) -> None:
    async def evil() -> None:
        from hotline.core.storage.models.reference import ServiceCategory

        async with client.app.state.ctx.db.transaction() as s:
            s.add(
                ServiceCategory(code="x", name_zh="<script>alert(1)</script>", name_en="<b>x</b>")
            )

    client.blocking_portal.call(evil)
    page = client.get("/?lang=zh_CN").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_security_headers_and_request_id(client: TestClient) -> None:
    response = client.get("/", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert generated != "bad id\n" and len(generated) == 32


def test_strangers_are_rate_limited(settings: Settings) -> None:
    settings.rate_limit_per_minute = 5
    with TestClient(create_app(settings)) as c:
        codes = [c.get("/api/v1/services").status_code for _ in range(7)]
        assert codes[:5] == [200] * 5 and codes[-1] == 429
        assert c.get("/healthz").status_code == 200  # probes are never limited


def test_no_personal_data_in_logs(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """Submit a case with a known name, phone and e-mail through HTTP-like paths with hook
    tracing on; none of them appears in any log line."""
    settings.trace_plugins = True
    configure_logging("DEBUG", "json")  # the product's own configuration, at its most verbose
    caplog.set_level(logging.DEBUG)
    kernel = Kernel(settings)
    with TestClient(create_app(settings, kernel)) as c:
        ctx = c.app.state.ctx
        c.blocking_portal.call(seed_city, ctx)
        sub = submission(
            citizen_name="欧阳娜娜",
            contacts=[
                {"kind": "phone", "value": "13912345678"},
                {"kind": "email", "value": "nana.ouyang@example.cn"},
            ],
            text="我家楼下的路灯坏了",
        )
        result = c.blocking_portal.call(receive, ctx, sub)
        c.get(f"/api/v1/cases/{result.tracking_number}/status")
        c.get("/?lang=zh_CN")
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert "hook call" in logged  # tracing was on, so hooks were logged
    for secret in ("欧阳娜娜", "13912345678", "+8613912345678", "nana.ouyang", "路灯坏了"):
        assert secret not in logged
