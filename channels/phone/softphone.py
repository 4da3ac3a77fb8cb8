"""The agents' browser softphones: each agent's address on the registrar (``agent-<id>``), the
short-lived credential the console hands the signed-in agent's browser (auth_ephemeral's
``<expiry>:<user>`` and base64(HMAC-SHA1(secret, username)); Kamailio checks it with the
shared secret alone, and that it registers this agent's address only), and the stack made from
the settings. The secret is derived from the hotline's secret key; it never reaches a browser."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import File
from sqlalchemy import select

from hotline.admin.guards import ctx_of, requires, staff_actor
from hotline.core.axd import transfers
from hotline.core.axd.call_recordings import hold
from hotline.core.axd.dialing import DialRefused, dial
from hotline.core.axd.transfers import TransferRefused
from hotline.core.foundation.settings import Settings
from hotline.core.people.permissions import Permission
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import request_language
from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import AgentPresence, SkillGroup
from hotline.core.storage.models.people import User

from .prompts import PromptBook
from .stack import SoftphoneStack, address
from .transfers import transfer_address

Req = Request[Any, Any, Any]
TTL = 12 * 3600  # a shift: a page left open longer asks for a new one at its next registration


def softphone_user(agent_id: int) -> str:
    return f"agent-{agent_id}"


def registrar_secret(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"hotline softphone registrar", hashlib.sha256).hexdigest()


def credential(
    secret: str, user: str, *, ttl: int = TTL, now: float | None = None
) -> dict[str, Any]:
    expires = int((now if now is not None else time.time()) + ttl)
    username = f"{expires}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "password": base64.b64encode(digest).decode(), "ttl": ttl}


def turn_secret(settings: Settings) -> str:
    """The TURN servers' shared secret: the setting, else ``<data dir>/turn_secret``."""
    if settings.phone_turn_secret:
        return settings.phone_turn_secret
    path = settings.data_dir / "turn_secret"
    return path.read_text().strip() if path.is_file() else ""


def ice(settings: Settings, user: str) -> dict[str, Any]:
    """How a browser of ``user`` reaches the relay: the site's TURN servers with a credential
    of coturn's shared-secret kind (``<expiry>:<user>``, HMAC-SHA1 with the secret: the same
    scheme as the registrar's, one shift), or none: the relay is reachable directly."""
    secret = turn_secret(settings) if settings.phone_turn_urls else ""
    if not secret:
        return {"iceServers": [], "iceTransportPolicy": "all"}
    given = credential(secret, user)
    server = {
        "urls": list(settings.phone_turn_urls),
        "username": given["username"],
        "credential": given["password"],
    }
    policy = "relay" if settings.phone_turn_only else "all"
    return {"iceServers": [server], "iceTransportPolicy": policy}


def websocket_url(settings: Settings) -> str:
    if settings.phone_softphone_url:
        return settings.phone_softphone_url
    host, port = address(settings.phone_softphone_ws, 8089)
    return f"ws://{host}:{port}"


def make_stack(settings: Settings, secret_key: str) -> SoftphoneStack:
    first, _, last = settings.phone_media_ports.partition("-")
    return SoftphoneStack(
        sip=address(settings.phone_softphone_sip, 5070),
        ws=address(settings.phone_softphone_ws, 8089),
        media=settings.phone_media_address,
        ports=(int(first), int(last or first)),
        secret=registrar_secret(secret_key),
        work_dir=settings.data_dir / "phone",
        line=line_address(settings),
        ring_seconds=settings.axd_offer_seconds,
        record=settings.phone_call_recording != "off",
        trunk=settings.phone_trunk,
        caller_id=settings.phone_numbers[0] if settings.phone_numbers else "",
    )


def line_address(settings: Settings) -> tuple[str, int]:
    """The line's SIP address as the registrar beside it reaches it (a wildcard listen
    address: loopback)."""
    host, port = address(settings.phone_sip_listen, 5060)
    wildcard = host.strip("[]") in ("", "::") or host.startswith("0.")
    return ("127.0.0.1" if wildcard else host, port)


