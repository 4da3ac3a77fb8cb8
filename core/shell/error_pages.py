"""The pages a person sees for an HTTP error (401, 403, 404, 405, 429) on the portal and the
console, in their language; machines (the API, Open311, channels) keep their own formats
(``core.errors``).

- 401 on the console: the browser goes to the sign-in page, and back to where it was going
  afterwards (this site's console only, ``core.returns``); htmx is told with ``HX-Redirect``.
- 403: what is refused, in words (the permission the page needs), and who to ask.
- 429: when to try again (``Retry-After``, also sent as a header).
- A staff member who must replace a printed password is sent to that page instead of a 403.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect

from hotline.core.reference.labels import N_
from hotline.core.shell.returns import login_address

Req = Request[Any, Any, Any]

CONSOLE = "/console"

# What a console page needs, in words (the guard's permission code is never shown).
NEEDS = {
    "console": N_("signing in to the console"),
    "queue.work": N_("working the contact queue"),
    "queue.manage": N_("leading a team of agents"),
    "case.read": N_("reading the hotline's cases"),
    "case.edit": N_("handling the hotline's cases"),
    "citizen.merge": N_("merging citizens' records"),
    "department.handle": N_("handling a department's cases"),
    "department.approve": N_("a department head's approvals"),
    "contact.unmask": N_("seeing a citizen's contact details"),
    "director.mailbox": N_("reading the director's mailbox"),
    "mailbox.counts": N_("the director's mailbox figures"),
    "supervise": N_("supervision"),
    "wallboard": N_("the wallboard"),
    "administer": N_("administering the hotline"),
}


# A permission's name in lists (the users page, its overrides).
NAMES = {
    "console": N_("Sign in to the console"),
    "queue.work": N_("Work the contact queue"),
    "queue.manage": N_("Lead a team of agents"),
    "case.read": N_("Read the hotline's cases"),
    "case.edit": N_("Handle the hotline's cases"),
    "citizen.merge": N_("Merge citizens' records"),
    "department.handle": N_("Handle a department's cases"),
    "department.approve": N_("Approve as department head"),
    "contact.unmask": N_("See a citizen's contact details"),
    "director.mailbox": N_("Read the director's mailbox"),
    "mailbox.counts": N_("See the director's mailbox figures"),
    "supervise": N_("Supervise"),
    "wallboard": N_("See the wallboard"),
    "administer": N_("Administer the hotline"),
}


def on_console(request: Req) -> bool:
    path = request.url.path
    return path == CONSOLE or path.startswith(CONSOLE + "/")


def layout_for(request: Req) -> str:
    """The frame an error page stands in: the console's on its paths, the portal's elsewhere."""
    return "admin/_frame.html" if on_console(request) else "base.html"


def needed_permission(request: Req) -> str | None:
    """The permission the route's guard asks for (set by ``admin.guards.requires``)."""
    handler = request.scope.get("route_handler")
    for guard in getattr(handler, "guards", None) or []:
        permission = getattr(guard, "permission", None)
        if permission is not None:
            return str(permission.value if hasattr(permission, "value") else permission)
    return None


def retry_seconds(exc: HTTPException) -> int:
    headers = exc.headers or {}
    for key in ("Retry-After", "RateLimit-Reset"):
        value = str(headers.get(key, "")).strip()
        if value.isdigit():
            return max(1, int(value))
    return 60


def error_page(request: Req, exc: HTTPException) -> Response[Any]:
    from hotline.core.shell.errors import reference
    from hotline.core.shell.web import render

    status = exc.status_code
    detail = str(exc.detail or "")
    console = on_console(request)
    if status == 401 and console:
        query = request.url.query if request.method == "GET" else ""
        path = request.url.path if request.method == "GET" else CONSOLE
        target = login_address(path, query)
        if request.headers.get("hx-request") == "true":
            return Response("", status_code=401, headers={"HX-Redirect": target})
        return Redirect(target, status_code=303)
    if status == 403 and console and detail == "change your password first":
        return Redirect("/console/password", status_code=303)
    values: dict[str, Any] = {
        "fault": None,
        "reference": reference(),
        "kept": [],
        "again": False,
        "code": status,
        "layout": layout_for(request),
        "console": console,
    }
    headers: dict[str, str] = {"Cache-Control": "no-store"}
    if status == 403:
        needed = needed_permission(request)
        values["needs"] = NEEDS.get(needed or "", "")
        values["network"] = "not open to this address" in detail
    if status == 405:
        allowed = (exc.headers or {}).get("Allow") or ""
        if allowed:
            headers["Allow"] = str(allowed)
    if status == 429:
        seconds = retry_seconds(exc)
        values["retry_after"] = seconds
        headers["Retry-After"] = str(seconds)
    response = render(request, "fault.html", status=status, **values)
    response.headers.update(headers)
    return response
