"""The portal asks before a case's place is published, and Open311 publishes only that: a
rounded place, never the typed address, the name or the words."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.channels.open311.spec import check
from tests.portal.conftest import page
from tests.portal.test_portal import receipt, submit


def _listed(client: TestClient[Any]) -> dict[str, dict[str, Any]]:
    for fmt in ("json", "xml"):
        found = check("requests", client.get(f"/open311/v2/requests.{fmt}"), fmt)
    return {r["service_request_id"]: r for r in found}


def test_the_place_is_published_only_as_the_citizen_agreed(
    portal_client: TestClient[Any],
) -> None:
    client = portal_client
    form = page(client.get("/services/pothole"))
    box = form.find("input", attrs={"name": "publish_location"})
    assert box is not None and not box.has_attr("checked")  # not agreed unless chosen
    assert "100 m" in box.parent.get_text()
    director = page(client.get("/director"))
    assert director.find("input", attrs={"name": "publish_location"}) is None
    place = {"location": "人民路8号3单元", "latitude": "39.9123456", "longitude": "116.3987654"}

    assert (
        submit(client, description="人民路的坑", publish_location="yes", **place).status_code == 303
    )
    agreed, _ = receipt(client)
    anonymous = submit(
        client,
        description="解放路的坑",
        phone="",
        name="",
        anonymous="yes",
        publish_location="yes",
        **place,
    )
    assert anonymous.status_code == 303
    anonymous_number, _ = receipt(client)
    assert submit(client, description="胜利路的坑", **place).status_code == 303
    not_agreed, _ = receipt(client)

    listed = _listed(client)
    assert (listed[agreed]["lat"], listed[agreed]["long"]) == (39.912, 116.399)
    # anonymous: still never more precise than the rounded place
    assert (listed[anonymous_number]["lat"], listed[anonymous_number]["long"]) == (39.912, 116.399)
    assert (listed[not_agreed]["lat"], listed[not_agreed]["long"]) == (None, None)
    everything = (
        client.get("/open311/v2/requests.json").text + client.get("/open311/v2/requests.xml").text
    )
    for private in ("人民路8号", "39.9123456", "116.3987654", "13800138000", "的坑"):
        assert private not in everything
