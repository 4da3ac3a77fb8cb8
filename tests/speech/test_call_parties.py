"""A live call recorded one party per channel is transcribed party by party with the real Vosk
model (French, the model ../shared holds): the case's interaction shows who said what, in the
order it was said; a party who said nothing is left out, not a reason to refuse the call."""

from __future__ import annotations

import asyncio
import io
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.channels.phone.desk import KernelDesk
from hotline.channels.phone.ivr import Caller
from hotline.channels.phone.waiting import CallDetail
from hotline.core.axd.call_recordings import Recorded, attach, hold
from hotline.core.axd.dialing import dial
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind
from hotline.core.storage.models.axd import CallRecord
from hotline.core.storage.models.cases import Case, ContactPoint, Interaction
from tests.admin.conftest import client, sign_in  # noqa: F401
from tests.channels.phone.test_desk_queue import an_agent
from tests.conftest import drain_jobs, need
from tests.speech.fixtures import FRENCH_MODEL, french_available, install_french, spoken


@pytest.fixture
def french() -> Path:
    need(french_available(), f"the French Vosk model at {FRENCH_MODEL}")
    return FRENCH_MODEL


def samples(name: str) -> np.ndarray:
    with wave.open(io.BytesIO(spoken(name, 8000))) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


def stereo(left: np.ndarray, right: np.ndarray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.column_stack([left, right]).astype("<i2").tobytes())
    return out.getvalue()


async def a_recorded_call(ctx: AppContext, wav: bytes, seconds: float) -> Interaction:
    await an_agent(ctx)
    caller = Caller("live-1", "+33612345678", "12345", "fr", ("language", "main", "agent"))
    item_id, _case = await KernelDesk(ctx).enqueue(caller, "general")
    ended = datetime.now(UTC)
    call = Recorded("rec-1", wav, seconds, True, ended - timedelta(seconds=seconds), ended)
    found = await attach(ctx, item_id, call)
    assert found is not None
    assert await attach(ctx, item_id, call) == found  # delivered twice: kept once
    await asyncio.to_thread(drain_jobs, ctx.jobs)
    async with ctx.db.session() as s:
        row = await s.get(Interaction, found)
        assert row is not None
        return row


async def test_each_party_of_a_recorded_call_is_transcribed_apart_in_the_order_said(
    ctx: AppContext, french: Path
) -> None:
    install_french(ctx.settings.speech_models)
    first, second = samples("fr-01"), samples("fr-05")
    gap = np.zeros(8000, np.int16)
    left = np.concatenate([first, gap, np.zeros(len(second), np.int16)])  # the caller speaks
    right = np.concatenate([np.zeros(len(first), np.int16), gap, second])  # then the agent
    row = await a_recorded_call(ctx, stereo(left, right), len(left) / 8000)

    [heard] = row.meta["transcripts"]
    parties = [s[3] for s in heard["segments"]]
    assert parties[0] == "caller" and parties[-1] == "agent"
    assert parties == sorted(parties, key=["caller", "agent"].index)  # said in that order
    caller_words = " ".join(s[2] for s in heard["segments"] if s[3] == "caller")
    agent_words = " ".join(s[2] for s in heard["segments"] if s[3] == "agent")
    assert "lampadaire" in caller_words and "lampadaire" not in agent_words
    assert {"rappeler", "mère"} & set(agent_words.split())
    assert row.text == row.meta["transcript"] and "lampadaire" in row.text  # searched as text
    assert row.meta["live_call"] is True and row.meta["parties"] == ["caller", "agent"]


async def test_a_party_who_said_nothing_is_left_out(ctx: AppContext, french: Path) -> None:
    install_french(ctx.settings.speech_models)
    said = samples("fr-01")
    row = await a_recorded_call(ctx, stereo(said, np.zeros_like(said)), len(said) / 8000)
    [heard] = row.meta["transcripts"]
    assert {s[3] for s in heard["segments"]} == {"caller"}
    assert "transcript_error" not in row.meta


