"""Property-based: whatever a client sends to any Open311 path, in either format, by query
string, form body or multipart body, the answer is never a 5xx, always has the exact media
type, and is a valid Open311 document (the answer's schema, or the error schema). Hypothesis
draws the requests; both databases."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_from_bytes

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.channels.open311.conftest import Api
from tests.channels.open311.spec import check

NAMES = [
    "api_key",
    "service_code",
    "service_request_id",
    "status",
    "start_date",
    "end_date",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "description",
    "media_url",
    "device_id",
    "account_id",
    "jurisdiction_id",
    "lang",
    "attribute[when]",
    "attribute[floor]",
    "attribute[when][]",
    "attribute[nope]",
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "noise",
            "pothole",
            "open,closed",
            "open",
            "night",
            "5",
            "39.9",
            "116.4",
            "-91",
            "nan",
            "1e309",
            "2026-01-01T00:00:00Z",
            "2026-01-01T08:00:00 08:00",
            "2025-01-01",
            "https://photos.example/a.jpg",
            "li@example.cn",
            "13800138000",
            "",
        ]
    ),
    st.text(max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=5),
    st.binary(max_size=12),  # often not UTF-8
)
SEGMENTS = st.one_of(st.sampled_from(["noise", "pothole", "2612069013594"]), st.text(max_size=12))
VALID = {
    "service_code": "noise",
    "lat": "39.9",
    "long": "116.4",
    "attribute[when]": "day",
    "description": "工地夜间施工",
}
PATHS = [
    ("discovery", "/open311/discovery.{fmt}"),
    ("services", "/open311/v2/services.{fmt}"),
    ("definition", "/open311/v2/services/{seg}.{fmt}"),
    ("requests", "/open311/v2/requests.{fmt}"),
    ("requests", "/open311/v2/requests/{seg}.{fmt}"),
    ("token", "/open311/v2/tokens/{seg}.{fmt}"),
]


def _encode(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe="")
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def calls(draw: Any) -> dict[str, Any]:
    kind, template = draw(st.sampled_from(PATHS))
    fmt = draw(st.sampled_from(["json", "xml"]))
    path = template.format(seg=_encode(draw(SEGMENTS)), fmt=fmt)
    posts = template.endswith("requests.{fmt}")
    method = draw(
        st.sampled_from(["POST", "POST", "POST", "GET"] if posts else ["GET", "GET"])
        | st.sampled_from(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
    )
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=8), VALUES), max_size=6)
    )
    if method == "POST" and draw(st.booleans()):
        # a valid request, some of it dropped or changed: to reach past the first check
        base = [(k, v) for k, v in VALID.items() if draw(st.integers(0, 9)) > 0]
        pairs = base + pairs[: draw(st.integers(0, 2))]
    elif method == "GET" and draw(st.booleans()):
        pairs = pairs[:1]
    where = draw(st.sampled_from(["query", "form", "multipart"]))
    with_key = draw(st.integers(0, 4)) > 0
    return {
        "kind": "posted" if method == "POST" else kind,
        "fmt": fmt,
        "path": path,
        "method": method,
        "pairs": pairs,
        "where": where if method == "POST" else "query",
        "with_key": with_key,
    }


def _send(api: Api, call: dict[str, Any]) -> Any:
    pairs = list(call["pairs"])
    if call["with_key"]:
        pairs.insert(0, ("api_key", api.key))
    encoded = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    path, headers, content = call["path"], {}, b""
    if call["where"] == "query":
        path = f"{path}?{encoded}" if encoded else path
    elif call["where"] == "form":
        content = encoded.encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    else:
        boundary = "fuzz-boundary-7"
        for name, value in pairs:
            raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
            disposition = f'form-data; name="{name}"'.encode("utf-8", "surrogatepass")
            content += f"--{boundary}\r\nContent-Disposition: ".encode() + disposition + b"\r\n\r\n"
            content += raw + b"\r\n"
        content += f"--{boundary}--\r\n".encode()
        headers["content-type"] = f"multipart/form-data; boundary={boundary}"
    return api.client.request(call["method"], path, content=content or None, headers=headers)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=calls())
def test_any_request_gets_a_valid_open311_answer_and_never_a_5xx(
    api: Api, call: dict[str, Any]
) -> None:
    response = _send(api, call)
    assert response.status_code < 500, (call, response.text)
    if call["method"] in ("OPTIONS", "HEAD"):
        assert response.status_code in (200, 204, 400, 404, 405), response.status_code
        return
    kind = call["kind"] if response.status_code < 400 else "errors"
    check(kind, response, call["fmt"])
