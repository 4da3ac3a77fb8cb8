"""Open311 GeoReport v2 under ``/open311/``: one mounted ASGI app that owns every path below
it, so every answer, errors included (404, 405, 413, 429, 500, 503), is an Open311 document
in the format the path asks for (``.xml`` -> XML, else JSON).

Read endpoints allow any origin (CORS: public data, no credentials); posting does not (its key
must not live in a web page). ``OPTIONS`` lists each path's methods; ``HEAD`` works wherever
``GET`` does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
from litestar import Request, Response, Router, asgi
from litestar.exceptions import HTTPException
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hotline.core.shell.context import AppContext
from hotline.core.shell.i18n import choose_language

from . import discovery, reading
from .formats import MEDIA_TYPES, Open311Error, answer, error, error_document, guess_format
from .params import Params, check_text, read_params
from .posting import post_request

log = logging.getLogger("hotline.open311")

Req = Request[Any, Any, Any]
Handler = Callable[[Req, AppContext, Params, tuple[str, ...]], Awaitable[ASGIResponse]]
ATTRIBUTE_TAGS = {"attributes": "attribute", "values": "value"}
READ_CORS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "retry-after",
}
PREFLIGHT = {
    **READ_CORS,
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-allow-headers": "accept, accept-language",
    "access-control-max-age": "86400",
}
HTTP_TEXT = {
    404: "not found",
    405: "method not allowed",
    413: "the request is too large",
    429: "too many requests: wait and try again",
}


def _ctx(request: Req) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _zh(request: Req, params: Params) -> bool:
    ctx = _ctx(request)
    language = choose_language(
        params.one("lang") or None,
        request.headers.get("accept-language"),
        ctx.settings.default_language,
    )
    return language.startswith("zh")


async def _discovery(request: Req, ctx: AppContext, _p: Params, g: tuple[str, ...]) -> ASGIResponse:
    document = await anyio.to_thread.run_sync(discovery.document, ctx)
    return answer(g[-1], document, "discovery", None, item_tags=discovery.ITEM_TAGS)


async def _services(request: Req, ctx: AppContext, p: Params, g: tuple[str, ...]) -> ASGIResponse:
    return answer(g[-1], await reading.services(ctx, _zh(request, p)), "services", "service")


async def _definition(request: Req, ctx: AppContext, p: Params, g: tuple[str, ...]) -> ASGIResponse:
    found = await reading.service_definition(ctx, g[0], _zh(request, p))
    return answer(g[-1], found, "service_definition", None, item_tags=ATTRIBUTE_TAGS)


async def _requests(request: Req, ctx: AppContext, p: Params, g: tuple[str, ...]) -> ASGIResponse:
    found = await reading.find_requests(ctx, p, _zh(request, p))
    return answer(g[-1], found, "service_requests", "request")


async def _one_request(
    request: Req, ctx: AppContext, p: Params, g: tuple[str, ...]
) -> ASGIResponse:
    found = await reading.find_requests(ctx, p, _zh(request, p), ids=[g[0]])
    if not found:
        raise Open311Error(404, "service_request_id not found")
    return answer(g[-1], found, "service_requests", "request")


async def _token(request: Req, ctx: AppContext, p: Params, g: tuple[str, ...]) -> ASGIResponse:
    """Requests get their id at once, so a token is the request id itself."""
    found = await reading.find_requests(ctx, p, _zh(request, p), ids=[g[0]])
    if not found:
        raise Open311Error(404, "token not found")
    body = [{"service_request_id": g[0], "token": g[0]}]
    return answer(g[-1], body, "service_requests", "request")


async def _post(request: Req, ctx: AppContext, p: Params, g: tuple[str, ...]) -> ASGIResponse:
    posted = await post_request(
        ctx,
        p,
        language="zh_CN" if _zh(request, p) else "en",
        address=request.client.host if request.client else None,
    )
    body = [
        {
            "service_request_id": posted.tracking_number,
            "service_notice": "",
            "account_id": posted.account_id or None,
        }
    ]
    status = 201 if posted.created else 200
    return answer(g[-1], body, "service_requests", "request", status=status)


FMT = r"\.(json|xml)"
ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (re.compile(rf"/discovery{FMT}"), {"GET": _discovery}),
    (re.compile(rf"/v2/services{FMT}"), {"GET": _services}),
    (re.compile(rf"/v2/services/([^/]+){FMT}"), {"GET": _definition}),
    (re.compile(rf"/v2/requests{FMT}"), {"GET": _requests, "POST": _post}),
    (re.compile(rf"/v2/requests/([^/]+){FMT}"), {"GET": _one_request}),
    (re.compile(rf"/v2/tokens/([^/]+){FMT}"), {"GET": _token}),
]


def _method(scope: Scope) -> str:
    return str(scope.get("method", "GET"))


def _path(scope: Scope) -> str:
    """The path below /open311, from the raw bytes: strictly UTF-8, XML-safe."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    raw = raw.partition(b"?")[0]  # some servers leave the query string on raw_path
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise Open311Error(400, "the path is not valid UTF-8") from None
    check_text("the path", path)
    _, found, rest = path.partition("/open311")
    return rest if found else path


