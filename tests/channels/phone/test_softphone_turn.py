"""An agent behind NAT: the browser sends its media through the site's TURN server (coturn, the
Debian package, on loopback) with the credential the console gave it, made with the server's
shared secret; with TURN only allowed (``HOTLINE_PHONE_TURN_ONLY``) the browser has no other
way to the relay, and the caller and the agent still hear each other. The console hands no
TURN server to a site without one, nor without the secret, which ``hotline check`` names."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.channels.phone import check_setup
from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.softphone import ice
from hotline.channels.phone.stack import SoftphoneStack
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import AppContext
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_softphone_call import (  # noqa: F401 (fixtures)
    AGENT_HZ,
    CALLER_HZ,
    agent_side,
    an_agent,
    caller_meets_agent,
    line,
    share,
    softphone_settings,
    stack,
)
from tests.conftest import need
from tests.sipcallers import free_udp_port, read_8k

pytestmark = pytest.mark.slow
TURN_SECRET = secrets.token_hex(16)

# every peer connection the page makes, kept for the test to read its statistics
KEEP_CONNECTIONS = """
window.__connections = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Native(...args);
  window.__connections.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = Native.prototype;
"""

# how the last connection reached the relay: the local candidate of its chosen pair
ROUTE = """
const done = arguments[arguments.length - 1];
const pc = window.__connections[window.__connections.length - 1];
pc.getStats().then((stats) => {
  let pair = null;
  stats.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  });
  const local = pair ? stats.get(pair.localCandidateId) : null;
  done(local ? [local.candidateType, local.relayProtocol || ""] : null);
});
"""


@pytest.fixture
def turn(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """coturn on loopback with a shared secret: its URL and its log."""
    need(shutil.which("turnserver") is not None, "coturn (Debian package coturn)")
    port = free_udp_port()
    base = 47000 + port % 20 * 100
    log = tmp_path / "turn.log"
    proc = subprocess.Popen(
        [
            "turnserver",
            "-n",
            "--listening-ip=127.0.0.1",
            f"--listening-port={port}",
            "--relay-ip=127.0.0.1",
            f"--min-port={base}",
            f"--max-port={base + 99}",
            "--use-auth-secret",
            f"--static-auth-secret={TURN_SECRET}",
            "--realm=hotline",
            "--allow-loopback-peers",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--simple-log",
            "--verbose",
            f"--userdb={tmp_path / 'turndb'}",
            f"--log-file={log}",
            f"--pidfile={tmp_path / 'turn.pid'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"turn:127.0.0.1:{port}?transport=udp", log
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def settings(tmp_path: Path, db_url: str, turn: tuple[str, Path]) -> Settings:  # noqa: F811
    return softphone_settings(tmp_path, db_url).model_copy(
        update={
            "phone_turn_urls": [turn[0]],
            "phone_turn_secret": TURN_SECRET,
            "phone_turn_only": True,
        }
    )


def through_turn(driver: Any, url: str) -> dict[str, Any]:
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_CONNECTIONS})
    routes = []

    def route_while_talking() -> None:
        routes.append(driver.execute_async_script(ROUTE))

    seen = agent_side(driver, url, while_talking=route_while_talking)
    return seen | {"route": routes[0] if routes else None}


async def test_an_agent_behind_nat_talks_through_the_turn_server(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],  # noqa: F811
    stack: SoftphoneStack,  # noqa: F811
    tmp_path: Path,
    db_url: str,  # noqa: F811
    turn: tuple[str, Path],
) -> None:
    target, _ivr, _book = line
    agent = await an_agent(ctx)
    seen = await caller_meets_agent(ctx, db_url, tmp_path, target, through_turn, mic=10, calls=2)
    assert seen["route"] == ["relay", "udp"]  # the browser's side of the call: coturn's relay
    heard = [p for p in seen["peaks"] if p]
    assert sum(abs(hz - CALLER_HZ) < 30 for hz, _db in heard) >= len(seen["peaks"]) * 0.8, heard
    dumps = sorted(
        (tmp_path / "caller" / "dumps").glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime
    )
    assert share(read_8k(dumps[-1])[: -3 * 8000], AGENT_HZ) > 0.5  # the caller heard the agent
    log = turn[1].read_text(errors="replace")
    assert f":agent-{agent}>: incoming packet ALLOCATE processed, success" in log


def test_the_console_hands_turn_servers_only_with_their_secret(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path, phone_turn_urls=["turn:turn.example.gov:3478"])
    assert ice(base, "agent-7") == {"iceServers": [], "iceTransportPolicy": "all"}
    (tmp_path / "turn_secret").write_text("from-the-data-dir\n")
    given = ice(base, "agent-7")
    [server] = given["iceServers"]
    assert server["urls"] == ["turn:turn.example.gov:3478"]
    assert server["username"].endswith(":agent-7") and server["credential"]
    assert given["iceTransportPolicy"] == "all"
    assert ice(Settings(data_dir=tmp_path), "agent-7")["iceServers"] == []  # no TURN here


def test_hotline_check_names_a_turn_server_without_its_secret(tmp_path: Path) -> None:
    turn = Settings(data_dir=tmp_path, phone_engine="baresip", phone_turn_urls=["turn:t:3478"])
    assert any("HOTLINE_PHONE_TURN_URLS: no shared secret" in p for p in check_setup(turn))
    (tmp_path / "turn_secret").write_text("s3cret")
    assert not any("TURN" in problem for problem in check_setup(turn))
