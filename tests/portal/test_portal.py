"""The portal as a citizen uses it, asserted on parsed HTML and on what was stored."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import select

from hotline.core.cases.replies import OutboundMessage
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.cases import Attachment, Case, CaseEvent
from hotline.core.storage.models.people import FailedAttempt
from hotline.core.storage.models.reference import Page
from tests.conftest import count_rows, drain_jobs
from tests.factories import ELF
from tests.portal.conftest import csrf, page, text_of


def call(client: TestClient[Any], fn: Any, *args: Any) -> Any:
    return client.blocking_portal.call(fn, *args)


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def submit(
    client: TestClient[Any], path: str = "/services/pothole", files: Any = None, **fields: str
) -> Any:
    data = {
        "_csrf_token": csrf(client, path),
        "kind": "complaint",
        "description": "人民路有个大坑",
        "phone": "13800138000",
        "consent": "yes",
        **fields,
    }
    return client.post(path, data=data, files=files, follow_redirects=False)


def receipt(client: TestClient[Any]) -> tuple[str, str]:
    soup = page(client.get("/receipt"))
    number = soup.find(id="tracking-number").get_text().replace(" ", "")
    code = soup.find(id="lookup-code").get_text().strip()
    return number, code


def test_home_lists_services_and_warns_about_emergencies_first(client: TestClient[Any]) -> None:
    soup = page(client.get("/?lang=zh_CN"))
    emergency = soup.find(class_="emergency")
    assert emergency is not None and "110" in emergency.get_text()
    links = {a["href"]: a.get_text(strip=True) for a in soup.select(".services a")}
    assert links["/services/pothole"] == "道路破损"
    english = page(client.get("/?lang=en"))
    assert {a.get_text(strip=True) for a in english.select(".services a")} >= {
        "Road damage",
        "Noise",
    }


def test_the_form_is_built_from_the_service_definition(client: TestClient[Any]) -> None:
    soup = page(client.get("/services/noise?lang=en"))
    legends = [legend.get_text(strip=True) for legend in soup.find_all("legend")]
    assert "When is the noise? *" in legends
    assert {i["value"] for i in soup.find_all("input", attrs={"name": "attr_when"})} == {
        "night",
        "day",
    }
    assert soup.find("input", attrs={"name": "attr_floor", "type": "number"}) is not None
    # every visible field has a label a screen reader can read
    for field in soup.select("form input:not([type=hidden]), form textarea"):
        if field.find_parent(class_="hp"):
            continue
        labelled = field.find_parent("label") or (
            field.get("id") and soup.find("label", attrs={"for": field["id"]})
        )
        assert labelled, field
    # the kinds a citizen may choose
    assert {i["value"] for i in soup.find_all("input", attrs={"name": "kind"})} == {
        "complaint",
        "report",
        "request",
        "consultation",
        "suggestion",
        "praise",
    }


def test_a_citizen_submits_with_a_photo_and_gets_a_receipt(client: TestClient[Any]) -> None:
    response = submit(client, files={"files": ("IMG_0001.JPG", photo_with_gps(), "image/jpeg")})
    assert response.status_code == 303 and response.headers["location"].startswith("/receipt/")
    number, code = receipt(client)
    assert len(number) == 13 and len(code) == 6
    assert response.headers["location"] == f"/receipt/{number}"  # the receipt's own address
    again = client.get(f"/receipt/{number}")  # a reload shows it again, never cached
    assert again.status_code == 200 and code in again.text
    assert again.headers["cache-control"] == "no-store"
    # no SMS gateway is set up: the receipt does not claim a copy was sent
    said = text_of(page(again))
    assert "We sent a copy" not in said and "on its way" not in said
    assert "We cannot send you a copy at the moment" in said

    async def stored() -> tuple[Case | None, Attachment | None, bytes]:
        ctx = client.app.state.ctx
        async with ctx.db.session() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == number))
            att = await s.scalar(select(Attachment))
        return case, att, ctx.files.get(att.sha256) if att else b""

    case, att, data = call(client, stored)
    assert case is not None and case.first_channel == "web" and case.kind == "complaint"
    assert att is not None and att.content_type == "image/jpeg" and att.filename == "IMG_0001.JPG"
    reencoded = Image.open(io.BytesIO(data))
    assert reencoded.size == (64, 48)
    assert dict(reencoded.getexif()) == {}  # no GPS, no camera, nothing
    assert b"PhoneMaker" not in data


def test_a_disguised_program_is_refused_and_nothing_is_stored(client: TestClient[Any]) -> None:
    before = call(client, count_rows, client.app.state.ctx)
    response = submit(client, files={"files": ("holiday.jpg", ELF, "image/jpeg")})
    assert response.status_code == 422
    errors = page(response).find(id="problems")
    assert errors is not None and "holiday.jpg" in errors.get_text()
    assert call(client, count_rows, client.app.state.ctx) == before
    files_dir = client.app.state.ctx.files.root
    assert not files_dir.exists() or not any(p.is_file() for p in files_dir.rglob("*"))


def test_every_problem_is_named_and_the_answers_are_kept(client: TestClient[Any]) -> None:
    before = call(client, count_rows, client.app.state.ctx)
    response = submit(
        client,
        path="/services/noise",
        phone="12",
        consent="",
        description="x" * 20001,
        attr_floor="high",
        name="李雷",
    )
    assert response.status_code == 400  # an over-long field is a bad request (422 without it)
    soup = page(response)
    listed = text_of(soup.find(id="problems"))
    for expected in (
        "Please answer this question.",
        "Please enter a number.",
        "privacy notice",
        "not a phone number",
        "too long",
    ):
        assert expected in listed
    assert soup.find("input", attrs={"name": "name"})["value"] == "李雷"  # nothing to retype
    assert call(client, count_rows, client.app.state.ctx) == before


def test_a_forged_csrf_token_is_refused(client: TestClient[Any]) -> None:
    before = call(client, count_rows, client.app.state.ctx)
    client.get("/services/pothole")
    response = client.post(
        "/services/pothole", data={"_csrf_token": "forged", "description": "x", "consent": "yes"}
    )
    assert response.status_code == 403
    assert call(client, count_rows, client.app.state.ctx) == before


def test_robots_filling_the_honeypot_store_nothing(client: TestClient[Any]) -> None:
    before = call(client, count_rows, client.app.state.ctx)
    response = submit(client, website="http://spam.example")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert call(client, count_rows, client.app.state.ctx) == before


def test_a_double_submission_makes_one_case(client: TestClient[Any]) -> None:
    submit(client)
    first, _ = receipt(client)
    submit(client)
    second, _ = receipt(client)
    assert first == second


def test_lookup_shows_the_public_timeline_only(client: TestClient[Any]) -> None:
    submit(client, name="韩梅梅", email="meimei@example.cn", description="我家门口的下水道堵了")
    number, code = receipt(client)
    wrong = client.post(
        "/track", data={"_csrf_token": csrf(client), "number": number, "factor": "000000"}
    )
    assert wrong.status_code == 404 and "could not find" in wrong.text
    right = client.post(
        "/track",
        data={"_csrf_token": csrf(client), "number": number, "factor": code},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert right.headers["location"] == f"/cases/{number}"  # the case's own address
    shown = text_of(page(client.get(f"/cases/{number}?lang=en")))
    assert "Received" in shown and "Road damage" in shown
    # the case page repeats what they wrote (they proved it is theirs), never their name,
    # contacts or internal codes
    assert "What you wrote" in shown and "我家门口的下水道堵了" in shown
    for private in ("韩梅梅", "meimei", "13800138000", "roads"):
        assert private not in shown
    # another browser at the same address is asked for the lookup code
    stranger = TestClient(client.app)
    asked = text_of(page(stranger.get(f"/cases/{number}?lang=en")))
    assert "give its lookup code" in asked and "下水道" not in asked
    # the last four digits of the phone work too, with the name as given
    client.cookies.clear()
    alone = client.post(
        "/track", data={"_csrf_token": csrf(client), "number": number, "factor": "8000"}
    )
    assert alone.status_code == 400 and "your name as you gave it" in alone.text
    by_phone = client.post(
        "/track",
        data={"_csrf_token": csrf(client), "number": number, "factor": "8000", "name": "韩梅梅"},
        follow_redirects=False,
    )
    assert by_phone.status_code == 303


def test_guessing_lookup_codes_slows_down_but_does_not_lock_the_citizen_out(
    client: TestClient[Any],
) -> None:
    submit(client)
    number, code = receipt(client)
    statuses = [
        client.post(
            "/track", data={"_csrf_token": csrf(client), "number": number, "factor": f"{n:06d}"}
        ).status_code
        for n in range(6)
    ]
    assert statuses[:5] == [404] * 5 and statuses[5] == 429
    waiting = client.post(
        "/track", data={"_csrf_token": csrf(client), "number": number, "factor": code}
    )
    assert waiting.status_code == 429 and "Please wait 2 seconds" in waiting.text

    async def two_seconds_later() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            for row in await s.scalars(select(FailedAttempt)):
                row.at = row.at - timedelta(seconds=2)

    call(client, two_seconds_later)
    right = client.post(
        "/track",
        data={"_csrf_token": csrf(client), "number": number, "factor": code},
        follow_redirects=False,
    )
    assert right.status_code == 303


def verify(client: TestClient[Any]) -> str:
    submit(client)
    number, code = receipt(client)
    client.post("/track", data={"_csrf_token": csrf(client), "number": number, "factor": code})
    return number


def set_case(client: TestClient[Any], number: str, **values: Any) -> None:
    async def run() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == number))
            for key, value in values.items():
                setattr(case, key, value)

    call(client, run)


def events_of(client: TestClient[Any], number: str) -> list[str]:
    async def run() -> list[str]:
        async with client.app.state.ctx.db.session() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == number))
            return list(
                await s.scalars(
                    select(CaseEvent.action)
                    .where(CaseEvent.case_id == case.id)
                    .order_by(CaseEvent.id)
                )
            )

    return call(client, run)


def test_adding_information_when_the_hotline_asks(client: TestClient[Any]) -> None:
    number = verify(client)
    assert (
        page(client.get("/track/case")).find("form", attrs={"action": "/track/case/info"}) is None
    )
    set_case(client, number, info_requested=True)
    action = f"/cases/{number}/info"
    assert page(client.get("/track/case")).find("form", attrs={"action": action}) is not None
    done = client.post(
        action, data={"_csrf_token": csrf(client, "/track/case"), "text": "坑大约一米宽"}
    )
    assert done.status_code == 200 and "information was added" in done.text
    assert str(done.url).endswith(f"/cases/{number}?notice=added")  # a reload sends nothing
    assert events_of(client, number)[-1] == "information_added"
    assert (
        page(client.get("/track/case")).find("form", attrs={"action": "/track/case/info"}) is None
    )


def test_a_lapsed_session_keeps_the_information_being_typed(client: TestClient[Any]) -> None:
    """The session ends while the citizen types more information: they are asked for the
    lookup code again, and what they typed comes back in the box, not lost."""
    submit(client)
    number, code = receipt(client)
    set_case(client, number, info_requested=True)
    token = csrf(client, f"/cases/{number}")
    client.cookies.delete("hotline_portal")  # the session lapsed (an hour, a closed browser)
    asked = client.post(f"/cases/{number}/info", data={"_csrf_token": token, "text": "坑有一米宽"})
    assert asked.status_code == 401
    shown = page(asked)
    assert "give the lookup code again" in text_of(shown) and "坑有一米宽" in text_of(shown)
    assert events_of(client, number)[-1] != "information_added"
    back = client.post(
        f"/cases/{number}",
        data={
            "_csrf_token": token,
            "factor": code,
            "pending_text": shown.find("input", attrs={"name": "pending_text"})["value"],
        },
    )
    assert str(back.url).endswith(f"/cases/{number}")
    assert page(back).find("textarea", attrs={"name": "text"}).get_text() == "坑有一米宽"


def test_rating_once_answered_and_asking_for_a_reopen(client: TestClient[Any]) -> None:
    number = verify(client)
    assert (
        page(client.get("/track/case")).find("form", attrs={"action": "/track/case/rate"}) is None
    )
    set_case(client, number, status=CaseStatus.ANSWERED)
    action = f"/cases/{number}/rate"
    form = page(client.get("/track/case")).find("form", attrs={"action": action})
    assert form is not None
    done = client.post(
        action,
        data={
            "_csrf_token": csrf(client, "/track/case"),
            "satisfaction": "not_satisfied",
            "text": "还是没修",
        },
    )
    assert done.status_code == 200 and "Thank you for your evaluation" in done.text
    assert events_of(client, number)[-2:] == ["rated", "reopen_requested"]
    assert page(done).find("form", attrs={"action": action}) is None  # rated once


def test_the_directors_mailbox(client: TestClient[Any]) -> None:
    form = text_of(page(client.get("/director?lang=en")))
    assert "read only by the director's office" in form
    response = submit(client, path="/director", description="举报某单位领导收受贿赂")
    assert response.status_code == 303
    number, _ = receipt(client)

    async def stored() -> Case | None:
        async with client.app.state.ctx.db.session() as s:
            return await s.scalar(select(Case).where(Case.tracking_number == number))

    case = call(client, stored)
    assert case is not None and case.kind == "director_mailbox" and case.sealed
    status = client.get(f"/api/v1/cases/{number}/status").text
    home = client.get("/").text
    assert "贿赂" not in status and "贿赂" not in home


def test_information_pages(client: TestClient[Any]) -> None:
    async def seed() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            s.add(
                Page(
                    slug="heating-2026",
                    kind="announcement",
                    title_zh="2026年供暖通知",
                    title_en="Heating 2026",
                    body_zh="供暖将于11月15日开始。\n\n如有问题请拨打热线。",
                    body_en="Heating starts on 15 November.",
                )
            )
            s.add(
                Page(slug="draft", kind="guide", title_zh="草稿", title_en="Draft", published=False)
            )

    call(client, seed)
    index = page(client.get("/info?lang=zh_CN"))
    assert [a.get_text() for a in index.select("main a")] == ["2026年供暖通知"]
    article = page(client.get("/info/heating-2026?lang=zh_CN"))
    assert [p.get_text() for p in article.select("article p")] == [
        "供暖将于11月15日开始。",
        "如有问题请拨打热线。",
    ]
    assert client.get("/info/draft").status_code == 404


def test_the_receipt_is_also_sent_by_the_citizens_channel(
    client: TestClient[Any], kernel: Any
) -> None:
    sent: list[OutboundMessage] = []

    class Mail:
        @hookimpl
        def send_reply(self, message: OutboundMessage) -> str | None:
            if message.contact_kind != "email":
                return None
            sent.append(message)
            return "250 ok"

    kernel.pm.register(Mail())
    submit(client, phone="", email="citizen@example.cn")
    number, code = receipt(client)
    ctx = client.app.state.ctx

    async def run_jobs() -> None:
        while await asyncio.to_thread(drain_jobs, ctx.jobs):
            pass

    call(client, run_jobs)
    assert len(sent) == 1 and sent[0].tracking_number == number
    assert code in sent[0].text and sent[0].language == "en"


def test_form_posts_are_rate_limited(client: TestClient[Any]) -> None:
    codes = [submit(client, description=f"第{n}个问题").status_code for n in range(12)]
    assert codes[:10] == [303] * 10 and codes[-1] == 429


def test_errors_speak_the_citizens_language(client: TestClient[Any]) -> None:
    zh = submit(client, path="/services/pothole?lang=zh_CN", consent="")
    assert "请同意隐私说明" in page(zh).find(id="problems").get_text()
    assert page(zh).find("html")["lang"] == "zh-CN"


def test_an_oversized_photo_is_refused_by_name(client: TestClient[Any]) -> None:
    client.app.state.ctx.settings.max_attachment_bytes = 2048
    big = io.BytesIO()
    Image.effect_noise((256, 256), 80).convert("RGB").save(big, format="PNG")
    before = call(client, count_rows, client.app.state.ctx)
    response = submit(client, files={"files": ("street.png", big.getvalue(), "image/png")})
    assert response.status_code == 422
    assert "street.png is too large." in page(response).find(id="problems").get_text()
    assert call(client, count_rows, client.app.state.ctx) == before


def test_the_map_is_the_citys_setting(client: TestClient[Any], portal_settings: Any) -> None:
    """No tile server set: no map on the form, nothing but our own images allowed. With one
    set: the map is on the form and its tiles' origin (any subdomain) is allowed."""
    plain = client.get("/services/pothole")
    assert page(plain).find(id="map") is None and "leaflet" not in plain.text
    assert "img-src 'self' data:;" in plain.headers["content-security-policy"]
    # nobody types coordinates: they are hidden fields
    for name in ("latitude", "longitude"):
        assert page(plain).find("input", attrs={"name": name})["type"] == "hidden"

    from hotline.core.shell.app import create_app
    from hotline.core.shell.context import Kernel

    tiles = "https://{s}.tiles.example.gov/{z}/{x}/{y}.png"
    settings = portal_settings.model_copy(update={"map_tile_url": tiles, "map_zoom": 16})
    with TestClient(create_app(settings, Kernel(settings))) as mapped:
        shown = mapped.get("/services/pothole")
        box = page(shown).find(class_="portal-map")
        assert box is not None and box["data-tiles"] == tiles and box["data-zoom"] == "16"
        assert "/static/portal/leaflet/leaflet-1.9.4.js" in shown.text
        policy = shown.headers["content-security-policy"]
        assert "img-src 'self' data: https://*.tiles.example.gov;" in policy
        assert "script-src" not in policy and "default-src 'self'" in policy