def softphones_of(request: Req, *, trunk: bool = False) -> AppContext:
    """The context when the site runs softphones (and a trunk, when ``trunk``); else 404."""
    ctx = ctx_of(request)
    if not ctx.settings.phone_softphone_ws or (trunk and not ctx.settings.phone_trunk):
        raise NotFoundException()
    return ctx


def refused_answer(request: Req, message: str) -> Response[dict[str, Any]]:
    said = ctx_of(request).catalogs.get(request_language(request)).gettext(message)
    return Response({"error": said}, status_code=422)


def ticket_answer(
    ctx: AppContext, kind: str, subject: str, **body: Any
) -> Response[dict[str, Any]]:
    """What a browser needs to place a call Kamailio lets through: ``body`` and the one-minute
    ticket for ``subject`` in the ``X-Hotline-<kind>-User``/``-Key`` headers (route[DIAL],
    route[MONITOR] in kamailio.cfg.in)."""
    ticket = credential(registrar_secret(ctx.secret_key), subject, ttl=60)
    headers = [
        f"X-Hotline-{kind}-User: {ticket['username']}",
        f"X-Hotline-{kind}-Key: {ticket['password']}",
    ]
    return Response({**body, "headers": headers}, headers={"Cache-Control": "no-store"})


@get("/console/softphone", guards=[requires(Permission.QUEUE_WORK)], cache=False)
async def softphone_credential(request: Req) -> Response[dict[str, Any]]:
    """The signed-in agent's softphone: where to register, as whom, with what (JSON)."""
    ctx = softphones_of(request)
    user = softphone_user(request.scope["state"]["user"].id)
    host, _ = address(ctx.settings.phone_softphone_sip, 5070)
    found = credential(registrar_secret(ctx.secret_key), user)
    body = {
        **found,
        "url": websocket_url(ctx.settings),
        "aor": f"sip:{user}@{host}",
        "ice": ice(ctx.settings, user),
    }
    return Response(body, headers={"Cache-Control": "no-store"})


@post("/console/softphone/hold", guards=[requires(Permission.QUEUE_WORK)], status_code=200)
async def softphone_hold(request: Req) -> Response[dict[str, Any]]:
    """The agent put their caller on hold (``on=1``: the browser sends the music instead of the
    agent's voice) or took them back (``on=0``): counted on the call's detail record."""
    ctx = softphones_of(request)
    on = str((await request.form()).get("on", "")) == "1"
    counted = await hold(ctx, request.scope["state"]["user"].id, on)
    return Response({"held": on, "counted": counted}, headers={"Cache-Control": "no-store"})


@get("/console/softphone/hold-music", guards=[requires(Permission.QUEUE_WORK)])
async def softphone_hold_music(request: Req) -> File:
    """The music a caller on hold hears: the line's own (the site's, else the built-in)."""
    ctx = softphones_of(request)
    music = await PromptBook(ctx.settings.data_dir).hold()
    return File(music, media_type="audio/wav", content_disposition_type="inline")


@get("/console/softphone/transfer", guards=[requires(Permission.QUEUE_WORK)], cache=False)
async def transfer_targets(request: Req) -> Response[dict[str, Any]]:
    """Where the agent may transfer a call: the queues, the agents available now (not
    themselves, nor anyone a call rings for or is with), and whether outside numbers can be
    called."""
    ctx = softphones_of(request)
    me = request.scope["state"]["user"].id
    chinese = request_language(request) == "zh_CN"
    async with ctx.db.session() as s:
        groups = await s.scalars(select(SkillGroup).order_by(SkillGroup.code))
        queues = [[g.code, (g.name_zh if chinese else g.name_en) or g.code] for g in groups]
        rows = await s.execute(
            select(User.id, User.display_name)
            .join(AgentPresence, AgentPresence.user_id == User.id)
            .where(AgentPresence.state == AgentState.AVAILABLE, User.id != me, User.active)
            .where(User.id.not_in(transfers.on_calls()))
            .order_by(User.display_name)
        )
        agents = [[str(user_id), name] for user_id, name in rows]
    body = {"queues": queues, "agents": agents, "outside": bool(ctx.settings.phone_trunk)}
    return Response(body, headers={"Cache-Control": "no-store"})


