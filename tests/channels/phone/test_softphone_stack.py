"""The softphones' registrar (Kamailio, started by the hotline's own code) takes a registration
over WebSocket with the credential the console hands an agent, for that agent's address only;
an expired or forged credential, another agent's address, or a registration over plain SIP is
refused; the line sees who is registered, and the stack stops whole."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from hotline.channels.phone.consulted import ConsultedAgents
from hotline.channels.phone.softphone import credential, registrar_secret
from hotline.channels.phone.stack import PACKAGES, SoftphoneStack, missing
from hotline.core.axd import consultations, transfers
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind, AgentState
from hotline.core.storage.models.axd import AgentPresence
from tests.channels.phone.test_desk_queue import an_agent
from tests.channels.phone.test_desk_transfer import a_call_with
from tests.conftest import need
from tests.sipcallers import free_udp_port

pytestmark = pytest.mark.slow
SECRET = registrar_secret("test-secret-key-not-for-production")
AGED = 7  # seconds after which pike has forgotten an address (2 s units, 4 s latency)


def a_stack(work: Path, trunk: str = "") -> SoftphoneStack:
    """A stack on free loopback ports (not started); skips without the Debian packages."""
    need(not missing(), f"the softphone stack (Debian packages {PACKAGES})")
    base = 44000 + free_udp_port() % 40 * 100
    return SoftphoneStack(
        sip=("127.0.0.1", free_udp_port()),
        ws=("127.0.0.1", free_udp_port()),
        media="127.0.0.1",
        ports=(base, base + 99),
        secret=SECRET,
        work_dir=work,
        trunk=trunk,
    )


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[SoftphoneStack]:
    found = a_stack(tmp_path)
    await found.start()
    try:
        yield found
    finally:
        await found.stop()


def _request(user: str, host: str, call_id: str, cseq: int, auth: str = "", via: str = "") -> str:
    via = via or f"SIP/2.0/WSS {secrets.token_hex(4)}.invalid"
    lines = [
        f"REGISTER sip:{host} SIP/2.0",
        f"Via: {via};branch=z9hG4bK{secrets.token_hex(6)}",
        "Max-Forwards: 70",
        f"To: <sip:{user}@{host}>",
        f"From: <sip:{user}@{host}>;tag={secrets.token_hex(4)}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{secrets.token_hex(4)}@{secrets.token_hex(4)}.invalid;transport=ws>",
        "Expires: 60",
    ]
    if auth:
        lines.append(auth)
    return "\r\n".join([*lines, "Content-Length: 0", "", ""])


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@asynccontextmanager
async def registering(
    stack: SoftphoneStack, user: str, username: str, password: str
) -> AsyncIterator[int]:
    """REGISTER ``user`` over the registrar's WebSocket with a digest of (username, password);
    yields the final status while the connection is open (a softphone's page)."""
    from websockets.asyncio.client import connect

    host = f"{stack.sip[0]}:{stack.sip[1]}"
    call_id = secrets.token_hex(8)
    async with connect(f"ws://{stack.ws[0]}:{stack.ws[1]}", subprotocols=["sip"]) as ws:  # type: ignore[list-item]
        await ws.send(_request(user, host, call_id, 1))
        first = str(await asyncio.wait_for(ws.recv(), 5))
        status = int(first.split()[1])
        if status == 401:
            nonce = re.search(r'nonce="([^"]+)"', first)
            realm = re.search(r'realm="([^"]+)"', first)
            assert nonce and realm
            uri = f"sip:{host}"
            ha1 = _md5(f"{username}:{realm[1]}:{password}")
            digest = _md5(f"{ha1}:{nonce[1]}:{_md5(f'REGISTER:{uri}')}")
            auth = (
                f'Authorization: Digest username="{username}", realm="{realm[1]}",'
                f' nonce="{nonce[1]}", uri="{uri}", response="{digest}", algorithm=MD5'
            )
            await ws.send(_request(user, host, call_id, 2, auth))
            status = int(str(await asyncio.wait_for(ws.recv(), 5)).split()[1])
        yield status


async def register(stack: SoftphoneStack, user: str, username: str, password: str) -> int:
    async with registering(stack, user, username, password) as status:
        return status


async def test_an_agent_registers_their_own_address_only(stack: SoftphoneStack) -> None:
    given = credential(SECRET, "agent-7")
    assert not await stack.registered("agent-7")
    async with registering(stack, "agent-7", given["username"], given["password"]) as status:
        assert status == 200
        assert await stack.registered("agent-7")
        # the same credential does not register another agent's address
        assert await register(stack, "agent-8", given["username"], given["password"]) == 403
        assert not await stack.registered("agent-8")
    # the page closed without saying goodbye: the agent is no longer reachable there
    for _ in range(50):
        if not await stack.registered("agent-7"):
            break
        await asyncio.sleep(0.1)
    assert not await stack.registered("agent-7")


async def test_expired_or_forged_credentials_are_refused(stack: SoftphoneStack) -> None:
    old = credential(SECRET, "agent-7", ttl=60, now=1_000_000)  # expired long ago
    assert await register(stack, "agent-7", old["username"], old["password"]) == 401
    forged = credential("not-the-secret", "agent-7")
    assert await register(stack, "agent-7", forged["username"], forged["password"]) == 401
    assert not await stack.registered("agent-7")


async def test_plain_sip_registrations_are_refused(stack: SoftphoneStack) -> None:
    host = f"{stack.sip[0]}:{stack.sip[1]}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        via = f"SIP/2.0/UDP 127.0.0.1:{s.getsockname()[1]}"
        request = _request("agent-7", host, "x1", 1, via=via)
        s.sendto(request.encode(), stack.sip)
        answer = s.recv(65536).decode()
    assert answer.split()[1] == "403"


def _options(host: str, n: int) -> str:
    return "\r\n".join(
        [
            f"OPTIONS sip:{host} SIP/2.0",
            f"Via: SIP/2.0/WSS {secrets.token_hex(4)}.invalid;branch=z9hG4bK{secrets.token_hex(6)}",
            "Max-Forwards: 70",
            f"To: <sip:{host}>",
            f"From: <sip:probe@{host}>;tag={secrets.token_hex(4)}",
            f"Call-ID: flood-{n}",
            f"CSeq: {n} OPTIONS",
            "Content-Length: 0",
            "",
            "",
        ]
    )


async def _answered(stack: SoftphoneStack, count: int, within: float = 3.0) -> int:
    """Send ``count`` requests at once over one WebSocket: how many were answered."""
    from websockets.asyncio.client import connect

    host = f"{stack.sip[0]}:{stack.sip[1]}"
    answered = 0
    async with connect(f"ws://{stack.ws[0]}:{stack.ws[1]}", subprotocols=["sip"]) as ws:  # type: ignore[list-item]
        for n in range(count):
            await ws.send(_options(host, n + 1))
        deadline = asyncio.get_running_loop().time() + within
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                reply = str(await asyncio.wait_for(ws.recv(), left))
            except TimeoutError:
                break
            answered += reply.startswith("SIP/2.0 200")
    return answered


async def test_a_flood_over_websocket_is_dropped_while_it_lasts(stack: SoftphoneStack) -> None:
    assert await _answered(stack, 20) == 20  # a busy office: every request answered
    await asyncio.sleep(AGED)  # the counts age out
    flooded = await _answered(stack, 1000)
    print("answered of a flood of 1000:", flooded)
    assert 50 <= flooded < 500, flooded  # the first ones, then nothing while it lasts
    log = (stack.dir / "kamailio.log").read_text(errors="replace")
    assert "flood over WebSocket from 127.0.0.1: request dropped" in log  # staff see it
    await asyncio.sleep(AGED)
    given = credential(SECRET, "agent-7")  # afterwards the address is served again
    assert await register(stack, "agent-7", given["username"], given["password"]) == 200


async def test_the_stack_stops_whole(stack: SoftphoneStack) -> None:
    assert stack.alive()
    pids = [p.pid for p in stack._procs]
    await stack.stop()
    assert not stack._procs
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


def test_hotline_check_names_what_the_softphones_lack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hotline.channels.phone as phone
    from hotline.core.foundation.settings import Settings

    settings = Settings(
        data_dir=tmp_path, phone_engine="baresip", phone_softphone_ws="127.0.0.1:8089"
    )
    monkeypatch.setattr(phone, "missing", lambda: ["/usr/bin/rtpengine"])
    found = [line for line in phone.check_setup(settings) if "SOFTPHONE" in line]
    assert found == [
        f"HOTLINE_PHONE_SOFTPHONE_WS: /usr/bin/rtpengine missing (apt-get install {PACKAGES})"
    ]
    monkeypatch.setattr(phone, "missing", lambda: [])
    assert not [line for line in phone.check_setup(settings) if "SOFTPHONE" in line]


def test_the_console_may_connect_to_the_softphone_url_only_when_softphones_run() -> None:
    from hotline.core.shell.access_log import SECURITY_HEADERS, security_headers, softphone_origin

    assert softphone_origin("", "") == ""
    assert security_headers("") is SECURITY_HEADERS
    origin = softphone_origin("wss://hotline.example.gov/sip", "127.0.0.1:8089")
    assert origin == "wss://hotline.example.gov"
    csp = security_headers(origin)["content-security-policy"]
    assert "connect-src 'self' wss://hotline.example.gov;" in csp
    assert "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert softphone_origin("", "127.0.0.1:8089") == "ws://127.0.0.1:8089"


async def _dial(
    stack: SoftphoneStack,
    number: str,
    ticket: dict[str, str] | None,
    kind: str = "Dial",
    me: str = "agent-7",
) -> str:
    """An INVITE to ``number`` from softphone ``me``'s WebSocket (SDP-less), with a ticket of
    ``kind`` (Dial, Consult): the first answer."""
    from websockets.asyncio.client import connect

    host = f"{stack.sip[0]}:{stack.sip[1]}"
    lines = [
        f"INVITE sip:{number}@{host} SIP/2.0",
        f"Via: SIP/2.0/WSS {secrets.token_hex(4)}.invalid;branch=z9hG4bK{secrets.token_hex(6)}",
        "Max-Forwards: 70",
        f"To: <sip:{number}@{host}>",
        f"From: <sip:{me}@{host}>;tag={secrets.token_hex(4)}",
        f"Call-ID: {secrets.token_hex(8)}",
        "CSeq: 1 INVITE",
        f"Contact: <sip:{secrets.token_hex(4)}@{secrets.token_hex(4)}.invalid;transport=ws>",
    ]
    if ticket is not None:
        lines += [
            f"X-Hotline-{kind}-User: {ticket['username']}",
            f"X-Hotline-{kind}-Key: {ticket['password']}",
        ]
    async with connect(f"ws://{stack.ws[0]}:{stack.ws[1]}", subprotocols=["sip"]) as ws:  # type: ignore[list-item]
        await ws.send("\r\n".join([*lines, "Content-Length: 0", "", ""]))
        return " ".join(str(await asyncio.wait_for(ws.recv(), 5)).split()[1:3])


async def test_a_softphone_dials_only_the_number_its_ticket_names(tmp_path: Path) -> None:
    stack = a_stack(tmp_path, trunk=f"127.0.0.1:{free_udp_port()}")  # nobody answers there
    await stack.start()
    try:
        good = credential(SECRET, "dial-5-+8613912345678", ttl=60)
        assert await _dial(stack, "+8613912345678", None) == "403 Softphones"
        assert (await _dial(stack, "+8613900000000", good)).startswith("403 Not")
        forged = {**good, "password": credential("not-the-secret", "x")["password"]}
        assert await _dial(stack, "+8613912345678", forged) == "403 Bad"
        expired = credential(SECRET, "dial-5-+8613912345678", ttl=-10)
        assert await _dial(stack, "+8613912345678", expired) == "403 Bad"
        assert (await _dial(stack, "+8613912345678", good)).startswith("100")  # on its way
    finally:
        await stack.stop()


async def test_a_softphone_consults_only_the_agent_its_ticket_names(
    stack: SoftphoneStack,
) -> None:
    """Agent 7's ticket to talk to agent 9 first about call 5: good from agent 7 to agent 9 (not
    registered here, so 404 from the location lookup), refused to anyone else, from anyone
    else, forged or expired."""
    good = credential(SECRET, "consult-7-9-5", ttl=60)
    assert await _dial(stack, "agent-9", good, "Consult") == "404 Not"
    assert await _dial(stack, "agent-8", good, "Consult") == "403 Not"
    assert await _dial(stack, "agent-9", good, "Consult", me="agent-6") == "403 Not"
    forged = {**good, "password": credential("not-the-secret", "x")["password"]}
    assert await _dial(stack, "agent-9", forged, "Consult") == "403 Bad"
    expired = credential(SECRET, "consult-7-9-5", ttl=-10)
    assert await _dial(stack, "agent-9", expired, "Consult") == "403 Bad"
    assert await _dial(stack, "agent-9", None, "Consult") == "403 Softphones"
    no_call = credential(SECRET, "consult-7-9", ttl=60)  # names no call
    assert await _dial(stack, "agent-9", no_call, "Consult") == "403 Not"


async def test_the_agents_being_consulted_are_counted_by_the_stack(
    stack: SoftphoneStack, ctx: AppContext
) -> None:
    """The line asks Kamailio whether a consulted agent's call lasts: none has begun, so agent
    9 (busy in a consultation whose call never came) is made available again; and while the
    stack is down every consulted agent is."""
    assert await stack.rpc("dlg.profile_get_size", "consulted", "9") == 0
    assert await stack.rpc("dlg.profile_get_size", "no-such-profile", "9") is None
    ann, bob = await an_agent(ctx, "ann"), await an_agent(ctx, "bob")
    await a_call_with(ctx, ann)
    await transfers.consult(ctx, Actor(ActorKind.STAFF, ann), str(bob))
    watch = ConsultedAgents(ctx, stack)
    assert await watch.check() == []  # asked a moment ago: its call may still come
    async with ctx.db.transaction() as s:
        await s.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == bob)
            .values(since=datetime.now(UTC) - consultations.SETTLE)
        )
    assert await watch.check() == [bob]
    async with ctx.db.session() as s:
        presence = await s.get(AgentPresence, bob)
    assert presence is not None and presence.state == AgentState.AVAILABLE

    await transfers.consult(ctx, Actor(ActorKind.STAFF, ann), str(bob))
    assert await watch.check() == []
    await stack.stop()
    assert await watch.check() == [bob]  # no call lasts without the stack


