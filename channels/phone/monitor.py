"""Team leaders and supervisors listen in to agents' calls from the team board: silently,
whispering to the agent, or barging in. A call on the agent's softphone: the supervisor's
browser calls the softphone with a ticket Kamailio checks, and the softphone is the bridge
(``route[MONITOR]``). A call on a desk phone: the media relay copies both parties to the
supervisor's browser, which the line arranges (``desk_listening.py``, through
``core/axd/listenings.py``); silent listening only. Audited before anything is heard."""

from __future__ import annotations

from typing import Any

from litestar import Response, post

from hotline.admin.guards import requires, staff_actor
from hotline.core.axd import listenings
from hotline.core.axd.listenings import LISTENING, OFFERED, SOFTPHONE
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.reference.labels import N_
from hotline.core.storage.enums import QueueState
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case, CaseEvent

from .softphone import (
    Req,
    ice,
    refused_answer,
    softphone_user,
    softphones_of,
    ticket_answer,
    websocket_url,
)
from .stack import address

MONITOR_MODES = ("listen", "whisper", "barge")
MAX_SDP = 20_000  # a browser's answer is a few kilobytes
NOT_ON_A_CALL = N_("Could not listen in: the agent is not on a call.")
NO_COPY = N_("Could not listen in to the desk phone's call.")
NO_HEADERS = {"Cache-Control": "no-store"}


@post("/console/softphone/monitor", guards=[requires(Permission.QUEUE_MANAGE)], status_code=200)
async def monitor_call(request: Req) -> Response[dict[str, Any]]:
    """A team leader or supervisor listens in to an agent's call in progress (``mode``:
    ``listen`` silent, ``whisper`` only the agent hears them, ``barge`` both parties do).
    For a softphone's call: where their browser connects and the ticket Kamailio checks (this
    agent, this mode, one minute); for a desk phone's: the relay's offer their browser answers
    (``listening``: what to answer and stop). Audited on the case and in the audit log before
    anything is heard."""
    ctx = softphones_of(request)
    form = await request.form()
    mode, agent, item_id = (str(form.get(k, "")) for k in ("mode", "agent", "item"))
    if mode not in MONITOR_MODES or not agent.isdigit() or not item_id.isdigit():
        return Response({"error": "bad request"}, status_code=400)
    actor, me = staff_actor(request), request.scope["state"]["user"].id
    async with ctx.db.transaction() as s:
        item = await s.get(QueueItem, int(item_id))
        if item is None or item.agent_id != int(agent) or item.state != QueueState.ASSIGNED:
            return refused_answer(request, NOT_ON_A_CALL)
        case = await s.get(Case, item.case_id)
        detail = {"mode": mode, "agent": int(agent), "item": item.id}
        s.add(CaseEvent.by(actor, item.case_id, "call_monitored", detail))
        audit(s, actor, "call_monitored", case.citizen_id if case else None, **detail)
        asked = listenings.ask(s, me, item.id, int(agent), mode)
    found = await listenings.moved(ctx, asked.id)
    if found.state == OFFERED:
        body = {
            "listening": found.id,
            "sdps": found.offers,
            "ice": ice(ctx.settings, f"monitor-{me}"),
        }
        return Response(body, headers=NO_HEADERS)
    if found.state != SOFTPHONE:
        return refused_answer(request, found.error or NO_COPY)
    host, port = address(ctx.settings.phone_softphone_sip, 5070)
    return ticket_answer(
        ctx,
        "Monitor",
        f"monitor-{agent}-{mode}",
        uri=f"sip:{softphone_user(int(agent))}@{host}:{port}",
        url=websocket_url(ctx.settings),
        aor=f"sip:monitor-{me}@{host}",
        ice=ice(ctx.settings, f"monitor-{me}"),
    )


def _listening_of(form: Any) -> int | None:
    given = str(form.get("listening", ""))
    return int(given) if given.isdigit() and len(given) < 19 else None


@post(
    "/console/softphone/monitor/answer",
    guards=[requires(Permission.QUEUE_MANAGE)],
    status_code=200,
)
async def monitor_answer(request: Req) -> Response[dict[str, Any]]:
    """The supervisor's browser answers the relay's offers (``sdp``, one per party, in their
    order) for their ``listening`` to a desk phone's call: the copies start, or why not
    (422)."""
    ctx = softphones_of(request)
    form = await request.form()
    listening, sdps = _listening_of(form), [str(sdp) for sdp in form.getall("sdp", [])]
    bad = not 0 < len(sdps) <= 4 or any(not sdp.startswith("v=0") for sdp in sdps)
    if listening is None or bad or sum(map(len, sdps)) > MAX_SDP:
        return Response({"error": "bad request"}, status_code=400)
    me = request.scope["state"]["user"].id
    if not await listenings.answered(ctx, listening, me, sdps):
        return refused_answer(request, NO_COPY)
    found = await listenings.moved(ctx, listening)
    if found.state != LISTENING:
        return refused_answer(request, found.error or NO_COPY)
    return Response({"listening": found.id}, headers=NO_HEADERS)


@post(
    "/console/softphone/monitor/stop", guards=[requires(Permission.QUEUE_MANAGE)], status_code=200
)
async def monitor_stop(request: Req) -> Response[dict[str, Any]]:
    """The supervisor stops their ``listening`` to a desk phone's call."""
    ctx = softphones_of(request)
    listening = _listening_of(await request.form())
    if listening is None:
        return Response({"error": "bad request"}, status_code=400)
    stopped = await listenings.stop(ctx, listening, request.scope["state"]["user"].id)
    return Response({"stopped": stopped}, headers=NO_HEADERS)


MONITOR_ROUTES = [monitor_call, monitor_answer, monitor_stop]
