"""Machine faults as citizens and staff meet them, on a served app: a locked SQLite database
and a full disk (PostgreSQL's lock timeout and PostgreSQL gone: ``test_faults_postgres.py``).

Each fault is a 503 with Retry-After (the portal's page keeps what the citizen typed, in a form
to send again; JSON on the API; Open311's error list), one log line per fault kind however
many requests fail, /readyz not ready while the data directory cannot be written, and
recovery without a restart. Afterwards the cases are counted: every submission that got a
tracking number is there exactly once, and nothing that was refused was lost (sent again, it
got its number).
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from hotline.core.foundation.settings import Settings
from hotline.core.people.accounts import hash_password
from hotline.core.storage.enums import Role
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from tests.conftest import need, seed_city, sqlite_app_settings
from tests.liveapp import LiveApp

PASSWORD = "correct horse battery staple"


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 90, 60)).save(out, "JPEG")
    return out.getvalue()


PHOTO = _photo()


def _quiet(settings: Settings, lock_timeout: float = 0.3) -> Settings:
    settings.db_lock_timeout_seconds = lock_timeout
    for limit in ("rate_limit_per_minute", "form_posts_per_minute", "console_posts_per_minute"):
        setattr(settings, limit, 10**6)
    return settings


async def _seed(ctx: Any) -> None:
    await seed_city(ctx)
    async with ctx.db.transaction() as s:
        s.add(
            User(
                username="agent1",
                display_name="A",
                role=Role.AGENT,
                password_hash=hash_password(PASSWORD),
            )
        )


def _token(client: httpx.Client, page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(page).text)
    assert found, page
    return found.group(1)


def submit(client: httpx.Client, text: str, phone: str, photo: bool = True) -> httpx.Response:
    """The portal's form for a pothole, as a browser sends it (with a photo)."""
    data = {
        "_csrf_token": _token(client, "/services/pothole"),
        "kind": "complaint",
        "description": text,
        "phone": phone,
        "consent": "yes",
    }
    files = [("files", ("hole.jpg", PHOTO, "image/jpeg"))] if photo else None
    return client.post("/services/pothole", data=data, files=files)


def tracking_number(response: httpx.Response) -> str | None:
    if response.status_code != 200 or "tracking-number" not in response.text:
        return None
    found = BeautifulSoup(response.text, "html.parser").find(id="tracking-number")
    return found.get_text().replace(" ", "") if found else None


def send_again(client: httpx.Client, page: httpx.Response, photo: bool = True) -> httpx.Response:
    """What the citizen does on the fault page: press "send again" (attaching the photo again)."""
    form = BeautifulSoup(page.text, "html.parser").find("form", id="send-again")
    assert form is not None, page.text[:500]
    data: dict[str, str] = {}
    for field in form.find_all(["input", "textarea"]):
        if field.get("type") == "file" or not field.get("name"):
            continue
        data[field["name"]] = (
            field.get_text() if field.name == "textarea" else field.get("value", "")
        )
    files = (
        [("files", ("hole.jpg", PHOTO, "image/jpeg"))]
        if photo and form.find("input", type="file")
        else None
    )
    return client.post(form["action"], data=data, files=files)


def assert_fault_page(response: httpx.Response, kept_text: str) -> None:
    assert response.status_code == 503, response.text[:300]
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    page = BeautifulSoup(response.text, "html.parser")
    kept = [t.get_text() for t in page.select("#send-again textarea")]
    assert kept_text in kept  # what the citizen typed is there to send again
    assert page.find(id="reference") is not None


def fault_lines(caplog: pytest.LogCaptureFixture, kind: str) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "hotline.faults" and getattr(r, "fault", "") == kind
    ]


async def _web_cases(ctx: Any) -> list[str]:
    async with ctx.db.session() as s:
        return list(
            await s.scalars(select(Case.tracking_number).where(Case.first_channel == "web"))
        )


def assert_each_once(live: LiveApp, numbers: list[str], expected: int) -> None:
    stored = live.call(_web_cases)
    assert len(numbers) == expected and len(set(numbers)) == expected
    assert sorted(stored) == sorted(numbers)  # none lost, none doubled


@pytest.fixture
def sqlite_live(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveApp]:
    live = LiveApp(_quiet(sqlite_app_settings(tmp_path, sqlite_template)))
    live.call(_seed)
    yield live
    live.stop()


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another process's writer holding SQLite's write lock past the busy timeout."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_locked_sqlite_answers_503_and_loses_nothing(
    sqlite_live: LiveApp, caplog: pytest.LogCaptureFixture
) -> None:
    live = sqlite_live
    db = live.ctx.settings.data_dir / "hotline.db"
    citizens = [
        httpx.Client(base_url=live.url, timeout=30, follow_redirects=True) for _ in range(4)
    ]
    staff = httpx.Client(base_url=live.url, timeout=30, follow_redirects=True)
    signed = staff.post(
        "/console/login",
        data={
            "_csrf_token": _token(staff, "/console/login"),
            "username": "agent1",
            "password": PASSWORD,
        },
    )
    assert signed.status_code == 200
    first = tracking_number(submit(citizens[0], "人民路有个大坑", "13800138000"))
    assert first
    case_token = _token(staff, f"/console/cases/{first}")  # opening a case is audited: a write

    lock = _hold_write_lock(db)
    try:
        refused = []
        for i, client in enumerate(citizens):
            page = submit(client, f"第{i}个路灯不亮", f"1390013900{i}")
            assert_fault_page(page, f"第{i}个路灯不亮")
            refused.append(page)
        assert live.url and httpx.get(live.url + "/readyz").status_code == 200  # reads go on
        # the console keeps the agent's typed answer the same way
        answer = staff.post(
            f"/console/cases/{first}/answer",
            data={"_csrf_token": case_token, "answer": "已派人修补"},
        )
        assert_fault_page(answer, "已派人修补")
    finally:
        lock.rollback()
        lock.close()
    assert len(fault_lines(caplog, "database_locked")) == 1  # five failures, one line

    numbers = [first] + [
        tracking_number(send_again(c, p)) for c, p in zip(citizens, refused, strict=True)
    ]
    assert all(numbers)
    # sending again twice (a double click on the fault page) makes no second case
    assert tracking_number(send_again(citizens[0], refused[0])) == numbers[1]
    assert_each_once(live, [n for n in numbers if n], 5)