async def test_the_call_record_gains_the_talk_and_the_recording(ctx: AppContext) -> None:
    """Without speech: the detail record written when the line put the caller through gains
    the talk the relay saw and the recording's interaction."""
    agent = await an_agent(ctx)
    caller = Caller("live-2", "+8613800138000", "12345", "zh_CN", ("language", "main", "agent"))
    desk = KernelDesk(ctx)
    item_id, case_id = await desk.enqueue(caller, "general")
    now = datetime.now(UTC)
    detail = CallDetail(
        "live-2",
        caller.number,
        "12345",
        now - timedelta(seconds=30),
        item_id=item_id,
        case_id=case_id,
        ended_at=now - timedelta(seconds=20),
        hung_up_by="transfer",
    )
    detail.agent_id, detail.left_reason = agent, "answered"
    await desk.record_call(detail)
    assert await hold(ctx, agent, True) and await hold(ctx, agent, True)  # a double click
    await _hold_began(ctx, now - timedelta(seconds=12))
    assert await hold(ctx, agent, False)
    assert await hold(ctx, agent, True)  # on hold again when the call ends
    await _hold_began(ctx, now - timedelta(seconds=3))
    assert not await hold(ctx, agent + 1, True)  # another agent has no call
    silence = stereo(np.zeros(8000, np.int16), np.zeros(8000, np.int16))
    talk = Recorded("rec-2", silence, 1.0, True, now - timedelta(seconds=19), now)
    found = await attach(ctx, item_id, talk)
    async with ctx.db.session() as s:
        record = await s.scalar(select(CallRecord))
    assert record is not None and record.recording_id == found
    assert record.talk_seconds == 19.0
    assert record.talk_started_at == now - timedelta(seconds=19) and record.talk_ended_at == now
    # two holds: one of 12 s taken back, one of 3 s that lasted until the call ended
    assert (record.holds, record.on_hold_since) == (2, None)
    assert abs(record.hold_seconds - 15.0) < 0.5


async def test_an_agents_own_call_to_the_citizen_is_held_and_recorded_alike(
    ctx: AppContext,
) -> None:
    """Click-to-call: the agent's hold counts on the record of the call they placed (its leg
    ``outbound``), and the recording and talk land on it when it ends."""
    agent = await an_agent(ctx)
    caller = Caller("live-3", "+8613800138000", "12345", "zh_CN", ("language", "main", "agent"))
    _item, case_id = await KernelDesk(ctx).enqueue(caller, "general")
    async with ctx.db.session() as s:
        case = await s.get(Case, case_id)
        assert case is not None and case.citizen_id is not None
        phone = await s.scalar(
            select(ContactPoint.id).where(ContactPoint.citizen_id == case.citizen_id)
        )
        assert phone is not None
    placed = await dial(ctx, Actor(ActorKind.STAFF, id=agent), case.tracking_number, phone)
    assert await hold(ctx, agent, True)
    await _hold_began(ctx, datetime.now(UTC) - timedelta(seconds=4))
    assert await hold(ctx, agent, False)
    now = datetime.now(UTC)
    silence = stereo(np.zeros(8000, np.int16), np.zeros(8000, np.int16))
    found = await attach(ctx, placed.item_id, Recorded("rec-3", silence, 1.0, True, now, now))
    async with ctx.db.session() as s:
        record = await s.scalar(select(CallRecord).where(CallRecord.leg == "outbound"))
    assert record is not None and record.recording_id == found
    assert record.holds == 1 and abs(record.hold_seconds - 4.0) < 0.5


async def _hold_began(ctx: AppContext, at: datetime) -> None:
    async with ctx.db.transaction() as s:
        record = await s.scalar(select(CallRecord))
        assert record is not None and record.on_hold_since is not None
        record.on_hold_since = at


def test_the_case_shows_the_call_as_a_dialogue(
    client: TestClient[Any],  # noqa: F811
    french: Path,
) -> None:
    ctx = client.app.state.ctx
    install_french(ctx.settings.speech_models)
    first, second = samples("fr-01"), samples("fr-05")
    left = np.concatenate([first, np.zeros(len(second), np.int16)])
    right = np.concatenate([np.zeros(len(first), np.int16), second])

    async def call() -> str:
        row = await a_recorded_call(ctx, stereo(left, right), len(left) / 8000)
        async with ctx.db.session() as s:
            case = await s.get(Case, row.case_id)
        assert case is not None
        return case.tracking_number

    number = client.blocking_portal.call(call)
    sign_in(client, "agent1")
    page = BeautifulSoup(client.get(f"/console/cases/{number}?lang=en").text, "html.parser")
    lines = [li.get_text(" ", strip=True) for li in page.select("ol.segments li")]
    assert lines and "Caller:" in lines[0] and "Agent:" in lines[-1]
    assert "the call with the agent, recorded" in page.get_text()
    assert page.select_one("audio") is not None  # played like a voicemail
