"""Open311 GeoReport v2 as another city's app sees it, in JSON and XML, on both databases.
Every answer is checked against the specification's schemas (``spec.py``)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.core.intake.receive import receive
from hotline.core.people.apikeys import revoke_key
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, Interaction
from hotline.core.storage.models.reference import RoutingRule, ServiceCategory
from tests.channels.open311.conftest import Api
from tests.channels.open311.spec import check
from tests.factories import submission

FORMATS = ["json", "xml"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(api: Api, fmt: str) -> None:
    doc = check("discovery", api.client.get(f"/open311/discovery.{fmt}"), fmt)
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["formats"] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_list_in_both_languages_with_groups_and_keywords(api: Api, fmt: str) -> None:
    async def keywords() -> None:
        async with api.ctx.db.transaction() as s:
            pothole = await s.scalar(
                select(ServiceCategory).where(ServiceCategory.code == "pothole")
            )
            assert pothole is not None and pothole.default_department_id is not None
            for word in ("坑洼", "井盖"):
                s.add(
                    RoutingRule(
                        kind="keyword",
                        pattern=word,
                        department_id=pothole.default_department_id,
                        category_id=pothole.id,
                    )
                )

    api.client.blocking_portal.call(keywords)
    zh = check("services", api.client.get(f"/open311/v2/services.{fmt}?lang=zh_CN"), fmt)
    services = {s["service_code"]: s for s in zh}
    assert services["pothole"]["service_name"] == "道路破损"
    assert services["pothole"]["keywords"] == "坑洼,井盖"
    assert services["pothole"]["group"] == "交通运输局"  # its department: no parent service
    assert services["noise"]["metadata"] is True and services["pothole"]["metadata"] is False
    en = api.client.get(f"/open311/v2/services.{fmt}", headers={"Accept-Language": "en"})
    names = {s["service_code"]: s["service_name"] for s in check("services", en, fmt)}
    assert names["pothole"] == "Road damage"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition(api: Api, fmt: str) -> None:
    definition = check(
        "definition", api.client.get(f"/open311/v2/services/noise.{fmt}?lang=en"), fmt
    )
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
    missing = api.client.get(f"/open311/v2/services/nope.{fmt}")
    assert missing.status_code == 404
    assert check("errors", missing, fmt)[0]["code"] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_posting_a_request_keeps_everything_sent(api: Api, fmt: str) -> None:
    fields = api.fields(
        **{
            "attribute[when]": "night",
            "attribute[floor]": "5",
            "description": "工地夜间施工",
            "email": "li@example.cn",
            "first_name": "雷",
            "last_name": "李",
            "device_id": "phone-7",
            "media_url": "https://photos.example.cn/site.jpg",
            "x_app_version": "2.1",
        }
    )
    first = api.post(fmt, **fields)
    assert first.status_code == 201
    number = check("posted", first, fmt)[0]["service_request_id"]

    async def stored() -> tuple[Case | None, Interaction | None]:
        async with api.ctx.db.session() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == number))
            message = await s.scalar(select(Interaction).where(Interaction.case_id == case.id))
            return case, message

    case, message = api.client.blocking_portal.call(stored)
    assert case is not None and case.first_channel == "open311" and case.latitude == 39.9
    assert message is not None and message.text == "工地夜间施工"
    kept = message.meta["open311"]
    assert kept["attributes"] == {"when": "night", "floor": "5"}
    assert kept["media_url"] == "https://photos.example.cn/site.jpg"
    assert kept["other"] == {"x_app_version": "2.1"}  # outside the specification, still kept
    shown = check("requests", api.client.get(f"/open311/v2/requests/{number}.{fmt}"), fmt)[0]
    assert shown["media_url"] == "https://photos.example.cn/site.jpg"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_retry_within_the_window_is_the_same_request_and_later_a_new_one(
    api: Api, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What held and must keep holding: Open311 retries are idempotent; but only for a while."""
    fields = api.fields()
    first = check("posted", api.post(fmt, **fields), fmt)[0]["service_request_id"]
    again = api.post(fmt, **fields)
    assert again.status_code == 200
    assert check("posted", again, fmt)[0]["service_request_id"] == first
    assert api.stored() == (1, 1)
    import hotline.channels.open311.posting as posting

    later = utcnow() + timedelta(minutes=2 * api.ctx.settings.open311_retry_minutes + 1)
    monkeypatch.setattr(posting, "utcnow", lambda: later)
    much_later = api.post(fmt, **fields)
    assert much_later.status_code == 201
    assert check("posted", much_later, fmt)[0]["service_request_id"] != first
    assert api.stored() == (2, 2)


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"api_key": "nope"}, 403, "api_key"),
        ({"api_key": ""}, 403, "api_key"),
        ({"service_code": "nope"}, 404, "service_code"),
        ({"service_code": ""}, 400, "service_code"),
        ({"attribute[when]": ""}, 400, "attribute[when] is required"),
        ({"attribute[when]": "noon"}, 400, "attribute[when] must be one of"),
        ({"attribute[floor]": "high"}, 400, "attribute[floor] must be a number"),
        ({"attribute[colour]": "red"}, 400, "attribute[colour] is not a question"),
        ({"attribute": "red"}, 400, "attribute is not an attribute"),
        ({"lat": "", "long": ""}, 400, "location"),
        ({"long": ""}, 400, "lat and long go together"),
        ({"lat": ""}, 400, "lat and long go together"),
        ({"lat": "91"}, 400, "lat must be between"),
        ({"long": "nan"}, 400, "long must be between"),
        ({"lat": "north"}, 400, "lat and long must be numbers"),
        ({"email": "not-an-address"}, 400, "email is not a valid e-mail address"),
        ({"phone": "12"}, 400, "phone is not a phone number"),
        ({"description": "很" * 4001}, 400, "description may hold at most 4000"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url must be"),
        ({"media_url": ""}, 201, ""),
    ],
)
def test_bad_requests_are_answered_as_the_spec_says(
    api: Api, change: dict[str, str], status: int, says: str
) -> None:
    fields = api.fields(**change)
    for fmt in FORMATS:
        response = api.post(fmt, **fields)
        assert response.status_code in ((200, 201) if status == 201 else (status,))
        if status >= 400:
            error = check("errors", response, fmt)[0]
            assert error["code"] == status and says in error["description"]
            # Open311's own names, never the kernel's fields
            for internal in ("contacts", "location.", "citizen_name", "text:", "submission"):
                assert internal not in error["description"]
    assert api.stored() == ((1, 1) if status == 201 else (0, 0))


