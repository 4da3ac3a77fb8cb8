"""Each class of defect Open311 clients found, tested as a class: every parameter, every path,
both formats, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from litestar.testing import TestClient
from lxml import etree
from sqlalchemy import select

from hotline.core.intake.receive import receive
from hotline.core.shell.app import create_app
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.reference import Department, ServiceCategory
from tests.channels.open311.conftest import Api, open311_settings
from tests.channels.open311.spec import check
from tests.factories import submission

FORMATS = ["json", "xml"]
# NUL, vertical tab, DC1, and a noncharacter: none of them may reach the database or XML
BAD_TEXT = ["\x00", "\x0b", "\x11", "\ufffe"]
POST_PARAMETERS = [
    "api_key",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "phone",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "description",
    "media_url",
    "jurisdiction_id",
    "attribute[when]",
    "some_extension",
]
GET_PARAMETERS = [
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "jurisdiction_id",
    "lang",
    "some_extension",
]
READ_PATHS = [
    "/open311/v2/requests.{fmt}?{query}",
    "/open311/v2/services.{fmt}?{query}",
    "/open311/discovery.{fmt}?{query}",
]
ID_PATHS = [
    "/open311/v2/requests/{bad}.{fmt}",
    "/open311/v2/services/{bad}.{fmt}",
    "/open311/v2/tokens/{bad}.{fmt}",
]


def refused(response: Any, fmt: str, status: int = 400) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    error = check("errors", response, fmt)[0]
    assert error["code"] == status
    return str(error["description"])


def multipart(fields: dict[str, str], raw: dict[str, bytes] | None = None) -> tuple[bytes, str]:
    boundary = "open311-test-boundary"
    parts = []
    items = [(k, v.encode()) for k, v in fields.items()] + list((raw or {}).items())
    for name, value in items:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_bad_text_in_any_post_parameter_is_a_clear_400_and_nothing_is_stored(api: Api) -> None:
    """NUL and the other characters XML cannot carry, in every parameter, in the form body,
    in a multipart body and in the query string (500s on PostgreSQL before)."""
    for index, name in enumerate(POST_PARAMETERS):
        bad = BAD_TEXT[index % len(BAD_TEXT)]
        fmt = FORMATS[index % 2]
        fields = api.fields(**{name: f"ok{bad}ok"})
        said = refused(api.post(fmt, **fields), fmt)
        assert "control character" in said and (name in said or "parameter" in said), said
        body, kind = multipart(fields)
        posted = api.client.post(
            f"/open311/v2/requests.{fmt}", content=body, headers={"content-type": kind}
        )
        assert "control character" in refused(posted, fmt)
        query = f"{quote(name)}={quote('ok' + bad + 'ok')}"
        rest = {k: v for k, v in api.fields().items() if k != name}
        in_query = api.client.post(f"/open311/v2/requests.{fmt}?{query}", data=rest)
        assert "control character" in refused(in_query, fmt)
    assert api.stored() == (0, 0)


def test_invalid_utf8_in_any_post_parameter_is_a_clear_400(api: Api) -> None:
    for index, name in enumerate(POST_PARAMETERS):
        fmt = FORMATS[index % 2]
        rest = {k: v for k, v in api.fields().items() if k != name}
        encoded = "&".join(f"{quote(k)}={quote(v)}" for k, v in rest.items())
        form = api.client.post(
            f"/open311/v2/requests.{fmt}",
            content=f"{encoded}&{quote(name)}=caf%E9".encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert "UTF-8" in refused(form, fmt)
        body, kind = multipart(rest, {name: b"caf\xe9 \xff"})
        posted = api.client.post(
            f"/open311/v2/requests.{fmt}", content=body, headers={"content-type": kind}
        )
        assert "UTF-8" in refused(posted, fmt)
    assert api.stored() == (0, 0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_text_in_any_get_parameter_and_path_is_a_clear_400(api: Api, fmt: str) -> None:
    for path in READ_PATHS:
        for index, name in enumerate(GET_PARAMETERS):
            bad = BAD_TEXT[index % len(BAD_TEXT)]
            query = f"{quote(name)}={quote('a' + bad)}"
            said = refused(api.client.get(path.format(fmt=fmt, query=query)), fmt)
            assert "control character" in said
            broken = api.client.get(path.format(fmt=fmt, query=f"{quote(name)}=%FF"))
            assert "UTF-8" in refused(broken, fmt)
    for path in ID_PATHS:
        for bad in BAD_TEXT:
            response = api.client.get(path.format(bad=quote("2612" + bad), fmt=fmt))
            assert "control character" in refused(response, fmt)
        assert "UTF-8" in refused(api.client.get(path.format(bad="%FF%FE", fmt=fmt)), fmt)
    assert api.stored() == (0, 0)


def test_text_xml_cannot_carry_never_breaks_an_answer(api: Api) -> None:
    """Older data (another channel, an administrator's typo) may hold a vertical tab: the
    XML answer stays a valid document, the JSON keeps the text."""

    async def spoil() -> str:
        async with api.ctx.db.transaction() as s:
            pothole = await s.scalar(
                select(ServiceCategory).where(ServiceCategory.code == "pothole")
            )
            assert pothole is not None
            pothole.name_zh = "道路\x0b破损\x11"
            pothole.description_zh = "坑\x01洼"  # PostgreSQL cannot even hold a NUL
            department = await s.get(Department, pothole.default_department_id)
            assert department is not None
            department.name_zh = "交通\x0b运输局"
        case = await receive(api.ctx, submission(text="路面塌陷"))
        return case.tracking_number

    number = api.client.blocking_portal.call(spoil)
    for path in (
        "/open311/v2/services.xml?lang=zh_CN",
        "/open311/v2/requests.xml?lang=zh_CN",
        f"/open311/v2/requests/{number}.xml?lang=zh_CN",
    ):
        response = api.client.get(path)
        assert response.status_code == 200
        etree.fromstring(response.content)  # raises on a character XML cannot carry
    services = check("services", api.client.get("/open311/v2/services.xml?lang=zh_CN"), "xml")
    assert "道路\ufffd破损\ufffd" in [s["service_name"] for s in services]
    listed = check("requests", api.client.get("/open311/v2/requests.json?lang=zh_CN"), "json")
    assert listed[0]["agency_responsible"] == "交通\x0b运输局"


def _case_at(api: Api, when: datetime, **overrides: Any) -> str:
    async def make() -> str:
        result = await receive(api.ctx, submission(**overrides))
        async with api.ctx.db.transaction() as s:
            case = await s.get(Case, result.case_id)
            assert case is not None
            case.created_at = when
        return result.tracking_number

    return api.client.blocking_portal.call(make)


def _ids(api: Api, query: str, fmt: str = "json") -> list[str]:
    response = api.client.get(f"/open311/v2/requests.{fmt}?{query}")
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in check("requests", response, fmt)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_parameters_take_commas_and_repeats_and_single_ones_must_agree(
    api: Api, fmt: str
) -> None:
    now = datetime.now(UTC)
    pothole = _case_at(api, now - timedelta(hours=1))
    noise = _case_at(api, now - timedelta(hours=2), category="noise")

    async def close() -> None:
        async with api.ctx.db.transaction() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == noise))
            assert case is not None
            case.status = "closed"

    api.client.blocking_portal.call(close)
    both = [pothole, noise]
    for query in ("status=open,closed", "status=open&status=closed", "status=closed,open"):
        assert _ids(api, query, fmt) == both
    assert _ids(api, "status=closed", fmt) == [noise]
    assert _ids(api, "service_code=noise&service_code=pothole", fmt) == both
    assert _ids(api, "service_code=noise,pothole", fmt) == both
    assert _ids(api, f"service_request_id={pothole}&service_request_id={noise}", fmt) == both
    assert _ids(api, "status=open&status=open", fmt) == [pothole]  # the same twice: fine
    said = refused(api.client.get(f"/open311/v2/requests.{fmt}?status=pending"), fmt)
    assert "status" in said
    clash = f"/open311/v2/requests.{fmt}?start_date=2026-01-01T00:00:00Z&start_date=2026-02-01T00:00:00Z"
    assert "start_date was given more than once" in refused(api.client.get(clash), fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_id_overrides_every_other_parameter(api: Api, fmt: str) -> None:
    old = _case_at(api, datetime.now(UTC) - timedelta(days=200))
    query = f"service_request_id={old}&service_code=noise&status=closed&start_date=2026-01-01"
    assert _ids(api, query, fmt) == [old]
    one = api.client.get(f"/open311/v2/requests/{old}.{fmt}?service_code=noise&status=closed")
    assert [r["service_request_id"] for r in check("requests", one, fmt)] == [old]


def test_the_ninety_day_window_and_span(api: Api) -> None:
    now = datetime.now(UTC)
    recent = _case_at(api, now - timedelta(days=10))
    old = _case_at(api, now - timedelta(days=120))
    assert _ids(api, "") == [recent]  # the last 90 days by default
    start = (now - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(api, f"start_date={start}") == [old]  # 90 days from the start
    end = (now - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(api, f"end_date={end}") == [old]  # 90 days up to the end
    wide = f"start_date=2025-01-01T00:00:00Z&end_date={now:%Y-%m-%dT%H:%M:%SZ}"
    assert "90 days" in refused(api.client.get(f"/open311/v2/requests.json?{wide}"), "json")
    backwards = "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z"
    assert "before" in refused(api.client.get(f"/open311/v2/requests.xml?{backwards}"), "xml")
    naive = api.client.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00")
    assert "time zone" in refused(naive, "json")


def test_an_offset_sent_unencoded_is_read_as_the_offset(api: Api) -> None:
    """``+08:00`` in a query string arrives as `` 08:00``: still eight hours east of UTC."""
    at = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
    number = _case_at(api, at)
    window = "start_date=2026-03-01T09:00:00+08:00&end_date=2026-03-01T10:00:00+08:00"
    assert _ids(api, window) == [number]  # '+' unencoded: a space on arrival
    encoded = window.replace("+", "%2B")
    assert _ids(api, encoded) == [number]
    utc_window = "start_date=2026-03-01T09:00:00Z&end_date=2026-03-01T10:00:00Z"
    assert _ids(api, utc_window) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_error_path_answers_in_the_open311_format(api: Api, fmt: str) -> None:
    client = api.client
    for path in (
        f"/open311/v3/services.{fmt}",
        f"/open311/v2/requests/a/b.{fmt}",
        f"/open311/x.{fmt}",
    ):
        assert refused(client.get(path), fmt, 404) == "not found"
    for method in ("PUT", "DELETE", "PATCH"):
        response = client.request(method, f"/open311/v2/requests.{fmt}")
        refused(response, fmt, 405)
        assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    response = client.post(f"/open311/v2/services.{fmt}", data={"a": "b"})
    refused(response, fmt, 405)
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    huge = b"description=" + b"a" * (api.ctx.settings.max_request_bytes + 1)
    too_big = client.post(
        f"/open311/v2/requests.{fmt}",
        content=huge,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    refused(too_big, fmt, 413)
    as_json = client.post(f"/open311/v2/requests.{fmt}", json={"api_key": api.key})
    refused(as_json, fmt, 415)
    assert client.get("/open311/v2/services.html").json()[0]["code"] == 404


def test_too_many_requests_is_an_open311_error_in_both_formats(
    tmp_path: Path, sqlite_template: Path
) -> None:
    import shutil

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sqlite_template, data / "hotline.db")
    settings = open311_settings(
        tmp_path, f"sqlite+aiosqlite:///{data / 'hotline.db'}", rate_limit_per_minute=2
    )
    with TestClient(create_app(settings)) as client:
        for fmt in ("json", "xml", "json", "xml"):
            response = client.get(f"/open311/v2/services.{fmt}")
        assert response.status_code == 429
        assert check("errors", response, "xml")[0]["code"] == 429
        assert response.headers["retry-after"]
        as_json = client.get("/open311/v2/services.json")
        assert check("errors", as_json, "json")[0]["code"] == 429


def test_options_head_and_cors(api: Api) -> None:
    client = api.client
    options = client.options(
        "/open311/v2/requests.json",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert options.headers["access-control-allow-origin"] == "*"
    # posting needs a key: no browser page on another site may post cross-origin
    assert "POST" not in options.headers["access-control-allow-methods"]
    assert client.options("/open311/v2/services.xml").headers["allow"] == "GET, HEAD, OPTIONS"
    for path in ("/open311/v2/services.json", "/open311/discovery.xml", "/open311/v2/requests.xml"):
        read = client.get(path, headers={"Origin": "https://app.example"})
        assert read.headers["access-control-allow-origin"] == "*"
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == read.headers["content-type"]
        assert int(head.headers["content-length"]) == len(read.content)
    posted = api.post(**api.fields())
    assert "access-control-allow-origin" not in posted.headers


def test_discovery_urls_never_come_from_the_host_header(api: Api, tmp_path: Path) -> None:
    for fmt in FORMATS:
        doc = check(
            "discovery",
            api.client.get(f"/open311/discovery.{fmt}", headers={"Host": "evil.example"}),
            fmt,
        )
        assert "evil.example" not in str(doc)
        assert doc["endpoints"][0]["url"] == "http://127.0.0.1:8000/open311/v2"


def test_the_discovery_changeset_follows_its_content(api: Api, tmp_path: Path) -> None:
    first = api.client.get("/open311/discovery.json").json()
    again = api.client.get("/open311/discovery.xml")
    assert check("discovery", again, "xml")["changeset"] == first["changeset"]
    settings = api.ctx.settings.model_copy(update={"public_url": "https://12345.city.example/"})
    import time

    time.sleep(1.1)  # changesets are kept to the second
    with TestClient(create_app(settings)) as moved:
        doc = moved.get("/open311/discovery.json").json()
    assert doc["endpoints"][0]["url"] == "https://12345.city.example/open311/v2"
    assert doc["changeset"] > first["changeset"]
