"""The server's log as an operator meets it: JSON lines into a file or journal, readable lines at
a terminal, no colour codes and nothing personal in either."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import httpx

from tests.processes import ROOT, Served, env_for, free_port, hotline_bin

PHONE = "13800001111"


def test_not_a_terminal_gets_json_lines_without_colour_codes(tmp_path: Path) -> None:
    server = Served(tmp_path, HOTLINE_LOG_LEVEL="INFO")
    try:
        httpx.get(f"{server.url}/healthz", params={"phone": PHONE})
        httpx.get(f"{server.url}/track", params={"phone": PHONE, "name": "王小明"})
    finally:
        _out, err = server.stop()
    lines = [line for line in err.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line one JSON object
    messages = [event["msg"] for event in events]
    assert any(message.startswith("Application startup complete") for message in messages)
    assert any(event.get("path") == "/track" for event in events)
    assert "\x1b" not in err and "\\u001b" not in err and "color_message" not in err
    assert PHONE not in err and "王小明" not in err


def _serve_on_a_terminal(data_dir: Path, **env: str) -> str:
    """``hotline serve`` with its stderr on a pseudo-terminal; what it wrote there."""
    port = free_port()
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [hotline_bin(), "serve", "--port", str(port)],
        env=env_for(data_dir, HOTLINE_LOG_LEVEL="INFO", **env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"Application startup complete" not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                seen += os.read(leader, 65536)
        httpx.get(f"http://127.0.0.1:{port}/healthz", params={"phone": PHONE})
        end = time.monotonic() + 3
        while time.monotonic() < end:
            if select.select([leader], [], [], 0.3)[0]:
                seen += os.read(leader, 65536)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        os.close(leader)
    return seen.decode("utf-8", "replace")


def test_a_terminal_gets_one_readable_line_an_event_unless_json_is_asked(tmp_path: Path) -> None:
    text = _serve_on_a_terminal(tmp_path / "text")
    lines = [line for line in text.replace("\r", "").splitlines() if line.strip()]
    assert lines and not any(line.startswith("{") for line in lines)
    running = [line for line in lines if "Application startup complete" in line]
    assert len(running) == 1 and " INFO " in running[0] and "uvicorn.error" in running[0]
    request = [line for line in lines if "path=/healthz" in line]
    assert len(request) == 1 and "status=200" in request[0] and "method=GET" in request[0]
    assert "\x1b" not in text and PHONE not in text

    asked = _serve_on_a_terminal(tmp_path / "json", HOTLINE_LOG_FORMAT="json")
    events = [json.loads(line) for line in asked.replace("\r", "").splitlines() if line.strip()]
    assert any(event["msg"].startswith("Application startup complete") for event in events)
    assert "\x1b" not in asked and "\\u001b" not in asked
