"""The outermost layer of every HTTP request, around Litestar's own exception handling.

It gives each request an id (kept from ``X-Request-ID`` when sane), adds the security headers
and ``Cache-Control: no-store`` on pages with personal data, and writes one access-log line
with the status the client really received: also for answers made by exception handlers and
middleware (403 CSRF, 429 rate limit, 413 too large), which Litestar sends outside any
middleware of ours. Never the query string, never the client's address.

What escapes Litestar (an event stream that failed after it began) is logged here once, with
the request id as its reference, and never reaches the server's own error log (which would
print the exception's message).
"""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from hotline.core.foundation.logging import request_id
from hotline.core.shell.errors import log_unhandled
from hotline.core.shell.faults import RETRY_AFTER, FaultLog, classify

log = logging.getLogger("hotline.http")

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}

# Paths whose answers may hold a citizen's case or a staff screen: never kept by a browser's
# or a proxy's cache. The console, the citizen's case and receipt, the citizen's chat, and
# the case-status APIs.
PRIVATE_PREFIXES = (
    "/console",
    "/track",
    "/receipt",
    "/chat",
    "/api/v1/cases/",
    "/open311/v2/requests",
    "/open311/v2/tokens",
)


def is_private(path: str) -> bool:
    return path.startswith(PRIVATE_PREFIXES)


def softphone_origin(url: str, listen: str) -> str:
    """The origin the agents' softphones open their WebSocket to, if the site runs them."""
    if not listen:
        return ""
    parts = urlsplit(url or f"ws://{listen}")
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(connect_src: str = "") -> dict[str, str]:
    """The headers every answer carries; ``connect_src``: one more origin the pages may open
    connections to (the agents' softphone registrar, a WebSocket on its own port)."""
    if not connect_src:
        return SECURITY_HEADERS
    csp = SECURITY_HEADERS["content-security-policy"].replace(
        "default-src 'self';", f"default-src 'self'; connect-src 'self' {connect_src};", 1
    )
    return {**SECURITY_HEADERS, "content-security-policy": csp}


def with_request_context(app: ASGIApp, faults: FaultLog, connect_src: str = "") -> ASGIApp:
    security = security_headers(connect_src)

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if given.isalnum() and len(given) <= 64 else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        path = scope.get("path", "")
        private = is_private(path)
        sent: dict[str, int] = {}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers["x-request-id"] = rid
                for key, value in security.items():
                    if key not in headers:
                        headers[key] = value
                if private:
                    headers["cache-control"] = "no-store"
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        except Exception as exc:
            fault = classify(exc)
            if fault is not None:
                faults.report(fault, path.split("/")[1] if "/" in path else "-", exc)
            else:
                log_unhandled(exc, "stream", rid)
            if "status" not in sent:
                status = 503 if fault else 500
                extra = [(b"retry-after", str(RETRY_AFTER[fault]).encode())] if fault else []
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), *extra],
                }
                await send_wrapper(start)
                body: HTTPResponseBodyEvent = {
                    "type": "http.response.body",
                    "body": f"{status} {rid}\n".encode(),
                    "more_body": False,
                }
                await send(body)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": path,
                    "status": sent.get("status", 0),  # 0: the client left before any answer
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id.reset(token)

    return handler
