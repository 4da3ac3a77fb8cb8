"""Forms strangers post, read strictly at the edge: one middleware and one reader for every
public page (the portal, web chat, and plugins that add citizen pages under the portal's
middleware).

Litestar reads a url-encoded body as Latin-1 and replaces bytes that are not UTF-8 with
U+FFFD, and a multipart field that is not UTF-8 (or names an unknown charset) raises deep in
the parser: a garbled case, or a 500. Here the body is decoded as UTF-8 or refused with a 400
before the CSRF check or a handler sees it, and every field name and value is checked for what
is not text (``core.foundation.text``): the handler gets the problem and answers 400 with its form kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from hotline.core.foundation import text
from hotline.core.intake.submission import Problem

BAD_FORM = "hotline_bad_form"
# What a refused field says: the text classes (400), not a question of content (422).
EDGE_CODES = frozenset(
    {
        "control_character",
        "not_unicode",
        "string_unicode",
        "not_utf8",
        "too_long",
        "string_too_long",
        "greater_than_equal",  # a coordinate out of range
        "less_than_equal",
    }
)
MAX_FIELDS = 10_000


def strict_urlencoded(body: bytes) -> dict[str, str | list[str]]:
    """``a=1&b=%E4%B8%AD`` as UTF-8, or UnicodeDecodeError (raw or percent-encoded bytes that
    are not UTF-8). Raw UTF-8 (some clients do not percent-encode) is read as UTF-8 too."""
    pairs = parse_qsl(
        body.decode("utf-8"),
        keep_blank_values=True,
        encoding="utf-8",
        errors="strict",
        max_num_fields=MAX_FIELDS,
    )
    fields: dict[str, list[str]] = {}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return {k: v if len(v) > 1 else v[0] for k, v in fields.items()}


async def _refuse(scope: Scope, send: Send, why: str) -> None:
    """A 400 before any handler: JSON for the API and for clients asking JSON, else a page."""
    path = str(scope.get("path", ""))
    accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
    if path.startswith("/api") or "application/json" in accept:
        body = json.dumps({"error": "bad request", "problem": why}).encode()
        kind = b"application/json"
    else:
        body = (
            "<!doctype html><html lang=zh-CN><meta charset=utf-8><title>400</title>"
            "<h1>400</h1><p>提交的内容不是有效的 UTF-8 文本，请返回重试。</p>"
            "<p>What was sent is not valid UTF-8 text. Please go back and try again.</p></html>"
        ).encode()
        kind = b"text/html; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    start: Any = {"type": "http.response.start", "status": 400, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def edge_form_middleware(app: ASGIApp) -> ASGIApp:
    """Decode a posted form strictly before anything else reads it; refuse what is not UTF-8
    (400), and leave the first field that is not text for the handler (``read_form``)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        content_type, _options = request.content_type
        state = ScopeState.from_scope(scope)
        try:
            if content_type == "application/x-www-form-urlencoded":
                state.form = strict_urlencoded(await request.body())  # type: ignore[assignment]
            elif content_type == "multipart/form-data":
                await request.form()
            else:
                await app(scope, receive, send)
                return
        except (UnicodeDecodeError, LookupError):  # not UTF-8, or an unknown charset
            await _refuse(scope, send, "not_utf8")
            return
        except ValueError as exc:  # more fields than anyone fills in
            if isinstance(exc, ClientException):
                raise
            await _refuse(scope, send, "too_many_fields")
            return
        form = await request.form()
        found = _first_bad_field(list(form.multi_items()))
        if found is not None:
            scope.setdefault("state", {})[BAD_FORM] = found
        await app(scope, receive, send)

    return middleware


def _first_bad_field(items: list[tuple[str, Any]]) -> tuple[str, str] | None:
    for key, value in items:
        values = [key, value.filename or ""] if isinstance(value, UploadFile) else [key, value]
        for one in values:
            problem = text.bad_text(str(one))
            if problem:
                return key, problem
    return None


@dataclass
class Form:
    """A posted form as the handler uses it: fields (bad characters taken out, so a page can
    show them back), files, and the first field that was not text."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    problem: Problem | None = None

    def one(self, name: str) -> str:
        return (self.fields.get(name) or [""])[0]


def _scrub(value: str) -> str:
    return "".join(ch for ch in value if text.bad_text(ch) is None)


async def read_form(request: Request[Any, Any, Any]) -> Form:
    """The posted form (already decoded strictly by ``edge_form_middleware``)."""
    form = await request.form()
    result = Form()
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            if data or value.filename:
                result.files.append((value.filename or "", data))
        else:
            result.fields.setdefault(_scrub(key), []).append(_scrub(str(value)))
    found = request.scope.get("state", {}).get(BAD_FORM)
    if found:
        name, code = found
        result.problem = Problem(field=_scrub(name), code=code, message=_scrub(name))
    return result


def refusal_status(problems: list[Problem]) -> int:
    """400 when something sent was not text or too long for its field, else 422."""
    return 400 if any(p.code in EDGE_CODES for p in problems) else 422