def test_citizens_under_a_flapping_lock_get_one_case_each(sqlite_live: LiveApp) -> None:
    """Citizens submit while another writer takes and drops the lock; each keeps pressing
    "send again" on the fault page until a number comes: one case each, none lost."""
    live = sqlite_live
    db = live.ctx.settings.data_dir / "hotline.db"
    stop = threading.Event()

    def flap() -> None:
        while not stop.is_set():
            lock = _hold_write_lock(db)
            time.sleep(1.2)
            lock.rollback()
            lock.close()
            time.sleep(0.3)

    results: dict[tuple[int, int], str | None] = {}
    faults: list[int] = []

    def citizen(i: int) -> None:
        with httpx.Client(base_url=live.url, timeout=30, follow_redirects=True) as client:
            for n in range(2):
                page = submit(client, f"小区{i}号楼第{n}次噪声扰民", f"1370013700{i}")
                for _ in range(40):
                    if tracking_number(page) or page.status_code != 503:
                        break
                    faults.append(i)
                    time.sleep(0.2)
                    page = send_again(client, page)
                results[(i, n)] = tracking_number(page)

    locker = threading.Thread(target=flap)
    locker.start()
    workers = [threading.Thread(target=citizen, args=(i,)) for i in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(180)
    stop.set()
    locker.join(10)
    numbers = list(results.values())
    assert len(numbers) == 12 and all(numbers), results
    assert faults  # the lock did refuse some, and they were sent again
    assert_each_once(live, [n for n in numbers if n], 12)


def _mounted_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
    )
    return done.returncode == 0


def _fill(directory: Path) -> Path:
    """Take every free byte of the file system (big writes, then smaller to the last byte)."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def full_disk_live(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveApp]:
    data = tmp_path / "data"
    need(_mounted_tmpfs(data, "24m"), "root and mount, to put the data directory on a small tmpfs")
    try:
        live = LiveApp(_quiet(sqlite_app_settings(tmp_path, sqlite_template)))
        live.call(_seed)
        yield live
        live.stop()
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def test_full_disk_answers_503_is_not_ready_and_recovers(
    full_disk_live: LiveApp, caplog: pytest.LogCaptureFixture
) -> None:
    live = full_disk_live
    data = live.ctx.settings.data_dir
    citizens = [
        httpx.Client(base_url=live.url, timeout=30, follow_redirects=True) for _ in range(3)
    ]
    staff = httpx.Client(base_url=live.url, timeout=30, follow_redirects=True)
    assert httpx.get(live.url + "/readyz").json()["data_dir"] == "writable"
    first = tracking_number(submit(citizens[0], "桥下积水", "13600136000"))
    assert first
    login_token = _token(staff, "/console/login")

    filler = _fill(data)
    try:
        ready = httpx.get(live.url + "/readyz")
        assert ready.status_code == 503 and "ENOSPC" in ready.json()["data_dir"]
        refused = []
        for i, client in enumerate(citizens):
            page = submit(client, f"第{i}处井盖缺失", f"1350013500{i}")
            assert_fault_page(page, f"第{i}处井盖缺失")
            refused.append(page)
        # a staff sign-in needs its session written: refused the same way, not a bare 500
        signed = staff.post(
            "/console/login",
            data={"_csrf_token": login_token, "username": "agent1", "password": PASSWORD},
        )
        assert signed.status_code == 503 and "retry-after" in signed.headers
        assert len(fault_lines(caplog, "storage_full")) == 1
    finally:
        filler.unlink()
    ready = httpx.get(live.url + "/readyz")
    assert ready.status_code == 200  # without a restart
    numbers = [first] + [
        tracking_number(send_again(c, p)) for c, p in zip(citizens, refused, strict=True)
    ]
    assert all(numbers)
    assert_each_once(live, [n for n in numbers if n], 4)


def test_fault_log_writes_one_line_per_kind_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    from hotline.core.shell.faults import Fault, FaultLog

    faults = FaultLog(interval=0.3)
    error = OSError(28, "No space left on device")
    for _ in range(50):
        faults.report(Fault.STORAGE_FULL, "here", error)
    faults.report(Fault.DATABASE_LOCKED, "there", sqlite3.OperationalError("database is locked"))
    time.sleep(0.35)
    faults.report(Fault.STORAGE_FULL, "here", error)
    lines = [(r.fault, r.suppressed) for r in caplog.records if r.name == "hotline.faults"]
    assert lines == [("storage_full", 0), ("database_locked", 0), ("storage_full", 49)]
    assert "No space" not in caplog.text  # the kind and the type, never the message
