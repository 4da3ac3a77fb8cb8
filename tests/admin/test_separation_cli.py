"""Separation of duties at the command line: ``hotline user ...`` acts at once (setting up the
director's office, an emergency), each change audited as ``cli:<operator>`` and told to the
office when it touches its rights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.people.permissions import Permission
from hotline.core.storage.models.people import AuditEntry
from hotline.core.storage.models.workflow import Notice
from tests.admin.conftest import sign_in
from tests.admin.test_separation import call, db, office_notices, permissions, setup


def test_the_command_line_does_it_at_once_audited_and_tells_the_office(
    client: TestClient[Any], tmp_path: Path
) -> None:
    from hotline.core.people.rights import EDIT, GRANT, RESET_PASSWORD, Change
    from hotline.core.people.separation import change_at_command_line

    ids = setup(client)
    ctx = client.app.state.ctx
    call(
        client,
        lambda: change_at_command_line(
            ctx, Change(EDIT, ids["agent1"], {"role": "director_office"}), "root"
        ),
    )
    call(
        client,
        lambda: change_at_command_line(
            ctx, Change(GRANT, ids["supervisor1"], {"permission": "director.mailbox"}), "root"
        ),
    )
    reset = call(
        client,
        lambda: change_at_command_line(
            ctx, Change(RESET_PASSWORD, ids["director_office1"]), "root"
        ),
    )
    assert reset.password and len(reset.password) >= 12
    assert Permission.DIRECTOR_MAILBOX in permissions(client, "agent1")
    assert Permission.DIRECTOR_MAILBOX in permissions(client, "supervisor1")
    assert [k for k, _ in office_notices(client)] == ["rights_changed"] * 3

    async def labels() -> list[str]:
        async with db(client).session() as s:
            return list(await s.scalars(select(AuditEntry.actor_label)))

    assert call(client, labels) == ["cli:root"] * 3
    client.cookies.clear()
    assert (
        sign_in(client, "director_office1", reset.password).headers["location"]
        == "/console/password"
    )


def test_hotline_user_commands(tmp_path: Path) -> None:
    """The commands as an operator types them, on a real data directory."""
    from tests.core.test_cli import run

    assert run(["demo-data", "--days", "1", "--per-day", "1"], tmp_path).returncode == 0
    added = run(["user", "add", "zhou", "agent"], tmp_path)
    assert added.returncode == 0 and "shown once" in added.stdout
    assert run(["user", "role", "zhou", "director_office"], tmp_path).returncode == 0
    assert run(["user", "grant", "zhou", "supervise"], tmp_path).returncode == 0
    assert run(["user", "revoke", "zhou", "supervise"], tmp_path).returncode == 0
    reset = run(["user", "reset-password", "zhou"], tmp_path)
    assert reset.returncode == 0 and "shown once" in reset.stdout
    assert run(["user", "reset-totp", "zhou"], tmp_path).returncode == 0
    rows = [line.split() for line in run(["user", "list"], tmp_path).stdout.splitlines()]
    assert ["zhou", "director_office"] in [row[:2] for row in rows]
    wrong = run(["user", "grant", "zhou", "everything"], tmp_path)
    assert wrong.returncode == 2 and "director.mailbox" in wrong.stderr
    assert run(["user", "role", "nobody", "agent"], tmp_path).returncode == 2

    import asyncio

    from hotline.core.storage.db import Database

    async def read() -> tuple[list[str], list[str]]:
        base = Database(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
        try:
            async with base.session() as s:
                labels = list(await s.scalars(select(AuditEntry.actor_label)))
                kinds = list(
                    await s.scalars(
                        select(Notice.kind).where(
                            Notice.role == "director_office", Notice.kind.like("rights%")
                        )
                    )
                )
            return labels, kinds
        finally:
            await base.dispose()

    labels, kinds = asyncio.run(read())
    assert len(labels) == 6 and all(label.startswith("cli:") for label in labels)
    assert len(kinds) == 3  # into the office, and the two resets of an office account
