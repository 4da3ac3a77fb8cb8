"""The administrator's wallboard page: the service-level target, the short-abandon limit, the
thresholds that colour each figure, and the kiosk links (made, shown once, revoked)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from hotline.admin.guards import ctx_of, requires, staff_actor
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render

from . import board, kiosk

Req = Request[Any, Any, Any]
PAGE = "/console/settings/wallboard"


def _(message: str) -> str:
    """Marks a word for the catalogs; the page translates it when it shows it."""
    return message


# the figures' names on the settings page (their limits are in board.THRESHOLDS), and the
# other fields', named in a list of mistakes
FIGURE_WORDS = {
    "waiting": _("Waiting now"),
    "longest_wait": _("Longest wait (s)"),
    "available": _("Agents available"),
    "asa": _("Average speed of answer (s)"),
    "aht": _("Average handling time (s)"),
    "service_level": _("Service level (%)"),
    "abandon_rate": _("Abandoned (% of offered)"),
    "satisfaction": _("Satisfaction (%)"),
    "overdue": _("Overdue at departments"),
}
FIELD_WORDS = {
    "service_level_seconds": _("Service level: answered within (s)"),
    "short_abandon_seconds": _("Short abandons: left within (s)"),
    "name": _("Where the screen is"),
}


async def _page(
    request: Req, *, new_link: str = "", errors: list[str] | None = None, status: int = 200
) -> Response[str]:
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        chosen = await board.load_settings(session)
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "reports/wallboard_settings.html",
        chosen=chosen,
        figures=[(k, FIGURE_WORDS[k], *chosen.limits(k)) for k in board.THRESHOLDS],
        links=await kiosk.links(ctx),
        new_link=f"{base}/wallboard/kiosk/{new_link}" if new_link else "",
        errors=errors or [],
        status=status,
    )


@get(PAGE, guards=[requires(Permission.ADMINISTER)])
async def wallboard_settings(request: Req) -> Response[str]:
    return await _page(request)


def _number(form: Any, name: str, low: float, high: float, errors: list[str]) -> float:
    raw = str(form.get(name, "")).strip()
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        figure = name.rsplit("_", 1)[0]
        errors.append(FIELD_WORDS.get(name) or FIGURE_WORDS.get(figure, name))
        return low
    return value


@post(PAGE, guards=[requires(Permission.ADMINISTER)])
async def save_wallboard_settings(request: Req) -> Response[Any]:
    form = await request.form()
    errors: list[str] = []
    service = int(_number(form, "service_level_seconds", 1, 3600, errors))
    short = int(_number(form, "short_abandon_seconds", 0, 120, errors))
    thresholds = {
        k: (
            _number(form, f"{k}_warn", 0, 100_000, errors),
            _number(form, f"{k}_alarm", 0, 100_000, errors),
        )
        for k in board.THRESHOLDS
    }
    if errors:
        return await _page(request, errors=errors, status=400)
    ctx = ctx_of(request)
    async with ctx.db.transaction() as session:
        await board.save_settings(session, board.BoardSettings(service, short, thresholds))
    board.forget(ctx)
    return Redirect(f"{PAGE}?saved=1", status_code=303)


@post(f"{PAGE}/kiosk", guards=[requires(Permission.ADMINISTER)])
async def add_kiosk_link(request: Req) -> Response[str]:
    name = str((await request.form()).get("name", "")).strip()[:100]
    if not name:
        return await _page(request, errors=[FIELD_WORDS["name"]], status=400)
    token = await kiosk.make_link(ctx_of(request), name, staff_actor(request))
    return await _page(request, new_link=token)


@post(f"{PAGE}/kiosk/{{link_id:int}}/revoke", guards=[requires(Permission.ADMINISTER)])
async def revoke_kiosk_link(request: Req, link_id: FromPath[int]) -> Response[Any]:
    if not await kiosk.revoke_link(ctx_of(request), link_id, staff_actor(request)):
        raise NotFoundException("no such kiosk link")
    return Redirect(f"{PAGE}?revoked=1", status_code=303)


def handlers() -> list[Any]:
    return [wallboard_settings, save_wallboard_settings, add_kiosk_link, revoke_kiosk_link]