def _invite(user: str, host: str, via_port: int) -> bytes:
    """A plain INVITE for ``user`` (no SDP), as a caller's phone sends it over UDP."""
    lines = [
        f"INVITE sip:{user}@{host} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{via_port};branch=z9hG4bK{secrets.token_hex(6)}",
        "Max-Forwards: 70",
        f"To: <sip:{user}@{host}>",
        f"From: <sip:+8613912345678@127.0.0.1>;tag={secrets.token_hex(4)}",
        f"Call-ID: {secrets.token_hex(8)}",
        "CSeq: 1 INVITE",
        f"Contact: <sip:caller@127.0.0.1:{via_port}>",
        "Content-Length: 0",
        "",
        "",
    ]
    return "\r\n".join(lines).encode()


async def test_only_a_caller_the_line_put_through_rings_an_agents_phone(
    stack: SoftphoneStack,
) -> None:
    """A registered softphone rings for the one-time name the line set for one caller (from
    wherever the caller's INVITE comes: the line refers their phone there), once. An INVITE
    naming the agent, or an unknown or used name (a stranger on the network, a desk phone
    registered here) is refused before it reaches the agent, and the refusal is logged."""
    host = f"{stack.sip[0]}:{stack.sip[1]}"
    given = credential(SECRET, "agent-7")
    address = await stack.put_through_address("agent-7", 5)
    assert address is not None
    name = address.split("@")[0].removeprefix("sip:")
    assert re.fullmatch(r"put-[0-9a-f]{32}", name) and address.endswith(";hl=back;hli=5")
    answers = []
    async with registering(stack, "agent-7", given["username"], given["password"]) as ok:
        assert ok == 200
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
            phone.bind(("127.0.0.1", 0))
            phone.settimeout(5)
            for user in ("agent-7", f"put-{secrets.token_hex(16)}", name, name):
                phone.sendto(_invite(user, host, phone.getsockname()[1]), stack.sip)
                answers.append(" ".join(phone.recv(65536).decode().split()[1:3]))
    assert answers[0] == "403 Only"  # the agent's own address, from outside
    assert answers[1] == "404 Not"  # a name the line never set
    assert answers[2].startswith("100 ")  # the caller put through: on its way to the agent
    assert answers[3] == "404 Not"  # used once
    log = (stack.dir / "kamailio.log").read_text(errors="replace")
    assert "a call from 127.0.0.1:" in log and "that the line did not put through" in log


async def test_a_consulted_agents_desk_phone_is_rung_at_the_address_the_ticket_names(
    stack: SoftphoneStack,
) -> None:
    """Agent 9 has no softphone; their desk phone's SIP address is in the ticket (hex, signed
    with the rest): Kamailio rings that address. A desk part that is neither an extension nor
    an address finds nobody."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:
        desk.bind(("127.0.0.1", free_udp_port()))
        desk.settimeout(5)
        phone = f"sip:1001@127.0.0.1:{desk.getsockname()[1]}"
        ticket = credential(SECRET, f"consult-7-9-5-x{phone.encode().hex()}", ttl=60)
        assert (await _dial(stack, "agent-9", ticket, "Consult")).startswith("100 ")
        invite = desk.recv(65536).decode()
    assert invite.startswith(f"INVITE {phone} SIP/2.0")
    assert "X-Hotline-Consult: 5" in invite
    garbled = credential(SECRET, "consult-7-9-5-xzz", ttl=60)
    assert await _dial(stack, "agent-9", garbled, "Consult") == "404 Not"
