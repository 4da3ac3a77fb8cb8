"""Open311 GeoReport v2 as another city's app sees it, in JSON and XML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.apikeys import issue_key, revoke_key
from hotline.core.app import create_app
from hotline.core.intake import receive
from hotline.core.models import Case
from tests.conftest import sqlite_app_settings
from tests.factories import submission
from tests.portal.conftest import seed_services


@pytest.fixture
def api(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[TestClient[Any], str]]:
    with TestClient(create_app(sqlite_app_settings(tmp_path, sqlite_template))) as client:
        ctx = client.app.state.ctx

        async def setup() -> str:
            await seed_services(ctx)
            return await issue_key(ctx, "Another city's app")

        key = client.blocking_portal.call(setup)
        yield client, key


def xml(response: Any) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml")
    return ET.fromstring(response.content)


def post(client: TestClient[Any], fmt: str = "json", **fields: str) -> Any:
    return client.post(f"/open311/v2/requests.{fmt}", data=fields)


def test_discovery(api: tuple[TestClient[Any], str]) -> None:
    client, _ = api
    doc = client.get("/open311/discovery.json").json()
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and "application/json" in endpoint["formats"]
    root = xml(client.get("/open311/discovery.xml"))
    assert root.tag == "discovery" and root.find("endpoints/endpoint/specification").text.endswith(
        "GeoReport_v2"
    )


def test_service_list_in_both_formats_and_languages(api: tuple[TestClient[Any], str]) -> None:
    client, _ = api
    services = {
        s["service_code"]: s for s in client.get("/open311/v2/services.json?lang=zh_CN").json()
    }
    assert services["pothole"]["service_name"] == "道路破损"
    assert services["noise"]["metadata"] is True and services["pothole"]["metadata"] is False
    assert services["noise"]["type"] == "realtime"
    root = xml(client.get("/open311/v2/services.xml", headers={"Accept-Language": "en"}))
    names = {
        s.findtext("service_code"): s.findtext("service_name") for s in root.findall("service")
    }
    assert names["pothole"] == "Road damage"
    assert root.find("service/metadata").text in ("true", "false")


def test_service_definition(api: tuple[TestClient[Any], str]) -> None:
    client, _ = api
    definition = client.get("/open311/v2/services/noise.json?lang=en").json()
    when = definition["attributes"][0]
    assert definition["service_code"] == "noise"
    assert (when["code"], when["datatype"], when["required"], when["variable"], when["order"]) == (
        "when",
        "singlevaluelist",
        True,
        True,
        1,
    )
    assert when["values"] == [
        {"key": "night", "name": "At night"},
        {"key": "day", "name": "In the day"},
    ]
    root = xml(client.get("/open311/v2/services/noise.xml?lang=zh_CN"))
    assert root.tag == "service_definition"
    assert [v.findtext("name") for v in root.findall("attributes/attribute/values/value")] == [
        "夜间",
        "白天",
    ]
    missing = client.get("/open311/v2/services/nope.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    missing_xml = xml(client.get("/open311/v2/services/nope.xml"))
    assert missing_xml.tag == "errors" and missing_xml.findtext("error/code") == "404"


def test_posting_a_request(api: tuple[TestClient[Any], str]) -> None:
    client, key = api
    fields = {
        "api_key": key,
        "service_code": "noise",
        "lat": "39.9",
        "long": "116.4",
        "attribute[when]": "night",
        "description": "工地夜间施工",
        "email": "li@example.cn",
        "first_name": "雷",
        "last_name": "李",
        "device_id": "phone-7",
    }
    first = post(client, **fields)
    assert first.status_code == 201
    number = first.json()[0]["service_request_id"]
    again = post(client, **fields)  # a client retrying the identical request
    assert again.status_code == 200 and again.json()[0]["service_request_id"] == number

    async def stored() -> Case | None:
        async with client.app.state.ctx.db.session() as s:
            return await s.scalar(select(Case).where(Case.tracking_number == number))

    case = client.blocking_portal.call(stored)
    assert case is not None and case.first_channel == "open311" and case.latitude == 39.9
    root = xml(post(client, "xml", **{**fields, "device_id": "phone-8"}))
    assert root.tag == "service_requests" and len(root.findtext("request/service_request_id")) == 13


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"api_key": "nope"}, 403, "api_key"),
        ({"api_key": ""}, 403, "api_key"),
        ({"service_code": "nope"}, 404, "service_code"),
        ({"service_code": ""}, 400, "service_code"),
        ({"attribute[when]": ""}, 400, "attribute when is required"),
        ({"attribute[when]": "noon"}, 400, "attribute when must be one of"),
        ({"lat": "", "long": ""}, 400, "location"),
        ({"email": "not-an-address"}, 400, "contacts"),
    ],
)
def test_bad_requests_are_answered_as_the_spec_says(
    api: tuple[TestClient[Any], str], change: dict[str, str], status: int, says: str
) -> None:
    client, key = api
    fields = {
        "api_key": key,
        "service_code": "noise",
        "lat": "39.9",
        "long": "116.4",
        "attribute[when]": "day",
        "description": "噪音",
    }
    fields.update(change)
    response = post(client, **fields)
    assert response.status_code == status
    body = response.json()
    assert body[0]["code"] == status and says in body[0]["description"]
    as_xml = xml(post(client, "xml", **fields))
    assert as_xml.findtext("error/code") == str(status)


def test_a_revoked_key_is_refused(api: tuple[TestClient[Any], str]) -> None:
    client, key = api
    client.blocking_portal.call(revoke_key, client.app.state.ctx, key.split(".")[0])
    response = post(client, api_key=key, service_code="pothole", address_string="人民路")
    assert response.status_code == 403


def test_reading_requests_shows_public_fields_only(api: tuple[TestClient[Any], str]) -> None:
    client, _ = api
    ctx = client.app.state.ctx

    async def cases() -> tuple[str, str]:
        open_case = await receive(
            ctx,
            submission(
                citizen_name="王小明",
                text="我家门口13912345678的井盖丢了",
                location={"text": "人民路1号", "latitude": 39.91, "longitude": 116.39},
            ),
        )
        sealed = await receive(
            ctx, submission(kind="director_mailbox", category=None, text="举报信")
        )
        closed = await receive(ctx, submission(category="noise", text="已解决"))
        async with ctx.db.transaction() as s:
            case = await s.get(Case, closed.case_id)
            assert case is not None
            case.status = "closed"
        return open_case.tracking_number, sealed.tracking_number

    open_number, sealed_number = client.blocking_portal.call(cases)
    everything = client.get("/open311/v2/requests.json")
    listed = {r["service_request_id"]: r for r in everything.json()}
    assert open_number in listed and sealed_number not in listed and len(listed) == 2
    item = listed[open_number]
    assert (item["status"], item["service_code"], item["agency_responsible"], item["address"]) == (
        "open",
        "pothole",
        "交通运输局",
        "人民路1号",
    )
    text = (
        json.dumps(everything.json(), ensure_ascii=False)
        + client.get("/open311/v2/requests.xml").text
    )
    for private in ("王小明", "13912345678", "井盖", "举报信", "13800138000"):
        assert private not in text
    assert [r["status"] for r in client.get("/open311/v2/requests.json?status=closed").json()] == [
        "closed"
    ]
    assert len(client.get("/open311/v2/requests.json?service_code=noise").json()) == 1
    assert (
        client.get(
            "/open311/v2/requests.json?start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z"
        ).json()
        == []
    )
    one = client.get(f"/open311/v2/requests/{open_number}.xml")
    assert xml(one).findtext("request/service_request_id") == open_number
    assert client.get(f"/open311/v2/requests/{sealed_number}.json").status_code == 404
    token = client.get(f"/open311/v2/tokens/{open_number}.json").json()
    assert token == [{"service_request_id": open_number, "token": open_number}]
    bad_date = client.get("/open311/v2/requests.json?start_date=yesterday")
    assert bad_date.status_code == 400


def test_a_plain_http_client_works_end_to_end(api: tuple[TestClient[Any], str]) -> None:
    """What a client written from the specification alone does: discover, list, post, read."""
    client, key = api
    base = client.get("/open311/discovery.json").json()["endpoints"][0]["url"]
    path = base.split("://", 1)[1].split("/", 1)[1]
    services = client.get(f"/{path}/services.json").json()
    code = next(s["service_code"] for s in services if not s["metadata"])  # no extra questions
    created = client.post(
        f"/{path}/requests.json",
        data={
            "api_key": key,
            "service_code": code,
            "address_string": "1 Main St",
            "description": "Broken",
        },
    )
    number = created.json()[0]["service_request_id"]
    read = client.get(f"/{path}/requests/{number}.json").json()
    assert read[0]["service_request_id"] == number and read[0]["status"] == "open"
