"""What strangers can type or send to every public form and API: each class of bad text gets a
clear 400 (the form kept on the portal), on SQLite and PostgreSQL alike, and nothing is stored.
Full-width digits and letters are read as what they look like. Then a hypothesis fuzz over
every public form and API: no 5xx, and nothing half-stored."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.storage.models.cases import Case, ContactPoint
from tests.channels.web.conftest import csrf, multipart, stored

# One example of each class, as it reaches a field.
CLASSES: dict[str, bytes] = {
    "nul": "坑\x00".encode(),
    "c0": b"bell\x07 and escape \x1b[31m",
    "c1": "next line\x85 and \x9b".encode(),
    "lone_surrogate": "half \ud800 a pair".encode("utf-8", "surrogatepass"),
    "invalid_utf8": b"caf\xe9 \xff\xfe",
    "over_long": b"x" * 20_001,
}
FORMS: dict[str, tuple[str, str, dict[str, bytes]]] = {
    # name: (page with the form, where it posts, the other fields it needs)
    "service": (
        "/services/pothole",
        "/services/pothole",
        {"consent": b"yes", "phone": b"13800138000", "name": "李雷".encode()},
    ),
    "director": ("/director", "/director", {"consent": b"yes", "email": b"a@example.cn"}),
    "track": ("/track", "/track", {"number": b"2612020000000"}),
    "info": ("/track/case", "/track/case/info", {}),
    "rate": ("/track/case", "/track/case/rate", {"satisfaction": b"satisfied"}),
    "chat_start": ("/chat/", "/chat/start", {"name": "李雷".encode()}),
    "chat_say": ("/chat/", "/chat/say", {}),
}
TEXT_FIELD = {
    "service": "description",
    "director": "description",
    "track": "factor",
    "info": "text",
    "rate": "text",
    "chat_start": "text",
    "chat_say": "text",
}


def ready(client: TestClient[Any], form: str) -> None:
    """A verified case for the follow-up forms; a chat for the chat line."""
    if form in ("info", "rate"):
        client.post(
            "/services/pothole",
            data={
                "_csrf_token": csrf(client, "/services/pothole"),
                "description": "人民路有个大坑",
                "phone": "13800138000",
                "consent": "yes",
            },
            follow_redirects=False,
        )
        receipt = BeautifulSoup(client.get("/receipt").text, "html.parser")
        number = receipt.find(id="tracking-number").get_text().replace(" ", "")
        code = receipt.find(id="lookup-code").get_text().strip()

        async def answered() -> None:
            async with client.app.state.ctx.db.transaction() as s:
                case = await s.scalar(select(Case).where(Case.tracking_number == number))
                case.status, case.info_requested = "answered", True

        client.blocking_portal.call(answered)
        token = csrf(client, "/track")
        client.post("/track", data={"_csrf_token": token, "number": number, "factor": code})
    if form == "chat_say":
        client.post("/chat/start", data={"_csrf_token": csrf(client, "/chat/"), "text": "你好"})


def send(
    client: TestClient[Any], path: str, fields: dict[str, bytes], encoding: str, token: str
) -> Any:
    pairs = [(b"_csrf_token", token.encode()), *((k.encode(), v) for k, v in fields.items())]
    if encoding == "multipart":
        body, kind = multipart(pairs)
    else:
        body = b"&".join(
            quote_from_bytes(k).encode() + b"=" + quote_from_bytes(v).encode() for k, v in pairs
        )
        kind = "application/x-www-form-urlencoded"
    return client.post(path, content=body, headers={"Content-Type": kind}, follow_redirects=False)


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
@pytest.mark.parametrize("klass", list(CLASSES))
@pytest.mark.parametrize("form", list(FORMS))
def test_each_class_of_bad_text_is_a_clear_400_and_stores_nothing(
    client: TestClient[Any], form: str, klass: str, encoding: str
) -> None:
    ready(client, form)
    page, path, others = FORMS[form]
    token = csrf(client, page)
    before = stored(client)
    answer = send(client, path, {**others, TEXT_FIELD[form]: CLASSES[klass]}, encoding, token)
    assert answer.status_code == 400, answer.text[:300]
    assert stored(client) == before
    if form in ("service", "director", "chat_start"):
        soup = BeautifulSoup(answer.text, "html.parser")
        kept = soup.find("form", attrs={"action": path})
        # what cannot be decoded (a lone surrogate is not UTF-8 either) cannot be shown back
        if klass not in ("invalid_utf8", "lone_surrogate"):
            assert kept is not None, "the form is kept"
            if "name" in others:
                assert kept.find("input", attrs={"name": "name"})["value"] == "李雷"


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_bad_field_name_or_file_name_is_refused_too(
    client: TestClient[Any], encoding: str
) -> None:
    token = csrf(client, "/services/pothole")
    before = stored(client)
    fields = {"description": "人民路有个大坑".encode(), "consent": b"yes", "na\x00me": b"x"}
    assert send(client, "/services/pothole", fields, encoding, token).status_code == 400
    body, kind = multipart(
        [(b"_csrf_token", token.encode()), (b"description", b"pothole"), (b"consent", b"yes")],
        [(b"files", b"street\x00.png", b"\x89PNG\r\n\x1a\n")],
    )
    refused = client.post("/services/pothole", content=body, headers={"Content-Type": kind})
    assert refused.status_code == 400 and stored(client) == before


def test_a_multipart_field_in_an_unknown_charset_is_a_400(client: TestClient[Any]) -> None:
    token = csrf(client, "/services/pothole")
    boundary = "b0und"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n'
        "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nhello\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    answer = client.post(
        "/services/pothole",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/services/{x}",
        "/info/{x}",
        "/api/v1/cases/{x}/status",
        "/?lang={x}",
        "/track?number={x}",
        "/chat/?x={x}",
        "/open311/v2/requests/{x}.json",
    ],
)
@pytest.mark.parametrize("klass", ["nul", "c0", "c1", "lone_surrogate", "invalid_utf8"])
def test_addresses_and_query_strings_with_bad_text_are_never_a_5xx(
    client: TestClient[Any], path: str, klass: str
) -> None:
    before = stored(client)
    answer = client.get(path.format(x=quote_from_bytes(CLASSES[klass])))
    assert answer.status_code < 500 and answer.status_code in (200, 400, 404)
    assert stored(client) == before


FULL = str.maketrans(
    "0123456789abcdefghijklmnopqrstuvwxyz",
    "０１２３４５６７８９ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
)


def test_full_width_codes_and_numbers_mean_what_they_look_like(client: TestClient[Any]) -> None:
    # a full-width service code, phone number; then the tracking number and code at /track
    path = "/services/" + "pothole".translate(FULL)
    assert client.get(path).status_code == 200
    made = client.post(
        "/services/pothole",
        data={
            "_csrf_token": csrf(client, "/services/pothole"),
            "description": "人民路有个大坑",
            "phone": "１３８ ００１３ ８０００",
            "consent": "yes",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303

    async def phones() -> list[str]:
        async with client.app.state.ctx.db.session() as s:
            return list(await s.scalars(select(ContactPoint.value)))

    assert client.blocking_portal.call(phones) == ["+8613800138000"]
    receipt = BeautifulSoup(client.get("/receipt").text, "html.parser")
    number = receipt.find(id="tracking-number").get_text().replace(" ", "")
    code = receipt.find(id="lookup-code").get_text().strip()
    found = client.post(
        "/track",
        data={
            "_csrf_token": csrf(client, "/track"),
            "number": number.translate(FULL),
            "factor": code.translate(FULL),
        },
        follow_redirects=False,
    )
    assert found.status_code == 303
    status = client.get(f"/api/v1/cases/{number.translate(FULL)}/status")
    assert status.status_code == 200 and status.json()["tracking_number"] == number


# --- the fuzz ---------------------------------------------------------------------------------

BAD = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\udfff", "\ufffe"]
WIDE = str.maketrans("0123456789ABCabc-", "０１２３４５６７８９ＡＢＣａｂｃ－")


def _with_bad(base: str, bad: str, at: int) -> str:
    at %= len(base) + 1
    return base[:at] + bad + base[at:]


texts = st.one_of(
    st.text(max_size=30),
    st.builds(_with_bad, st.text(max_size=20), st.sampled_from(BAD), st.integers(0, 20)),
    st.text(alphabet="0123456789ABCabc- ", max_size=16).map(lambda s: s.translate(WIDE)),
    st.integers(300, 25_000).map(lambda n: "长" * n),
)
values = st.one_of(
    texts.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=24),
)
FIELDS = [
    "description", "name", "phone", "email", "subject", "location", "latitude", "longitude",
    "kind", "consent", "number", "factor", "text", "satisfaction", "contact", "attr_when",
    "attr_floor", "anonymous",
]  # fmt: skip
POSTS = [
    ("/services/noise", "/services/noise"),
    ("/services/pothole", "/services/pothole"),
    ("/director", "/director"),
    ("/track", "/track"),
    ("/track/case", "/track/case/info"),
    ("/track/case", "/track/case/rate"),
    ("/chat/", "/chat/start"),
    ("/chat/", "/chat/say"),
]
GETS = ["/services/{x}", "/info/{x}", "/api/v1/cases/{x}/status", "/?lang={x}", "/track?{x}"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(POSTS),
    fields=st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
    encoding=st.sampled_from(["urlencoded", "multipart"]),
    consent=st.booleans(),
    path_value=values,
)
def test_fuzz_every_public_form_and_api(
    client: TestClient[Any],
    target: tuple[str, str],
    fields: dict[str, bytes],
    encoding: str,
    consent: bool,
    path_value: bytes,
) -> None:
    if not client.cookies.get("hotline_chat"):
        ready(client, "info")
        ready(client, "chat_say")
    page, path = target
    token = csrf(client, page)
    if consent:
        fields = {"consent": b"yes", **fields}
    before = stored(client)
    answer = send(client, path, fields, encoding, token)
    assert answer.status_code < 500, answer.text[:300]
    if answer.status_code >= 400:
        assert stored(client) == before  # refused: nothing half-stored
    short = path_value[:500]  # a client refuses longer addresses itself
    get = client.get(GETS[len(short) % len(GETS)].format(x=quote_from_bytes(short)))
    assert get.status_code < 500
