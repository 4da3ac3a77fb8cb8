"""The speech page and the case, as staff meet them, with the real Whisper model: the
administrator sees Whisper installed and chooses the engine per language (a form with its CSRF
token, audited; nobody else may); a Mandarin voicemail's transcript is on its case with each
sentence's time linked into the recording, found by the case search, and kept from staff who
may not read the case."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import AuditEntry
from hotline.speech import engines
from tests.admin.conftest import client, sign_in  # noqa: F401
from tests.conftest import drain_jobs, seed_city
from tests.speech.whisper import link_whisper, telephone


def csrf(page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_administrator_chooses_the_engine_per_language(
    client: TestClient[Any],  # noqa: F811
    whisper_base: Path,
) -> None:
    settings = client.app.state.ctx.settings
    sign_in(client, "administrator1")
    page = client.get("/console/settings/speech").text
    assert 'id="whisper-missing"' in page and 'id="missing"' in page  # nothing hears yet
    link_whisper(settings.speech_models, whisper_base)
    page = client.get("/console/settings/speech").text
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find(id="whisper-ready") is not None and soup.find(id="missing") is None
    assert [td.text for td in soup.select("#engines td.in-use")] == ["whisper", "whisper"]
    form = {"_csrf_token": csrf(page), "engine_zh_CN": "whisper", "engine_en": "vosk"}
    assert client.post("/console/settings/speech", data={"engine_en": "vosk"}).status_code == 403
    done = client.post("/console/settings/speech", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert engines.chosen(settings) == {"zh_CN": "whisper", "en": "vosk"}
    page = client.get(done.headers["location"]).text
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find(id="saved") is not None
    assert soup.select_one("#engine_en option[selected]")["value"] == "vosk"
    # no Vosk model for English here: Whisper keeps hearing it rather than nobody
    assert [td.text for td in soup.select("#engines td.in-use")] == ["whisper", "whisper"]

    async def audited() -> list[Any]:
        async with client.app.state.ctx.db.session() as s:
            query = select(AuditEntry).where(AuditEntry.action == "speech.engines")
            return [(e.actor_label, e.detail) for e in await s.scalars(query)]

    [(who, detail)] = client.blocking_portal.call(audited)
    assert who == "administrator1" and detail == {"engines": {"zh_CN": "whisper", "en": "vosk"}}
    client.get("/console/logout")
    sign_in(client, "agent1")
    assert client.get("/console/settings/speech").status_code == 403
    form["_csrf_token"] = csrf(client.get("/console").text)
    assert client.post("/console/settings/speech", data=form).status_code == 403


def test_the_transcript_is_on_its_case_searchable_and_kept_from_others(
    client: TestClient[Any],  # noqa: F811
    tmp_path: Path,
    whisper_base: Path,
) -> None:
    from hotline.channels.phone.desk import KernelDesk
    from hotline.channels.phone.ivr import Caller
    from hotline.core.storage.models.reference import RoutingRule

    ctx = client.app.state.ctx
    link_whisper(ctx.settings.speech_models, whisper_base)

    async def call() -> str:
        city = await seed_city(ctx)
        async with ctx.db.transaction() as s:
            s.add(RoutingRule(kind="district", pattern="滨海新区", department_id=city["roads"]))
        recording = tmp_path / "vm.wav"
        recording.write_bytes(telephone("zh-10"))
        caller = Caller("c", "+8613712345678", "12345", "zh_CN", ("language", "complaint"))
        await KernelDesk(ctx).voicemail(caller, "complaint", recording, 6.0)
        await asyncio.to_thread(drain_jobs, ctx.jobs)
        async with ctx.db.session() as s:
            case = await s.scalar(select(Case))
        assert case is not None
        return case.tracking_number

    number = client.blocking_portal.call(call)
    sign_in(client, "agent1")
    page = BeautifulSoup(client.get(f"/console/cases/{number}").text, "html.parser")
    segments = page.select("ol.segments li")
    assert segments and "滨海新区" in segments[0].text
    link = segments[0].find("a", class_="at")
    assert link is not None and re.fullmatch(r"/console/files/\d+#t=[\d.]+", link["href"])
    assert link.text.startswith("0:0")
    found = client.get("/console/cases", params={"q": "滨海新区"}).text
    assert number in found
    client.get("/console/logout")
    sign_in(client, "department_officer1")  # no department: not this case's reader
    assert client.get(f"/console/cases/{number}").status_code in (403, 404)
    assert number not in client.get("/console/cases", params={"q": "滨海新区"}).text
