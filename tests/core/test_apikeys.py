"""Open311 API keys: keyed digests checked in constant time on the event loop; keys issued
before (argon2) keep working, verified off the event loop, and move to a digest at first use."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

import hotline.core.people.apikeys as apikeys
from hotline.core.foundation.settings import Settings
from hotline.core.people.accounts import hash_password
from hotline.core.people.apikeys import check_key, issue_key, legacy_key_notes, revoke_key
from hotline.core.shell.context import AppContext, open_context
from hotline.core.storage import migrate
from hotline.core.storage.models.people import ApiClient, AuditEntry


async def _client(ctx: AppContext, prefix: str) -> ApiClient:
    async with ctx.db.session() as s:
        client = await s.scalar(select(ApiClient).where(ApiClient.key_prefix == prefix))
        assert client is not None
        return client


async def _legacy(ctx: AppContext, name: str = "Old app") -> str:
    """A key as the hotline issued them before revision 0014: argon2, no digest."""
    key = "0a1b2c3d.AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    async with ctx.db.transaction() as s:
        s.add(ApiClient(name=name, key_prefix=key[:8], key_hash=hash_password(key)))
    return key


async def test_a_new_key_is_kept_as_a_keyed_digest_only(ctx: AppContext) -> None:
    key = await issue_key(ctx, "Fix My Street")
    stored = await _client(ctx, key[:8])
    assert stored.key_hash is None and stored.key_digest is not None
    assert key.split(".")[1] not in stored.key_digest and len(stored.key_digest) == 64
    # the digest is keyed: the same key under another secret gives another digest
    assert apikeys.key_digest("another secret", key) != stored.key_digest
    assert (await check_key(ctx, key)) is not None
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
    for refused in (wrong, key[:8], "", "zzzzzzzz.abc", key + "x" * 100, "ffffffff" + key[8:]):
        assert await check_key(ctx, refused) is None
    assert await revoke_key(ctx, key[:8])
    assert await check_key(ctx, key) is None


async def test_an_argon2_key_keeps_working_and_moves_to_a_digest(ctx: AppContext) -> None:
    key = await _legacy(ctx)
    notes = await asyncio.to_thread(legacy_key_notes, ctx.settings)  # as `hotline check`
    assert notes[0].startswith("note: 1 Open311 API key") and key[:8] in notes[0]
    assert await check_key(ctx, key) is not None
    stored = await _client(ctx, key[:8])
    assert stored.key_hash is None and stored.key_digest is not None
    assert await check_key(ctx, key) is not None  # now by its digest
    assert await asyncio.to_thread(legacy_key_notes, ctx.settings) == []
    async with ctx.db.session() as s:
        actions = list(await s.scalars(select(AuditEntry.action)))
    assert "api_key.rehashed" in actions


async def test_an_argon2_check_never_holds_the_event_loop(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an old key is being verified, the loop answers other work (before: every request
    in the process waited 0.35 s behind each Open311 post)."""
    key = await _legacy(ctx)
    entered, release = threading.Event(), threading.Event()
    real = apikeys.verify_password

    def held_verify(stored: str, given: str) -> bool:
        entered.set()
        release.wait(10)
        return real(stored, given)

    monkeypatch.setattr(apikeys, "verify_password", held_verify)
    checking = asyncio.create_task(check_key(ctx, key))
    assert await asyncio.to_thread(entered.wait, 10)
    async with ctx.db.session() as s:  # other work goes on meanwhile
        assert await s.scalar(select(ApiClient.name)) == "Old app"
    assert not checking.done()
    release.set()
    assert (await checking) is not None


async def test_wrong_secrets_for_an_argon2_prefix_are_throttled(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await _legacy(ctx)
    monkeypatch.setattr(apikeys, "_legacy_failures", {})
    calls = []
    real = apikeys.verify_password

    def counted(stored: str, given: str) -> bool:
        calls.append(given)
        return real(stored, given)

    monkeypatch.setattr(apikeys, "verify_password", counted)
    for n in range(apikeys.LEGACY_TRIES_PER_MINUTE + 3):
        assert await check_key(ctx, key[:9] + f"{n:02d}" + key[11:]) is None
    assert len(calls) == apikeys.LEGACY_TRIES_PER_MINUTE  # the rest were refused unhashed
    assert await check_key(ctx, key) is None  # for a minute, even the right one
    monkeypatch.setattr(apikeys, "_legacy_failures", {})
    assert await check_key(ctx, key) is not None


def test_argon2_keys_survive_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "hotline.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url, "0013")
    key = "0a1b2c3d.AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO api_clients (name, key_prefix, key_hash, active, created_at)"
            " VALUES ('Old app', ?, ?, 1, '2026-01-01 00:00:00')",
            (key[:8], hash_password(key)),
        )
    migrate.upgrade(url)
    settings = Settings(data_dir=tmp_path, database_url=url, secret_key="s" * 32)

    async def use() -> str:
        async with open_context(settings) as ctx:
            assert await check_key(ctx, key) is not None
            return await issue_key(ctx, "New app")

    new_key = asyncio.run(use())
    migrate.downgrade(url, "0013")  # keys kept only as digests cannot go back: refused
    with sqlite3.connect(path) as db:
        hashes = dict(db.execute("SELECT key_prefix, key_hash FROM api_clients"))
    assert hashes == {key[:8]: "!", new_key[:8]: "!"}


def test_hotline_check_notes_keys_still_on_argon2(tmp_path: Path) -> None:
    from tests.core.test_cli import run

    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    with sqlite3.connect(tmp_path / "hotline.db") as db:
        db.execute(
            "INSERT INTO api_clients (name, key_prefix, key_hash, active, created_at)"
            " VALUES ('Old app', '0a1b2c3d', ?, 1, '2026-01-01 00:00:00')",
            (hash_password("0a1b2c3d.AbCdEfGhIjKlMnOpQrStUvWxYz012345"),),
        )
    result = run(["check"], tmp_path)
    assert result.returncode == 0, result.stdout  # worth knowing, not a fault
    note = next(line for line in result.stdout.splitlines() if "argon2" in line)
    assert note.startswith("note: 1 Open311 API key") and "0a1b2c3d" in note
    listed = run(["api-key", "list"], tmp_path).stdout
    assert "0a1b2c3d  Old app  active  argon2" in listed