async def _body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes before more is read."""
    if _method(scope) != "POST":
        return b""
    declared = dict(scope["headers"]).get(b"content-length", b"0")
    if declared.isdigit() and int(declared) > limit:
        raise Open311Error(413, HTTP_TEXT[413])
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise Open311Error(400, "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Open311Error(413, HTTP_TEXT[413])
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _allow(methods: dict[str, Handler]) -> str:
    return ", ".join(sorted({*methods, "HEAD", "OPTIONS"}))


async def _dispatch(request: Req, scope: Scope) -> ASGIResponse:
    path = _path(scope)
    method = _method(scope)
    for pattern, methods in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if method == "OPTIONS":
            return ASGIResponse(status_code=204, headers={"allow": _allow(methods), **PREFLIGHT})
        handler = methods.get("GET" if method == "HEAD" else method)
        if handler is None:
            raise Open311Error(405, HTTP_TEXT[405], headers={"allow": _allow(methods)})
        ctx = _ctx(request)
        body = await _body(scope, request.receive, ctx.settings.max_request_bytes)
        params = await read_params(
            scope.get("query_string", b""),
            body,
            request.headers.get("content-type", ""),
            ctx.settings.max_attachment_bytes,
        )
        return await handler(request, ctx, params, match.groups())
    raise Open311Error(404, HTTP_TEXT[404])


def _as_head(response: ASGIResponse) -> ASGIResponse:
    """The GET answer's status and headers (its length included), without its body."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.headers]
    return ASGIResponse(status_code=response.status_code, headers=headers, is_head_response=True)


@asgi("/open311", is_mount=True, copy_scope=True)
async def open311_app(scope: Scope, receive: Receive, send: Send) -> None:
    request: Req = Request(scope, receive)
    fmt = guess_format(scope["path"])
    try:
        response = await _dispatch(request, scope)
    except Open311Error as exc:
        response = error(fmt, exc.status, exc.description, exc.headers)
    except HTTPException as exc:  # raised by the framework: the body too large...
        text = HTTP_TEXT.get(exc.status_code, "the request was refused")
        response = error(fmt, exc.status_code, text, dict(exc.headers or {}))
    except (OperationalError, InterfaceError, PoolTimeout, OSError) as exc:
        log.error("open311: the database is unavailable", extra={"error": type(exc).__name__})
        response = error(
            fmt, 503, "the service is unavailable: try again later", {"retry-after": "30"}
        )
    except Exception:
        log.exception("open311: unexpected error")
        response = error(fmt, 500, "an unexpected error: the hotline's staff have been told")
    if _method(scope) in ("GET", "HEAD"):
        for key, value in READ_CORS.items():
            response.headers[key] = value
    if _method(scope) == "HEAD":
        response = _as_head(response)
    await response(scope, receive, send)


def _framework_error(request: Req, exc: HTTPException) -> Response[bytes]:
    """What the app's middleware raises before the mount runs (the rate limit's 429)."""
    text = HTTP_TEXT.get(exc.status_code, "the request was refused")
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower().startswith("ratelimit")}
    reset = {k.lower(): v for k, v in headers.items()}.get("ratelimit-reset")
    if exc.status_code == 429:
        headers["retry-after"] = str(max(1, int(reset))) if reset and reset.isdigit() else "60"
    if request.method in ("GET", "HEAD"):
        headers.update(READ_CORS)
    fmt = guess_format(request.url.path)
    document = error_document(fmt, exc.status_code, text)
    return Response(
        document,
        status_code=exc.status_code,
        media_type=MEDIA_TYPES[fmt].partition(";")[0],  # litestar adds the charset
        headers=headers,
    )


def open311_router() -> Router:
    return Router(
        path="/",
        route_handlers=[open311_app],
        exception_handlers={HTTPException: _framework_error},
        include_in_schema=False,
    )