@post("/console/softphone/transfer", guards=[requires(Permission.QUEUE_WORK)], status_code=200)
async def transfer_call(request: Req) -> Response[dict[str, Any]]:
    """The agent transfers their call (``kind`` queue, agent or number; ``target``): the
    address their softphone refers the caller to, or why not (422, in their language)."""
    ctx = softphones_of(request)
    form = await request.form()
    kind, target = str(form.get("kind", "")), str(form.get("target", ""))[:64]
    attended = str(form.get("attended", "")) == "1"
    try:
        await transfers.ask(ctx, request.scope["state"]["user"].id, kind, target, attended=attended)
    except TransferRefused as refused:
        return refused_answer(request, str(refused))
    body = {"refer": transfer_address(line_address(ctx.settings))}
    return Response(body, headers={"Cache-Control": "no-store"})


@post("/console/softphone/consult", guards=[requires(Permission.QUEUE_WORK)], status_code=200)
async def consult_agent(request: Req) -> Response[dict[str, Any]]:
    """The agent on a call talks to another agent first (``agent``), the caller on hold: where
    their softphone calls that agent's softphone (or their desk phone), with a ticket Kamailio
    checks (this agent to that one, about this call, one minute); or why not (422). Then they
    hand the caller over (an attended transfer), bring all three together, or go back to the
    caller. The other agent is busy meanwhile (``consultations``)."""
    ctx = softphones_of(request)
    form = await request.form()
    try:
        found = await transfers.consult(ctx, staff_actor(request), str(form.get("agent", ""))[:20])
    except TransferRefused as refused:
        return refused_answer(request, str(refused))
    me = request.scope["state"]["user"]
    host, port = address(ctx.settings.phone_softphone_sip, 5070)
    # the desk phone rung when they have no softphone: its extension, or its SIP address (hex,
    # signed with the rest, so that nobody can have Kamailio call an address of their choosing)
    desk = found.extension or (f"x{found.address.encode().hex()}" if found.address else "")
    return ticket_answer(
        ctx,
        "Consult",
        f"consult-{me.id}-{found.agent_id}-{found.item_id}" + (f"-{desk}" if desk else ""),
        uri=f"sip:{softphone_user(found.agent_id)}@{host}:{port}",
        agent=str(found.agent_id),
        name=found.name,
        caller=me.display_name,
    )


@post("/console/softphone/dial", guards=[requires(Permission.QUEUE_WORK)], status_code=200)
async def dial_citizen(request: Req) -> Response[dict[str, Any]]:
    """The agent calls the case's citizen (``case``: tracking number, ``contact``: their phone
    contact's id): the SIP address their softphone dials, with a ticket Kamailio checks (this
    number, this call, one minute) so that a softphone dials nothing else; or why not (422)."""
    ctx = softphones_of(request, trunk=True)
    form = await request.form()
    contact = str(form.get("contact", ""))
    try:
        if not contact.isdigit():
            raise DialRefused("This case has no such telephone number to call.")
        placed = await dial(ctx, staff_actor(request), str(form.get("case", ""))[:32], int(contact))
    except DialRefused as refused:
        return refused_answer(request, str(refused))
    host, port = address(ctx.settings.phone_softphone_sip, 5070)
    uri = f"sip:{placed.number}@{host}:{port}"
    return ticket_answer(ctx, "Dial", f"dial-{placed.item_id}-{placed.number}", uri=uri)


SOFTPHONE_ROUTES = [
    consult_agent,
    dial_citizen,
    softphone_credential,
    softphone_hold,
    softphone_hold_music,
    transfer_targets,
    transfer_call,
]