def test_parameters_in_the_query_string_as_the_swagger_declares_them(api: Api) -> None:
    response = api.client.post(
        "/open311/v2/requests.json?service_code=pothole&lat=39.9&long=116.4&description=%E5%9D%91",
        data={"api_key": api.key},
    )
    assert response.status_code == 201
    # the same parameter in both places must agree
    clash = api.client.post(
        "/open311/v2/requests.json?service_code=pothole", data=api.fields(service_code="noise")
    )
    assert clash.status_code == 400 and "service_code" in clash.json()[0]["description"]


def test_a_revoked_key_is_refused(api: Api) -> None:
    api.client.blocking_portal.call(revoke_key, api.ctx, api.key.split(".")[0])
    response = api.post(**api.fields(service_code="pothole"))
    assert response.status_code == 403
    assert api.stored() == (0, 0)


def _cases(api: Api) -> dict[str, str]:
    ctx = api.ctx

    async def make() -> dict[str, str]:
        agreed = await receive(
            ctx,
            submission(
                citizen_name="王小明",
                text="我家门口13912345678的井盖丢了",
                location={"text": "人民路1号3单元", "latitude": 39.912345, "longitude": 116.398765},
                meta={"public_location": "coarse"},
            ),
        )
        not_agreed = await receive(
            ctx,
            submission(
                text="路灯坏了",
                location={"text": "人民路2号", "latitude": 39.9, "longitude": 116.3},
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
        return {
            "agreed": agreed.tracking_number,
            "not_agreed": not_agreed.tracking_number,
            "sealed": sealed.tracking_number,
            "closed": closed.tracking_number,
        }

    return api.client.blocking_portal.call(make)


@pytest.mark.parametrize("fmt", FORMATS)
def test_reading_requests_shows_public_fields_and_only_an_agreed_coarse_place(
    api: Api, fmt: str
) -> None:
    numbers = _cases(api)
    everything = api.client.get(f"/open311/v2/requests.{fmt}")
    listed = {r["service_request_id"]: r for r in check("requests", everything, fmt)}
    assert set(listed) == {numbers["agreed"], numbers["not_agreed"], numbers["closed"]}
    agreed = listed[numbers["agreed"]]
    assert (agreed["status"], agreed["service_code"], agreed["agency_responsible"]) == (
        "open",
        "pothole",
        "交通运输局",
    )
    assert (agreed["lat"], agreed["long"]) == (39.912, 116.399)  # about 100 m, as agreed
    assert agreed["address"] is None  # free text: never published
    refused = listed[numbers["not_agreed"]]
    assert (refused["lat"], refused["long"], refused["address"]) == (None, None, None)
    assert all(r["media_url"] is None for r in listed.values())  # never ""
    text = json.dumps(check("requests", everything, fmt), ensure_ascii=False)
    for private in ("王小明", "13912345678", "井盖", "举报信", "人民路", "39.912345"):
        assert private not in text and private not in everything.text
    one = api.client.get(f"/open311/v2/requests/{numbers['agreed']}.{fmt}")
    assert check("requests", one, fmt)[0]["service_request_id"] == numbers["agreed"]
    sealed = api.client.get(f"/open311/v2/requests/{numbers['sealed']}.{fmt}")
    assert sealed.status_code == 404
    token = api.client.get(f"/open311/v2/tokens/{numbers['agreed']}.{fmt}")
    assert check("token", token, fmt) == [
        {"service_request_id": numbers["agreed"], "token": numbers["agreed"]}
    ]


def test_a_plain_http_client_works_end_to_end(api: Api) -> None:
    """What a client written from the specification alone does: discover, list, post, read."""
    base = api.client.get("/open311/discovery.json").json()["endpoints"][0]["url"]
    path = base.split("://", 1)[1].split("/", 1)[1]
    services = api.client.get(f"/{path}/services.json").json()
    code = next(s["service_code"] for s in services if not s["metadata"])  # no extra questions
    created = api.client.post(
        f"/{path}/requests.json",
        data={"api_key": api.key, "service_code": code, "address_string": "1 Main St"},
    )
    number = created.json()[0]["service_request_id"]
    read = api.client.get(f"/{path}/requests/{number}.json").json()
    assert read[0]["service_request_id"] == number and read[0]["status"] == "open"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_media_file_becomes_the_cases_attachment(api: Api, fmt: str) -> None:
    from hotline.core.storage.models.cases import Attachment

    posted = api.client.post(
        f"/open311/v2/requests.{fmt}", data=api.fields(), files={"media": ("a.png", _png())}
    )
    assert posted.status_code == 201
    number = check("posted", posted, fmt)[0]["service_request_id"]

    async def files() -> list[str]:
        async with api.ctx.db.session() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == number))
            assert case is not None
            rows = await s.scalars(
                select(Attachment.content_type)
                .join(Interaction, Interaction.id == Attachment.interaction_id)
                .where(Interaction.case_id == case.id)
            )
            return list(rows)

    assert api.client.blocking_portal.call(files) == ["image/png"]
    refused = api.client.post(
        f"/open311/v2/requests.{fmt}",
        data=api.fields(description="another"),
        files={"media": ("a.exe", b"MZ\x90\x00not a photo")},
    )
    assert refused.status_code == 400
    assert "media is not a photo or a PDF file" in check("errors", refused, fmt)[0]["description"]
    other_file = api.client.post(
        f"/open311/v2/requests.{fmt}", data=api.fields(), files={"photo": ("a.png", _png())}
    )
    assert other_file.status_code == 400
    assert api.stored() == (1, 1)
