"""A citizen who left something out gets the form back with its problems and a token that
still holds: correcting it and sending again makes the case, without the "form open too long"
page in between."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.portal.conftest import csrf, page


def test_a_corrected_form_is_accepted_at_the_second_try(client: TestClient[Any]) -> None:
    path = "/services/pothole"
    first = client.post(
        path,
        data={"_csrf_token": csrf(client, path), "kind": "complaint", "description": ""},
        follow_redirects=False,
    )
    assert first.status_code in (400, 422)
    token = page(first).find("input", attrs={"name": "_csrf_token"})
    assert token is not None and token["value"]
    second = client.post(
        path,
        data={
            "_csrf_token": str(token["value"]),
            "kind": "complaint",
            "description": "人民路有个大坑",
            "phone": "13800138000",
            "consent": "yes",
        },
        follow_redirects=False,
    )
    assert second.status_code == 303 and "/receipt/" in second.headers["location"]
