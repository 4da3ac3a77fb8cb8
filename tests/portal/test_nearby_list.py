"""The list of reports near a place shows the most recent and says how many there are in all,
never stopping silently."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from hotline.core.intake.receive import receive
from hotline.portal.nearby import LIMIT
from tests.factories import submission
from tests.portal.conftest import page


def test_the_nearby_list_says_how_many_there_are(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx

    async def make() -> None:
        for i in range(LIMIT + 5):
            await receive(
                ctx,
                submission(
                    text=f"井盖丢了 {i}",
                    location={"text": "人民路", "latitude": 39.9123, "longitude": 116.3987},
                    meta={"public_location": "coarse"},
                ),
            )

    client.blocking_portal.call(make)
    soup = page(client.get("/nearby?lat=39.9120&lon=116.3990&lang=en"))
    assert len(soup.select(".portal-nearby-table tbody tr")) == LIMIT
    shown = soup.find(id="nearby-shown")
    assert shown is not None
    assert (
        shown.get_text(strip=True) == f"The {LIMIT} most recent of {LIMIT + 5} reports are shown."
    )
    few = page(client.get("/nearby?lat=10&lon=10&lang=en"))
    assert few.find(id="nearby-shown") is None
