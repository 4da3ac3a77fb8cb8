"""The administrator's page for the phone menu: the TOML document shown and edited in place;
a save is checked whole first (every problem named, nothing written), then written atomically
to ``<data dir>/phone-menu.toml``, which the line reads again at the next call. The audit trail
records who changed it."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, get, post

from hotline.admin.guards import ctx_of, requires, staff_actor
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render

from .menu import MenuError, menu_path, parse_menu

Req = Request[Any, Any, Any]
MAX_BYTES = 200_000


async def _page(request: Req, text: str | None = None, **extra: Any) -> Response[str]:
    ctx = ctx_of(request)
    source = menu_path(ctx.settings.data_dir)
    if text is None:
        text = await anyio.Path(source).read_text(encoding="utf-8")
    status = extra.pop("status", 200)
    return render(
        request,
        "phone/menu.html",
        text=text,
        own=source.parent == ctx.settings.data_dir,
        status=status,
        **extra,
    )


@get("/console/settings/phone", guards=[requires(Permission.ADMINISTER)])
async def phone_menu(request: Req) -> Response[str]:
    return await _page(request, saved=request.query_params.get("saved"))


@post("/console/settings/phone", guards=[requires(Permission.ADMINISTER)])
async def save_phone_menu(request: Req) -> Response[str]:
    ctx = ctx_of(request)
    form = await request.form()
    text = str(form.get("menu", "")).replace("\r\n", "\n")
    if len(text.encode()) > MAX_BYTES:
        return await _page(request, text, problems=["the menu is too long"], status=422)
    try:
        parse_menu(text)
    except MenuError as exc:
        return await _page(request, text, problems=exc.problems, status=422)
    target = anyio.Path(ctx.settings.data_dir / "phone-menu.toml")
    part = anyio.Path(str(target) + ".part")
    await part.write_text(text, encoding="utf-8")
    await part.replace(target)
    async with ctx.db.transaction() as session:
        audit(session, staff_actor(request), "phone_menu_changed", None, bytes=len(text))
    return await _page(request, saved="1")


CONSOLE_ROUTES = [phone_menu, save_phone_menu]
