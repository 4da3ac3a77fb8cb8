"""The ``hotline`` command as a newcomer meets it."""

from __future__ import annotations

import asyncio
import stat
import subprocess
from pathlib import Path

import httpx
from sqlalchemy import select

from hotline.core.people.accounts import verify_password
from hotline.core.storage import migrate
from hotline.core.storage.db import Database
from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import Department
from tests.processes import ROOT, Served, env_for, hotline_bin


def run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hotline_bin(), *args],
        env=env_for(data_dir, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_lists_every_bad_setting_one_line_each(tmp_path: Path) -> None:
    bad = run(
        ["check"],
        tmp_path,
        HOTLINE_PORT="eighty",
        HOTLINE_DATABASE_URL="mysql://db/hotline",
        HOTLINE_TIMEZONE="Mars/Olympus",
    )
    assert bad.returncode == 1
    lines = bad.stdout.strip().splitlines()
    assert len(lines) == 3, lines
    assert {line.split(":")[0] for line in lines} == {
        "HOTLINE_DATABASE_URL",
        "HOTLINE_TIMEZONE",
        "HOTLINE_PORT",
    }
    good = run(["check"], tmp_path)
    assert good.returncode == 0 and "settings ok" in good.stdout


def test_check_reads_the_data_dir_file(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "hotline.env").write_text("HOTLINE_EVENTS_BACKEND=redis\n")
    result = run(["check"], tmp_path)
    assert result.returncode == 1 and "HOTLINE_REDIS_URL" in result.stdout


def test_check_knows_settings_that_do_not_fit_together(tmp_path: Path) -> None:
    result = run(["check"], tmp_path, HOTLINE_JOBS_IN_PROCESS="false")
    assert result.returncode == 1
    assert result.stdout.startswith("HOTLINE_EVENTS_BACKEND: 'memory' cannot carry events")


def test_plugins_lists_plugins_and_their_hooks(tmp_path: Path) -> None:
    result = run(["plugins"], tmp_path)
    assert result.returncode == 0
    assert "hotline.plugins.routing: route_case" in result.stdout
    assert "hotline.portal: register_routes, register_templates" in result.stdout
    disabled = run(["plugins"], tmp_path, HOTLINE_DISABLED_PLUGINS="hotline.portal")
    assert "hotline.portal" not in disabled.stdout


def test_first_start_creates_migrates_and_shows_the_password_once(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "hotline-data"
    server = Served(data)
    try:
        assert httpx.get(server.url + "/readyz").json()["status"] == "ready"
    finally:
        out, err = server.stop()
    assert f"created data directory {data.resolve()}" in out
    assert f"running at http://127.0.0.1:{server.port}/" in out
    password = next(
        line.split(": ")[-1] for line in out.splitlines() if "administrator password" in line
    )
    assert len(password) >= 12 and password not in err
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o600

    async def stored_hash() -> str:
        db = Database(f"sqlite+aiosqlite:///{data / 'hotline.db'}")
        async with db.session() as s:
            user = await s.scalar(select(User).where(User.username == "admin"))
        await db.dispose()
        assert user is not None and user.role == "administrator"
        return user.password_hash

    password_hash = asyncio.run(stored_hash())
    assert password_hash.startswith("$argon2") and verify_password(password_hash, password)
    assert password.encode() not in (data / "hotline.db").read_bytes()

    again = Served(data)
    out2, _ = again.stop()
    assert "administrator password" not in out2 and "created data directory" not in out2


def test_migrate_and_downgrade_from_the_command(tmp_path: Path) -> None:
    up = run(["migrate"], tmp_path)
    assert up.returncode == 0 and f"revision {migrate.head_revision()}" in up.stdout
    down = run(["migrate", "--downgrade", "base"], tmp_path)
    assert down.returncode == 0 and "revision base" in down.stdout


def test_api_keys_are_issued_listed_and_revoked(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    added = run(["api-key", "add", "Fix My Street"], tmp_path)
    key = added.stdout.strip().rsplit(" ", 1)[-1]
    prefix = key.split(".")[0]
    assert added.returncode == 0 and len(key) > 30
    listed = run(["api-key", "list"], tmp_path).stdout
    assert f"{prefix}  Fix My Street  active" in listed and key not in listed
    assert run(["api-key", "revoke", prefix], tmp_path).returncode == 0
    assert "revoked" in run(["api-key", "list"], tmp_path).stdout
    assert run(["api-key", "revoke", prefix], tmp_path).returncode == 1


def test_user_add_puts_department_people_in_their_department(tmp_path: Path) -> None:
    assert run(["demo-data", "--days", "1", "--per-day", "1"], tmp_path).returncode == 0
    unknown = run(["user", "add", "qian", "department_officer", "--department", "mars"], tmp_path)
    assert unknown.returncode == 2 and "no department mars" in unknown.stderr
    added = run(
        ["user", "add", "qian", "department_officer", "--department", "transport"], tmp_path
    )
    assert added.returncode == 0, added.stderr

    async def read() -> tuple[str | None, ...]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
        try:
            async with db.session() as s:
                user = await s.scalar(select(User).where(User.username == "qian"))
                assert user is not None
                code = await s.scalar(
                    select(Department.code).where(Department.id == user.department_id)
                )
                return (user.role, code)
        finally:
            await db.dispose()

    assert asyncio.run(read()) == ("department_officer", "transport")


def test_check_names_bad_mail_settings(tmp_path: Path) -> None:
    bad = run(
        ["check"],
        tmp_path,
        HOTLINE_IMAP_PUBLIC_URL="pop3://clerk:s3cret-pw@mail.example.cn",
        HOTLINE_SMTP_URL="mail.example.cn:25",
    )
    assert bad.returncode == 1
    assert "HOTLINE_IMAP_PUBLIC_URL" in bad.stdout and "HOTLINE_SMTP_URL" in bad.stdout
    assert "s3cret-pw" not in bad.stdout + bad.stderr  # the password is never echoed
