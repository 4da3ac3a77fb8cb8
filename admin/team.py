"""The team leader's board (班长): every agent's state and load, items moved to another
agent, and an agent signed out of the queue."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import func, select

from hotline.core.axd import calls
from hotline.core.axd import selection as axd_selection
from hotline.core.axd import state as axd_state
from hotline.core.axd.desk_phones import DeskPhoneRefused, desk_secret, is_extension
from hotline.core.axd.queue_names import queue_names
from hotline.core.cases.contacts import mask
from hotline.core.people.permissions import Permission
from hotline.core.reference.durations import in_words
from hotline.core.shell.web import parse_id, render, request_language
from hotline.core.storage.enums import Media, QueueState
from hotline.core.storage.models.axd import AgentPresence, QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import User

from .desktop import away_names
from .guards import can, ctx_of, requires

Req = Request[Any, Any, Any]


@get("/console/team", guards=[requires(Permission.QUEUE_MANAGE)])
async def team_board(request: Req) -> Response[str]:
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        agents = list(
            await session.execute(
                select(User, AgentPresence)
                .join(AgentPresence, AgentPresence.user_id == User.id)
                .where(User.active.is_(True))
                .order_by(User.username)
            )
        )
        load = {
            (agent_id, media): count
            for agent_id, media, count in await session.execute(
                select(QueueItem.agent_id, QueueItem.media, func.count())
                .where(
                    QueueItem.state.in_([QueueState.OFFERED, QueueState.ASSIGNED]),
                    axd_selection.NOT_SEALED,
                )
                .group_by(QueueItem.agent_id, QueueItem.media)
            )
        }
        waiting = int(
            await session.scalar(
                select(func.count())
                .select_from(QueueItem)
                .where(QueueItem.state == QueueState.WAITING, axd_selection.NOT_SEALED)
            )
            or 0
        )
        live = await session.run_sync(calls.live_calls)
        names = await queue_names(session, request_language(request).startswith("zh"))
    rows = [
        (user, presence, {m: n for (a, m), n in load.items() if a == user.id})
        for user, presence in agents
    ]
    now = utcnow()
    lang = request_language(request)
    unmask = can(request, Permission.CONTACT_UNMASK)
    phone_calls = [
        {
            "call": call,
            "caller": (call.caller if unmask else mask(call.caller)) if call.caller else "",
            "for": in_words((now - call.since).total_seconds(), lang),
            "queue": names.get(call.queue, call.queue),
        }
        for call in live
    ]
    return render(
        request,
        "admin/team.html",
        rows=rows,
        waiting=waiting,
        calls=phone_calls,
        monitoring=bool(ctx.settings.phone_softphone_ws),
        now=now,
        away_names=await away_names(request),
    )


@post("/console/team/{agent_id:int}/sign-out", guards=[requires(Permission.QUEUE_MANAGE)])
async def sign_agent_out(request: Req, agent_id: FromPath[int]) -> Response[Any]:
    """The agent leaves the queue; what was offered to them goes back to wait for others."""
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        if await session.get(User, agent_id) is None:
            raise NotFoundException("no such agent")
    await axd_state.sign_out(ctx, agent_id)
    return Redirect("/console/team", status_code=303)


@post("/console/team/items/{item_id:int}/move", guards=[requires(Permission.QUEUE_MANAGE)])
async def move_item(request: Req, item_id: FromPath[int]) -> Response[Any]:
    """Give a contact to a named agent (assigned to them at once)."""
    ctx = ctx_of(request)
    target = parse_id((await request.form()).get("agent_id"))
    if target is None:
        raise ClientException("choose an agent")
    async with ctx.db.session() as session:
        agent = await session.get(User, target)
    if agent is None or not agent.active:
        raise ClientException("no such agent")
    if not await axd_state.move(ctx, item_id, target):
        raise ClientException("that contact is no longer in the queue")
    return Redirect("/console/team", status_code=303)


SIP_ADDRESS = re.compile(
    r"^sips?:[A-Za-z0-9_.!~*'()&=+$,;?/%-]+@[A-Za-z0-9.\[\]:-]+(;[^\s<>\"]*)?$"
)


def _desk_phone(raw: str) -> str | None:
    """The desk phone's SIP address or extension as typed; ValueError when it is neither."""
    if not raw:
        return None
    if is_extension(raw):
        return raw
    if len(raw) > 200 or not SIP_ADDRESS.fullmatch(raw):
        raise ValueError(raw)
    return raw


def _profile_form(form: Any) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """Capacity per medium, ``code:level`` skills, languages; ClientException names a mistake."""
    capacity = {}
    for media in Media:
        raw = str(form.get(f"capacity_{media.value}", "0") or "0")
        if not raw.isdigit() or int(raw) > 20:
            raise ClientException(f"capacity for {media.value}: a whole number from 0 to 20")
        if int(raw):
            capacity[media.value] = int(raw)
    skills = {}
    for part in str(form.get("skills", "")).replace("，", ",").split(","):
        if not part.strip():
            continue
        code, _, level = (x.strip() for x in part.partition(":"))
        if not code or not (level or "1").isdigit():
            raise ClientException(f"skill {part.strip()!r}: write code:level, e.g. pothole:1")
        skills[code] = max(1, int(level or "1"))
    languages = [lang for lang in ("zh_CN", "en") if form.get(f"lang_{lang}") == "yes"]
    return capacity, skills, languages


@get("/console/team/{agent_id:int}/profile", guards=[requires(Permission.QUEUE_MANAGE)])
async def agent_profile(request: Req, agent_id: FromPath[int]) -> Response[str]:
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        agent = await session.get(User, agent_id)
        presence = await session.get(AgentPresence, agent_id)
    if agent is None:
        raise NotFoundException("no such agent")
    return render(
        request, "admin/agent_profile.html", agent=agent, presence=presence, media=list(Media)
    )


@post("/console/team/{agent_id:int}/profile", guards=[requires(Permission.QUEUE_MANAGE)])
async def save_agent_profile(request: Req, agent_id: FromPath[int]) -> Response[Any]:
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        agent = await session.get(User, agent_id)
    if agent is None:
        raise NotFoundException("no such agent")
    form = await request.form()
    capacity, skills, languages = _profile_form(form)
    typed = str(form.get("desk_phone", "") or "").strip()
    password = str(form.get("desk_password", "") or "")
    problem = ""
    try:
        desk_phone = _desk_phone(typed)
        desk_ha1 = await desk_secret(ctx, agent_id, desk_phone, password)
    except ValueError as refused:  # the form back as typed, the mistake named beside the field
        problem = str(refused) if isinstance(refused, DeskPhoneRefused) else "address"
    if problem:
        typed_profile = SimpleNamespace(
            capacity=capacity, skills=skills, languages=languages, desk_phone=typed, desk_ha1=None
        )
        return render(
            request,
            "admin/agent_profile.html",
            status=422,
            agent=agent,
            presence=typed_profile,
            media=list(Media),
            phone_error=problem,
        )
    await axd_state.set_profile(
        ctx,
        agent_id,
        capacity=capacity,
        skills=skills,
        languages=languages,
        desk_phone=desk_phone,
        desk_ha1=desk_ha1,
    )
    return Redirect("/console/team", status_code=303)
