"""How the web shell answers what went wrong, in the format of the path that asked.

- A machine fault (``core.shell.faults``: a locked or unreachable database, a full disk) is a 503
  with ``Retry-After``: an HTML page on the portal and the console that keeps what was typed in
  a form to send again, JSON on the API, Open311's error list on ``/open311/``; logged once per
  fault kind per minute.
- An id no row can have, or a NUL in a path or a query, is a 404/400 before any handler
  (``sane_input``); a value the database still refuses (SQLSTATE 22) is a 422 page with the
  form's text to send again, or a 400 on the API.
- Any other error is a 500 with a reference (the request id), logged once with that reference
  and the code's path, never the exception's message (it may carry what a citizen wrote).

HTTP errors (401, 403, 404, 405, 429...) are pages for people (``core.error_pages``) and keep
Litestar's JSON answers for machines; a router's own handlers (Open311's) win over these for
their paths.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any
from xml.etree import ElementTree as ET

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, HTTPException, NotFoundException
from litestar.exceptions.responses import create_exception_response
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from hotline.core.foundation.logging import request_id
from hotline.core.shell.faults import RETRY_AFTER, Fault, FaultLog, classify, exception_chain
from hotline.core.shell.web import MAX_ID, render

log = logging.getLogger("hotline.http")

Req = Request[Any, Any, Any]

# Form fields never put back into a page: the CSRF token is fresh, the honeypot stays empty.
_NOT_KEPT = {"_csrf_token", "website"}
_FLAGS = {"", "yes", "no", "on", "off", "true", "false"}
_MACHINE_PATHS = ("/api/", "/channels/", "/healthz", "/readyz")


def answer_format(request: Req) -> str:
    """``open311``, ``json`` or ``html``: what the client of this path reads."""
    path = request.url.path
    if path.startswith("/open311/"):
        return "open311"
    if path.startswith(_MACHINE_PATHS):
        return "json"
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return "json"
    return "html"


def safe_traceback(exc: BaseException) -> str:
    """Exception types and code positions, without messages or local values."""
    lines: list[str] = []
    current: BaseException | None = exc
    depth = 0
    while current is not None and depth < 4:
        lines.append(f"{type(current).__module__}.{type(current).__name__}")
        for frame in traceback.extract_tb(current.__traceback__)[-15:]:
            lines.append(f"  {frame.filename}:{frame.lineno} in {frame.name}")
        current = current.__cause__ or current.__context__
        depth += 1
    return "\n".join(lines)


def reference() -> str:
    return request_id.get() or uuid.uuid4().hex


def route_of(request: Req) -> str:
    handler = request.scope.get("route_handler")
    name = getattr(handler, "handler_name", None)
    return str(name) if name else "-"


def log_unhandled(exc: BaseException, route: str, ref: str) -> None:
    log.error(
        "unhandled error",
        extra={
            "reference": ref,
            "route": route,
            "error": f"{type(exc).__module__}.{type(exc).__name__}",
            "trace": safe_traceback(exc),
        },
    )


def _open311_body(request: Req, status: int, description: str) -> Response[Any]:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    if fmt == "xml":
        top = ET.Element("errors")
        item = ET.SubElement(top, "error")
        ET.SubElement(item, "code").text = str(status)
        ET.SubElement(item, "description").text = description
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
        return Response(body, media_type="text/xml; charset=utf-8", status_code=status)
    return Response(
        [{"code": status, "description": description}],
        media_type="application/json; charset=utf-8",
        status_code=status,
    )


def kept_fields(request: Req) -> dict[str, Any]:
    """What the request's form held (the form Litestar already read; nothing is read now):
    ``kept`` as (name, value, shown), whether files came with it (they cannot be kept), and the
    CSRF token it carried, for the page that sends it again."""
    form = value_or_default(ScopeState.from_scope(request.scope).form, {})
    kept: list[tuple[str, str, bool]] = []
    had_files = False
    token = ""
    for name, value in form.items():
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, UploadFile):
                had_files = had_files or bool(one.filename)
            elif name == "_csrf_token":
                token = str(one)
            elif name not in _NOT_KEPT and isinstance(one, str):
                kept.append((name, one, one.strip().lower() not in _FLAGS))
    return {"kept": kept, "had_files": had_files, "posted_token": token}


def _html(request: Req, status: int, template_values: dict[str, Any]) -> Response[Any]:
    from hotline.core.shell.error_pages import layout_for

    template_values.setdefault("layout", layout_for(request))
    template_values.setdefault("code", status)
    try:
        return render(request, "fault.html", status=status, **template_values)
    except Exception as exc:  # the page itself failed: say it plainly, still in a page
        log_unhandled(exc, "fault page", template_values.get("reference", "-"))
        return Response(
            f"<!doctype html><title>{status}</title><p>{status}</p>",
            media_type="text/html; charset=utf-8",
            status_code=status,
        )


def fault_response(request: Req, fault: Fault) -> Response[Any]:
    retry = RETRY_AFTER[fault]
    ref = reference()
    headers = {"Retry-After": str(retry), "Cache-Control": "no-store"}
    kind = answer_format(request)
    if kind == "open311":
        response = _open311_body(request, 503, f"service unavailable ({fault.value}); retry later")
    elif kind == "json":
        response = Response(
            {
                "status_code": 503,
                "detail": "Service Unavailable",
                "fault": fault.value,
                "retry_after": retry,
                "reference": ref,
            },
            status_code=503,
        )
    else:
        response = _html(
            request,
            503,
            {
                "fault": fault.value,
                "reference": ref,
                "retry_after": retry,
                "again": request.method == "POST",
                **kept_fields(request),
            },
        )
    response.headers.update(headers)
    return response


def server_error_response(request: Req, status: int = 500) -> Response[Any]:
    ref = reference()
    kind = answer_format(request)
    if kind == "open311":
        response = _open311_body(request, status, f"internal error (reference {ref})")
    elif kind == "json":
        response = Response(
            {"status_code": status, "detail": "Internal Server Error", "reference": ref},
            status_code=status,
        )
    else:
        response = _html(
            request, status, {"fault": None, "reference": ref, "kept": [], "again": False}
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def faults_of(request: Req) -> FaultLog:
    found: FaultLog = request.app.state.faults
    return found


def _bad_value(exc: BaseException) -> bool:
    """A value the database refused for its range or its characters (an id past 64 bits, a
    NUL in a text: SQLSTATE class 22, data exception)."""
    from sqlalchemy import exc as sa_exc

    for err in exception_chain(exc):
        if isinstance(err, OverflowError | sa_exc.DataError):
            return True
        state = getattr(err, "sqlstate", None)
        if isinstance(state, str) and state.startswith("22"):
            return True
    return False


def bad_value_response(request: Req) -> Response[Any]:
    """422 with what the form held (NULs taken out) to check and send again; 400 elsewhere."""
    if answer_format(request) == "html" and request.method == "POST":
        fields = kept_fields(request)
        fields["kept"] = [(n, v.replace("\x00", ""), shown) for n, v, shown in fields["kept"]]
        values = {"fault": None, "bad_value": True, "reference": reference(), "again": True}
        response = _html(request, 422, {**values, **fields})
        response.headers["Cache-Control"] = "no-store"
        return response
    return http_exception_handler(
        request, HTTPException(status_code=400, detail="a value cannot be stored")
    )


def unhandled_exception_handler(request: Req, exc: Exception) -> Response[Any]:
    fault = classify(exc)
    if fault is not None:
        faults_of(request).report(fault, route_of(request), exc)
        return fault_response(request, fault)
    if _bad_value(exc):
        log.info(
            "value refused by the database",
            extra={
                "route": route_of(request),
                "error": type(exc).__name__,
                "reference": reference(),
            },
        )
        return bad_value_response(request)
    log_unhandled(exc, route_of(request), reference())
    return server_error_response(request)


async def sane_input(request: Req) -> None:
    """Before any handler: a number in a path (an id) that no row can have, or a NUL character
    in a path, is a 404; a NUL in a query (no text a person types holds one, and PostgreSQL
    cannot store it) is a 400. Forms are the handlers' to check (they answer with the form);
    what gets past them is ``unhandled_exception_handler``'s bad value."""
    for name, value in request.path_params.items():
        if isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
            raise NotFoundException(f"no such {name}")
        if isinstance(value, str) and "\x00" in value:
            raise NotFoundException(f"no such {name}")
    if request.url.path.startswith("/channels/"):
        return  # a gateway's raw input: the channel reads, refuses and records it itself
    for _name, value in request.query_params.multi_items():
        if "\x00" in value:
            raise ClientException("a query value holds a NUL character")


def http_exception_handler(request: Req, exc: HTTPException) -> Response[Any]:
    """Litestar's answer for HTTP errors; Open311's error list on its paths; a 5xx raised on
    purpose is logged like any other."""
    if exc.status_code >= 500:
        log_unhandled(exc, route_of(request), reference())
    kind = answer_format(request)
    if kind == "open311":
        response = _open311_body(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response
    if kind == "html":  # a page in the reader's language (core.error_pages)
        from hotline.core.shell.error_pages import error_page

        if exc.status_code >= 500:
            return server_error_response(request, exc.status_code)
        return error_page(request, exc)
    return create_exception_response(request, exc)
