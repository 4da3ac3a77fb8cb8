"""What held at the public edge, and must keep holding: huge bodies 413, broken multipart 400,
coordinates out of range 400, ten thousand fields and deeply nested JSON answered (no 5xx);
and the kernel's own check: every channel's text with what is not text is refused by intake,
nothing stored, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused, parse_submission
from hotline.core.shell.context import AppContext
from tests.channels.web.conftest import csrf, stored
from tests.conftest import count_rows, seed_city
from tests.factories import submission


def test_a_100_mb_body_gets_413(client: TestClient[Any]) -> None:
    token = csrf(client, "/services/pothole")
    huge = b"description=" + b"x" * (100 * 1024 * 1024) + b"&_csrf_token=" + token.encode()
    answer = client.post(
        "/services/pothole",
        content=huge,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413


def test_broken_multipart_gets_400(client: TestClient[Any]) -> None:
    csrf(client, "/services/pothole")
    before = stored(client)
    for body in (b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nunfinished', b"junk"):
        answer = client.post(
            "/services/pothole",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert answer.status_code == 400
    assert stored(client) == before


@pytest.mark.parametrize("lat, lon", [("91", "116.4"), ("39.9", "-181"), ("-1e9", "0")])
def test_coordinates_out_of_range_get_400(client: TestClient[Any], lat: str, lon: str) -> None:
    before = stored(client)
    answer = client.post(
        "/services/pothole",
        data={
            "_csrf_token": csrf(client, "/services/pothole"),
            "description": "人民路有个大坑",
            "phone": "13800138000",
            "consent": "yes",
            "latitude": lat,
            "longitude": lon,
        },
    )
    assert answer.status_code == 400 and stored(client) == before


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_ten_thousand_fields_are_answered(client: TestClient[Any], encoding: str) -> None:
    token = csrf(client, "/services/pothole")
    fields = {f"f{n}": "v" for n in range(10_000)} | {"_csrf_token": token}
    if encoding == "urlencoded":
        answer = client.post("/services/pothole", data=fields)
    else:
        answer = client.post("/services/pothole", data=fields, files={"files": ("a.txt", b"a")})
    assert answer.status_code in (400, 422)


@pytest.mark.parametrize("path", ["/chat/say", "/services/pothole", "/open311/v2/requests.json"])
def test_deeply_nested_json_is_answered(client: TestClient[Any], path: str) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    answer = client.post(path, content=deep, headers={"Content-Type": "application/json"})
    assert answer.status_code < 500


BAD_TEXT = ["\x00", "\x1b", "\x85", "\ud800", "\ufffe"]


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize(
    "where",
    ["text", "subject", "citizen_name", "contact", "tracking_number", "meta", "filename", "rating"],
)
async def test_intake_refuses_what_is_not_text_from_any_channel(
    ctx: AppContext, bad: str, where: str
) -> None:
    await seed_city(ctx)
    before = await count_rows(ctx)
    values: dict[str, Any] = {
        "text": {"text": f"短信内容{bad}"},
        "subject": {"subject": f"subject{bad}"},
        "citizen_name": {"citizen_name": f"张{bad}三"},
        "contact": {"contacts": [{"kind": "email", "value": f"a{bad}@example.cn"}]},
        "tracking_number": {"tracking_number": f"2612020000000{bad}"},
        "meta": {"meta": {"telegram": {"caption": f"x{bad}"}}},
        "filename": {"attachments": [{"filename": f"a{bad}.pdf", "data": b"%PDF-1.4\n%%EOF"}]},
        "rating": {
            "tracking_number": "2612020000000",
            "rating": {"satisfaction": "satisfied", "comment": f"好{bad}"},
        },
    }[where]
    for channel in ("sms", "telegram", "email", "web", "open311"):
        with pytest.raises(IntakeRefused) as refused:
            # pydantic itself refuses a lone surrogate in some fields (string_unicode)
            await receive(ctx, parse_submission(submission(channel=channel).model_dump() | values))
        codes = {p.code for p in refused.value.problems}
        assert codes <= {"control_character", "not_unicode", "string_unicode"}
    assert await count_rows(ctx) == before
