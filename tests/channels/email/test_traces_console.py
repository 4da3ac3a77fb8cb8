"""Ignored mail and duplicates in the console: the hotline's agents and supervisors see the
public mailbox's, the director's office alone the director's mailbox's, departments none;
each list and message opened is audited; an agent makes a case of a citizen's reply that was
wrongly marked bulk; the purge job removes traces after the set days and their bytes when
nothing else holds them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select, update

from hotline.channels.email.process import process_message
from hotline.core.intake.traces import purge_traces
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, Interaction
from hotline.core.storage.models.intake import MessageTrace
from hotline.core.storage.models.people import AuditEntry
from tests.admin.conftest import sign_in
from tests.conftest import seed_city

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
FIXTURES = HERE.parents[2] / "channels" / "email" / "fixtures"


def post(client: TestClient[Any], path: str) -> Any:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text)
    assert found
    return client.post(path, data={"_csrf_token": found.group(1)}, follow_redirects=False)


def listed(client: TestClient[Any], path: str) -> list[str]:
    page = BeautifulSoup(client.get(path).text, "html.parser")
    return [row["data-reason"] for row in page.select("#traces tbody tr[data-reason]")]


def setup(client: TestClient[Any]) -> dict[str, int]:
    ctx = client.app.state.ctx

    async def make() -> dict[str, int]:
        await seed_city(ctx)
        bulk = (CORPUS / "a09_human_reply_marked_bulk.eml").read_bytes()
        copy = (CORPUS / "s14_reused_message_id_a.eml").read_bytes()
        assert (await process_message(ctx, bulk, purpose="public")).kind == "ignored"
        await process_message(ctx, (CORPUS / "a04_list_id.eml").read_bytes(), purpose="public")
        assert (await process_message(ctx, copy, purpose="public")).kind == "case"
        assert (await process_message(ctx, copy, purpose="public")).kind == "duplicate"
        auto = (FIXTURES / "15_auto_submitted.eml").read_bytes()
        assert (await process_message(ctx, auto, purpose="director")).kind == "ignored"
        async with ctx.db.session() as s:
            rows = {(t.source, t.reason): t.id for t in await s.scalars(select(MessageTrace))}
        return {
            "bulk": rows[("public", "bulk")],
            "duplicate": rows[("public", "duplicate")],
            "director": rows[("director", "auto_reply")],
        }

    ids: dict[str, int] = client.blocking_portal.call(make)
    return ids


def test_agents_see_the_public_traces_and_make_a_case_of_a_wrongly_ignored_reply(
    client: TestClient[Any],
) -> None:
    ids = setup(client)
    ctx = client.app.state.ctx
    sign_in(client, "agent1")
    assert sorted(listed(client, "/console/mail/ignored")) == ["bulk", "duplicate", "list"]
    assert listed(client, "/console/mail/ignored?reason=bulk") == ["bulk"]
    assert listed(client, "/console/mail/ignored?q=zhaoliu@") == ["bulk"]  # by the sender
    assert listed(client, "/console/mail/ignored?q=nobody%25") == []
    page = BeautifulSoup(client.get(f"/console/mail/ignored/{ids['bulk']}").text, "html.parser")
    assert "Precedence: bulk" in page.find(id="reason").get_text()
    assert "Precedence: bulk" in page.find(id="raw").get_text()
    # the director's mailbox's trace is not theirs, not even by its number
    assert client.get(f"/console/mail/ignored/{ids['director']}").status_code == 404
    assert client.get("/console/mail/director").status_code == 403
    assert (
        post(client, f"/console/mail/ignored/{ids['duplicate']}/case")
        .headers["location"]
        .endswith("error=resolved")
    )  # a duplicate's case exists already

    made = post(client, f"/console/mail/ignored/{ids['bulk']}/case")
    assert made.status_code == 303 and made.headers["location"].startswith("/console/cases/")
    again = post(client, f"/console/mail/ignored/{ids['bulk']}/case")
    assert again.headers["location"].endswith("error=resolved")

    async def state() -> tuple[list[str], MessageTrace, list[str], list[object]]:
        async with ctx.db.session() as s:
            texts = list(await s.scalars(select(Case.description).order_by(Case.id)))
            trace = await s.get(MessageTrace, ids["bulk"])
            audits = list(await s.scalars(select(AuditEntry.action)))
            made_by = list(await s.scalars(select(Interaction.meta)))
        assert trace is not None
        return texts, trace, audits, made_by

    texts, trace, audits, metas = client.blocking_portal.call(state)
    assert texts == ["第一封：东门路灯坏了。", "我补充一下：积水在地铁站B口。"]
    assert trace.state == "case" and trace.case_id is not None and trace.resolved_by == "agent1"
    assert {"traces_listed", "trace_read", "trace_made_case", "access_refused"} <= set(audits)
    assert any(m.get("made_by") == "agent1" for m in metas)  # type: ignore[attr-defined]


def test_supervisors_read_departments_do_not_the_director_office_has_its_own(
    client: TestClient[Any],
) -> None:
    ids = setup(client)
    sign_in(client, "supervisor1")
    page = client.get("/console/mail/ignored")
    assert page.status_code == 200 and "Make a case of it" not in page.text
    assert post(client, f"/console/mail/ignored/{ids['bulk']}/case").status_code == 403
    client.get("/console/logout")
    sign_in(client, "department_officer1")
    assert client.get("/console/mail/ignored").status_code == 403
    assert client.get(f"/console/mail/ignored/{ids['bulk']}").status_code == 403
    client.get("/console/logout")
    sign_in(client, "director_office1")
    assert client.get("/console/mail/ignored").status_code == 403
    assert listed(client, "/console/mail/director") == ["auto_reply"]
    assert client.get(f"/console/mail/director/{ids['bulk']}").status_code == 404
    made = post(client, f"/console/mail/director/{ids['director']}/case")
    assert made.headers["location"].startswith("/console/mailbox/")

    async def letter() -> Case | None:
        async with client.app.state.ctx.db.session() as s:
            return await s.scalar(select(Case).where(Case.kind == "director_mailbox"))

    found = client.blocking_portal.call(letter)
    assert found is not None and found.sealed


def test_traces_are_purged_after_the_set_days_with_their_bytes(client: TestClient[Any]) -> None:
    ids = setup(client)
    ctx = client.app.state.ctx

    async def age_and_purge() -> tuple[int, list[int], bool, bool]:
        async with ctx.db.transaction() as s:
            await s.execute(
                update(MessageTrace)
                .where(MessageTrace.id.in_([ids["bulk"], ids["duplicate"]]))
                .values(last_seen_at=utcnow() - timedelta(days=ctx.settings.mail_trace_days + 1))
            )
        async with ctx.db.session() as s:
            bulk = await s.get(MessageTrace, ids["bulk"])
            duplicate = await s.get(MessageTrace, ids["duplicate"])
        assert bulk is not None and duplicate is not None
        purged = await purge_traces(ctx)
        async with ctx.db.session() as s:
            left = sorted(await s.scalars(select(MessageTrace.id)))
            assert await s.scalar(select(AuditEntry.id).where(AuditEntry.action == "traces_purged"))
        return (
            purged,
            left,
            ctx.files.path(bulk.sha256).exists(),
            ctx.files.path(duplicate.sha256).exists(),
        )

    purged, left, bulk_file, duplicate_file = client.blocking_portal.call(age_and_purge)
    assert purged == 2 and ids["bulk"] not in left and ids["director"] in left
    assert not bulk_file  # nothing else held those bytes
    assert duplicate_file  # the same bytes are the case's raw message: kept
