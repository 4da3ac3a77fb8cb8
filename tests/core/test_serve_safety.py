"""``hotline serve`` and ``hotline worker`` as an operator runs them: every file they make is
their user's alone, and ``X-Forwarded-For`` is believed only from HOTLINE_TRUSTED_PROXIES."""

from __future__ import annotations

import io
import re
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, Served, add_user, env_for, hotline_bin

pytestmark = pytest.mark.slow


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 150), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _token(client: httpx.Client, page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(page).text)
    assert found, page
    return found.group(1)


def _open_to_others(data: Path) -> list[str]:
    found = []
    for path in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(data.parent)} {mode:o}")
    return found


def test_serve_makes_every_file_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Served(data)
    try:
        with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as citizen:
            sent = citizen.post(  # a letter to the director: every hotline has that form
                "/director",
                data={
                    "_csrf_token": _token(citizen, "/director"),
                    "description": "楼道灯坏了",
                    "phone": "13800138000",
                    "consent": "yes",
                },
                files=[("files", ("a.jpg", _photo(), "image/jpeg"))],
            )
            assert "tracking-number" in sent.text, sent.text[:400]
        password = add_user(data, "agent9", "agent")
        with httpx.Client(base_url=server.url, timeout=30) as staff:
            signed = staff.post(
                "/console/login",
                data={
                    "_csrf_token": _token(staff, "/console/login"),
                    "username": "agent9",
                    "password": password,
                },
            )
            assert signed.status_code == 303
    finally:
        server.stop()
    made = {p.name for p in data.rglob("*")}
    assert {"hotline.db", "secret_key", "sessions", "files"} <= made
    assert any(p.is_file() for p in (data / "files").rglob("*"))  # the photo was kept
    assert any((data / "sessions").iterdir())  # a session was kept
    assert _open_to_others(data) == []


def test_worker_and_migrate_make_private_files_and_serve_closes_an_open_dir(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    subprocess.run([hotline_bin(), "migrate"], env=env_for(data), cwd=ROOT, check=True, timeout=120)
    add_user(data, "agent7", "agent")
    worker = subprocess.Popen(
        [hotline_bin(), "worker", "--workers", "1"],
        env=env_for(data, HOTLINE_JOBS_IN_PROCESS="false"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(4)
    worker.terminate()
    worker.communicate(timeout=30)
    assert (data / "jobs.db").exists()
    assert _open_to_others(data) == []
    # a data directory made by hand, open to all, is closed at the next start
    data.chmod(0o755)
    (data / "hotline.db").chmod(0o644)
    server = Served(data)
    server.stop()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_systemd_units_set_a_private_umask() -> None:
    for unit in (ROOT / "deploy").glob("*.service"):
        assert "UMask=0077" in unit.read_text(), unit.name


def _failed_sign_in_keys(data: Path) -> list[str]:
    with sqlite3.connect(data / "hotline.db") as db:
        return [row[0] for row in db.execute("SELECT key FROM failed_attempts")]


def test_forwarded_for_from_an_untrusted_peer_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Served(data, HOTLINE_RATE_LIMIT_PER_MINUTE="5")
    try:
        codes = [
            httpx.get(
                server.url + "/api/v1/services", headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(7)
        ]
        # each forged address would have had its own five: one peer, one limit
        assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    finally:
        server.stop()
    server = Served(data)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.post(
                "/console/login",
                data={
                    "_csrf_token": _token(client, "/console/login"),
                    "username": "nobody",
                    "password": "wrong",
                },
                headers={"X-Forwarded-For": "198.51.100.7"},
            )
    finally:
        server.stop()
    keys = _failed_sign_in_keys(data)
    assert "ip:127.0.0.1" in keys and not any("198.51.100.7" in k for k in keys)


def test_forwarded_for_from_a_trusted_proxy_is_believed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Served(data, HOTLINE_RATE_LIMIT_PER_MINUTE="5", HOTLINE_TRUSTED_PROXIES="127.0.0.1/32")
    try:
        codes = [
            httpx.get(
                server.url + "/api/v1/services", headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(7)
        ]
        assert codes == [200] * 7  # seven clients behind the proxy, each within its limit
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.post(
                "/console/login",
                data={
                    "_csrf_token": _token(client, "/console/login"),
                    "username": "nobody",
                    "password": "wrong",
                },
                headers={"X-Forwarded-For": "198.51.100.7"},
            )
    finally:
        server.stop()
    assert "ip:198.51.100.7" in _failed_sign_in_keys(data)
