"""A third-party Open311 client from PyPI, ``georeport`` (Apache-2.0; it reads: services,
definitions, requests; it cannot post), drives the hotline served by uvicorn over real HTTP
in both formats. Requests are posted with plain HTTP as the specification describes, since no
maintained Python client that posts installs on Python 3 (``open311`` and ``three`` are
Python 2 only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from georeport import GeoReport

from hotline.core.people.apikeys import issue_key
from tests.channels.open311.conftest import open311_settings
from tests.liveapp import LiveApp, serve
from tests.portal.conftest import seed_services


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[LiveApp, str]]:
    import shutil

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sqlite_template, data / "hotline.db")
    app = serve(open311_settings(tmp_path, f"sqlite+aiosqlite:///{data / 'hotline.db'}"))
    try:

        async def setup(ctx):  # type: ignore[no-untyped-def]
            await seed_services(ctx)
            return await issue_key(ctx, "georeport")

        yield app, app.call(setup)
    finally:
        app.stop()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_what_an_app_posted(live: tuple[LiveApp, str], fmt: str) -> None:
    app, key = live
    root = f"{app.url}/open311/v2"
    posted = httpx.post(
        f"{root}/requests.{fmt}",
        data={
            "api_key": key,
            "service_code": "noise",
            "lat": "39.91234",
            "long": "116.39876",
            "attribute[when]": "night",
            "description": "工地夜间施工",
            "media_url": "https://photos.example.cn/a.jpg",
        },
    )
    assert posted.status_code == 201
    client = GeoReport(root, api_key=key, output_format=fmt)
    services = client.get_service_list()
    assert {s["service_code"] for s in services} >= {"noise", "pothole"}
    definition = client.get_service_definition("noise")
    attributes = definition["attributes"]
    first = attributes[0] if fmt == "json" else attributes["attribute"][0]
    assert first["code"] == "when"
    listed = client.get_service_requests(status="open,closed", service_code="noise,pothole")
    item = listed[0] if isinstance(listed, list) else listed  # xmltodict: one item is a dict
    number = item["service_request_id"]
    assert item["status"] == "open" and item["service_code"] == "noise"
    assert float(item["lat"]) == 39.912 and float(item["long"]) == 116.399  # rounded
    assert item["media_url"] == "https://photos.example.cn/a.jpg"
    one = client.get_service_request(number)
    assert one["service_request_id"] == number
    discovery = httpx.get(f"{app.url}/open311/discovery.{fmt}", headers={"Host": "evil.example"})
    assert discovery.status_code == 200 and "evil.example" not in discovery.text
