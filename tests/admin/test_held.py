"""Held messages in the console: read as they came (audited), tried again, made a case of by
hand, dismissed; nothing is lost on the way."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.intake.held import hold_message, resolve
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.intake import HeldMessage
from hotline.core.storage.models.people import AuditEntry
from tests.admin.conftest import sign_in
from tests.conftest import seed_city

FIXTURES = Path(__file__).resolve().parents[2] / "channels" / "email" / "fixtures"


def post(client: TestClient[Any], path: str, **data: str) -> Any:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text)
    assert found
    return client.post(path, data={"_csrf_token": found.group(1), **data}, follow_redirects=False)


def test_a_person_resolves_every_held_message(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx
    unreadable = (FIXTURES / "28_no_sender.eml").read_bytes()
    readable = (FIXTURES / "01_plain_zh.eml").read_bytes()

    async def make() -> list[int]:
        await seed_city(ctx)
        return [
            await hold_message(ctx, "email", unreadable, "unreadable: no sender", source="public"),
            await hold_message(ctx, "email", readable, "refused: text: too_long", source="public"),
            await hold_message(ctx, "email", b"buy cheap watches", "unreadable: empty"),
        ]

    no_sender, fixed_meanwhile, spam = client.blocking_portal.call(make)
    sign_in(client, "agent1")
    listed = BeautifulSoup(client.get("/console/held").text, "html.parser").find(id="held")
    assert len(listed.select("tbody tr")) == 3 and "no sender" in listed.get_text()

    page = BeautifulSoup(client.get(f"/console/held/{no_sender}").text, "html.parser")
    assert "no From header at all" in page.find(id="raw").get_text()

    made = post(
        client,
        f"/console/held/{no_sender}/case",
        text="市民来信未署名，反映小区路灯问题",
        kind="complaint",
    )
    assert made.status_code == 303 and made.headers["location"].startswith("/console/cases/")
    assert (
        post(client, f"/console/held/{fixed_meanwhile}/retry")
        .headers["location"]
        .endswith("done=retry")
    )
    assert post(client, f"/console/held/{spam}/dismiss").status_code == 303
    assert "error=resolved" in post(client, f"/console/held/{spam}/dismiss").headers["location"]

    async def state() -> tuple[list[tuple[str, bool]], list[str], list[str]]:
        async with ctx.db.session() as s:
            held = [
                (h.state, h.case_id is not None)
                for h in await s.scalars(select(HeldMessage).order_by(HeldMessage.id))
            ]
            texts = sorted(await s.scalars(select(Case.description)))
            audits = list(await s.scalars(select(AuditEntry.action)))
        return held, texts, audits

    held, texts, audits = client.blocking_portal.call(state)
    assert held == [("case", True), ("case", False), ("dismissed", False)]
    assert texts == ["人民路路灯坏了三天，晚上很黑。", "市民来信未署名，反映小区路灯问题"]
    assert "held_message_read" in audits
    empty = BeautifulSoup(client.get("/console/held").text, "html.parser").find(id="held")
    assert "None." in empty.get_text()


def test_the_directors_held_mail_is_sealed_like_its_letters(client: TestClient[Any]) -> None:
    """An unreadable letter to the director waits for the director's office alone: the
    hotline's agents neither list nor read it, a refused attempt is audited."""
    ctx = client.app.state.ctx
    letter = (FIXTURES / "28_no_sender.eml").read_bytes()

    async def make() -> tuple[int, int]:
        await seed_city(ctx)
        sealed = await hold_message(
            ctx, "email", letter, "unreadable: no sender", source="director"
        )
        public = await hold_message(ctx, "email", b"From: x\r\n\r\nhi", "unreadable: no sender")
        return sealed, public

    sealed, public = client.blocking_portal.call(make)
    sign_in(client, "agent1")
    rows = BeautifulSoup(client.get("/console/held").text, "html.parser").select("#held tbody tr")
    assert len(rows) == 1 and f"/console/held/{public}" in str(rows[0])
    assert client.get(f"/console/held/{sealed}").status_code == 404
    assert post(client, f"/console/held/{sealed}/dismiss").status_code == 404
    assert client.get("/console/office/held").status_code == 403
    client.get("/console/logout")

    sign_in(client, "director_office1")
    listed = BeautifulSoup(client.get("/console/office/held").text, "html.parser")
    assert [a["href"] for a in listed.select("#held tbody a")] == [f"/console/office/held/{sealed}"]
    assert client.get(f"/console/office/held/{public}").status_code == 404
    page = BeautifulSoup(client.get(f"/console/office/held/{sealed}").text, "html.parser")
    assert "no From header at all" in page.find(id="raw").get_text()
    made = post(
        client,
        f"/console/office/held/{sealed}/case",
        text="致局长的信，未署名",
        kind="complaint",
    )
    assert made.headers["location"].startswith("/console/mailbox/")

    async def state() -> tuple[list[tuple[str, bool]], list[str]]:
        async with ctx.db.session() as s:
            cases = [(c.kind, c.sealed) for c in await s.scalars(select(Case))]
            audits = list(await s.scalars(select(AuditEntry.action)))
        return cases, audits

    cases, audits = client.blocking_portal.call(state)
    assert cases == [("director_mailbox", True)]  # sealed whatever kind the form said
    assert "access_refused" in audits


def test_a_resolved_message_read_again_does_not_wait_again(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx
    raw = (FIXTURES / "28_no_sender.eml").read_bytes()

    async def run() -> tuple[int, int, int]:
        first = await hold_message(ctx, "email", raw, "unreadable: no sender", source="public")
        await resolve(ctx, first, "dismissed", "agent1")
        again = await hold_message(ctx, "email", raw, "unreadable: no sender", source="public")
        async with ctx.db.session() as s:
            waiting = len(
                list(await s.scalars(select(HeldMessage).where(HeldMessage.state == "waiting")))
            )
        return first, again, waiting

    first, again, waiting = client.blocking_portal.call(run)
    assert again == first and waiting == 0
