"""An agent calls a citizen from the case, or from their record, in the browser softphone
(click-to-call): the console hands the softphone a one-minute ticket for that number, Kamailio
checks it and sends the call through the site's trunk (here the citizen's own phone, a baresip
at the trunk's address, with the relay turning WebRTC into plain RTP), each side hears the
other, the call is recorded on the case (the citizen left, the agent right) with a detail
record of its own, and the reading of the number is audited."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from hotline.channels.phone.softphone import make_stack
from hotline.channels.phone.stack import PACKAGES, missing
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import ContactIn, Submission
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseStatus, ContactKind
from hotline.core.storage.models.axd import CallRecord
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.people import AuditEntry
from tests.browser import CHROMEDRIVER, CHROMIUM
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_softphone_call import (  # noqa: F401 (fixtures)
    AGENT_HZ,
    PEAK,
    STATE,
    _sign_in,
    an_agent,
    console_with_softphone,
    settings,
    share,
    the_recording,
    tone,
    wait,
)
from tests.conftest import need
from tests.sipcallers import DeskPhone

pytestmark = pytest.mark.slow

CITIZEN = "+8613912345678"
CITIZEN_HZ = 600.0
ONE_DAY = timedelta(days=1)


def report(text: str) -> Submission:
    """What the citizen reported on the web, with their phone number."""
    contacts = [ContactIn(kind=ContactKind.PHONE, value=CITIZEN)]
    return Submission(channel="web", subject=text[:6], text=text, contacts=contacts)


def call_the_citizen(driver: Any, url: str, page: str) -> dict[str, Any]:
    _sign_in(driver, url)
    driver.get(f"{url}{page}")
    wait(driver, STATE.format("ready"), 20)
    driver.execute_script("document.querySelector('[data-dial-case]').click()")
    wait(driver, STATE.format("talking"), 15)
    peaks = []
    for _ in range(15):
        time.sleep(0.2)
        peaks.append(driver.execute_script(PEAK))
    wait(driver, STATE.format("ready"), 15)  # the citizen hung up
    return {"peaks": peaks}


@pytest.mark.parametrize("where", ["case", "record"])
async def test_an_agent_calls_the_citizen_from_the_case_or_their_record(
    ctx: AppContext,
    tmp_path: Path,
    db_url: str,  # noqa: F811
    where: str,
) -> None:
    """From the case's page, or from the citizen's record (the call is on their newest open
    case: the older closed one is left alone)."""
    need(not missing(), f"the softphone stack (Debian packages {PACKAGES})")
    need(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "Chromium and chromedriver")
    await an_agent(ctx)
    case = await receive(ctx, report("小区门口的路灯坏了"))
    if where == "record":
        async with ctx.db.transaction() as s:
            older = await s.get(Case, case.case_id)
            assert older is not None
            older.status, older.created_at = CaseStatus.CLOSED, older.created_at - ONE_DAY
        case = await receive(ctx, report("小区的下水道堵了"))
        page = f"/console/citizens/{older.citizen_id}"
    else:
        page = f"/console/cases/{case.tracking_number}"
    async with DeskPhone(tmp_path / "citizen", extension=CITIZEN) as phone:
        phone.says(np.concatenate([np.zeros(4000, np.float32), tone(CITIZEN_HZ, 5, 8000)]))
        trunk = phone.address.rpartition("@")[2]
        ctx.settings = ctx.settings.model_copy(update={"phone_trunk": trunk})
        stack = make_stack(ctx.settings, ctx.secret_key)
        await stack.start()
        try:
            served, driver = await console_with_softphone(ctx, db_url, tmp_path, 30)
            try:
                seen = await asyncio.to_thread(call_the_citizen, driver, served.url, page)
            finally:
                await asyncio.to_thread(driver.quit)
                await asyncio.to_thread(served.stop)
            [heard] = phone.heard()
            citizen, agent = await the_recording(ctx, stack, case.case_id)
        finally:
            await stack.stop()

    assert share(heard, AGENT_HZ) > 0.5  # the citizen heard the agent
    tones = [p for p in seen["peaks"] if p]
    assert sum(abs(hz - CITIZEN_HZ) < 30 for hz, _db in tones) >= len(seen["peaks"]) * 0.6
    assert share(citizen, CITIZEN_HZ) > 0.5 and share(agent, AGENT_HZ) > 0.5
    async with ctx.db.session() as s:
        record = await s.scalar(select(CallRecord))
        read = await s.scalar(select(AuditEntry).where(AuditEntry.action == "citizen_called"))
    assert record is not None and record.menu_path == ["outbound"] and record.caller == CITIZEN
    assert record.case_id == case.case_id  # the newest open case
    assert record.talk_seconds is not None and 4 < record.talk_seconds < 10
    assert read is not None and read.detail["case"] == case.tracking_number
    async with ctx.db.session() as s:  # on the case's audit trail too
        actions = set(await s.scalars(select(CaseEvent.action)))
    assert "citizen_called" in actions
