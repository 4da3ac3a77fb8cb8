"""baresip's control connection under a stall: a command baresip answers late is logged with
how long it took, and one it never answers fails after its time with a log line that says
when baresip last sent anything and what its threads are doing (which tells a stalled baresip
from a stalled hotline, and where baresip is stuck). A stand-in speaks the ctrl_tcp wire
protocol (netstrings of JSON): a real baresip cannot be made to stall on cue."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
import time

import pytest

from hotline.channels.phone.baresip import _user, line_id
from hotline.channels.phone.baresip_ctrl import Ctrl, netstring, split_netstrings
from hotline.channels.phone.baresip_process import threads_of
from tests.channels.phone.conftest import stacks_of
from tests.conftest import need


async def test_a_late_answer_is_logged_and_a_missing_one_fails_with_what_was_heard(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answered = []  # the first command is answered late, every other never

    async def baresip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = bytearray()
        writer.write(netstring({"event": True, "type": "REGISTER_OK"}))
        while data := await reader.read(4096):
            buffer += data
            for command in split_netstrings(buffer):
                if answered:
                    continue
                answered.append(command)
                await asyncio.sleep(1.3)
                answer = {"response": True, "ok": True, "data": "", "token": command["token"]}
                writer.write(netstring(answer))
                await writer.drain()

    server = await asyncio.start_server(baresip, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ctrl = Ctrl(lambda _event: None, on_stall=lambda: "threads: baresip S pipe_read 0")
    caplog.set_level(logging.WARNING, "hotline.channels.phone.baresip")
    try:
        await ctrl.connect("127.0.0.1", port)
        [late] = await ctrl.batch([("hangup", "")])
        assert late["ok"] is True
        assert re.search(r"baresip answered hangup after 1\.[3-9] s", caplog.text)
        with pytest.raises(TimeoutError):
            await ctrl.batch([("callfind", "x"), ("hangup", "")], within=1.0)
        assert "baresip did not answer callfind,hangup within 1 s;" in caplog.text
        assert re.search(r"it last sent anything 1\.[0-9] s ago; threads: baresip S", caplog.text)
    finally:
        await ctrl.close()
        server.close()
        await server.wait_closed()


def test_a_stalled_process_threads_are_described() -> None:
    """What each thread of a process is doing, as the stall's log line gives it: name, state,
    the kernel function it waits in, its system call (a sleeping ``sleep`` here)."""
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        for _ in range(100):  # until it is ``sleep`` (not the forked pytest before exec), asleep
            said = threads_of(sleeper.pid)
            if said.startswith("threads: sleep S "):
                break
            time.sleep(0.02)
        assert re.fullmatch(r"threads: sleep S \S+ \d+", said), said
    finally:
        sleeper.kill()
        sleeper.wait()
    assert threads_of(sleeper.pid) == ""  # gone: nothing to say


def test_a_stalled_process_stacks_name_where_each_thread_waits() -> None:
    """For the phone tests' report of a stuck baresip: each thread's stack, by function."""
    need(shutil.which("gdb") is not None, "gdb (Debian package gdb)")
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        for _ in range(100):
            if threads_of(sleeper.pid).startswith("threads: sleep S "):
                break
            time.sleep(0.02)
        stacks = stacks_of(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert stacks.startswith("Thread 1 ") and re.search(r"^#0 .*nanosleep", stacks, re.M), stacks
    assert stacks_of(sleeper.pid) == ""  # gone: nothing to say


def test_a_frame_with_bytes_that_are_not_utf8_is_read_and_its_strings_go_back_unchanged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """baresip passes a caller's bytes on as they came (here a GBK display name and Call-ID):
    the frame is read, not dropped, and a string taken from it is sent back byte for byte."""
    sent = b'{"event":true,"type":"CALL_INCOMING","peerdisplayname":"\xd5\xc5","id":"a\xd5b"}'
    buffer = bytearray(str(len(sent)).encode() + b":" + sent + b",")
    [event] = split_netstrings(buffer)
    assert event["type"] == "CALL_INCOMING" and not buffer
    framed = netstring({"command": "callfind", "params": event["id"]})
    assert b'"params": "a\xd5b"' in framed
    # a frame that is not JSON is logged by its size alone: it holds callers' numbers
    bad = b'{"peeruri":"sip:+8613912345678@pbx"'
    assert split_netstrings(bytearray(str(len(bad)).encode() + b":" + bad + b",")) == []
    assert "+8613912345678" not in caplog.text and f"{len(bad)} bytes" in caplog.text


def test_a_callers_user_part_and_call_id_are_kept_storable() -> None:
    assert _user("sip:+8613912345678@pbx") == "+8613912345678"
    assert _user("sip:+86139\udcd5\x01@pbx") == "+86139\ufffd\ufffd"
    assert line_id("abc@pbx") == "abc@pbx"
    named = {line_id(ref) for ref in ("a" * 64 + "1", "a" * 64 + "2", "x\udcd5", "x\r\n")}
    assert len(named) == 4 and all(n.isprintable() and len(n) <= 64 for n in named)
