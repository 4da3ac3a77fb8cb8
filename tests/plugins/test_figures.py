"""The figures (plugins/reports/figures) on a crafted day of contacts, calls, cases,
assignments and evaluations, on SQLite and PostgreSQL: each number worked out by hand below."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.core.shell.context import AppContext
from hotline.core.storage.models.axd import AgentPresence, CallRecord, QueueItem
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.people import User
from hotline.core.storage.models.workflow import Assignment
from hotline.plugins.reports import figures
from hotline.plugins.reports.figures import Period

DAY = date(2026, 3, 10)  # a Tuesday
TZ = ZoneInfo("Asia/Shanghai")


def local(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)


def s(base: datetime, seconds: float) -> datetime:
    return base + timedelta(seconds=seconds)


_n = iter(range(1, 1000))


def a_case(at: datetime, channel: str = "web") -> Case:
    return Case(
        tracking_number=f"T{next(_n):08d}",
        kind="complaint",
        language="zh_CN",
        first_channel=channel,
        created_at=at,
        updated_at=at,
    )


def item(case: Case, media: str, since: datetime, **kw: Any) -> QueueItem:
    return QueueItem(
        case=case,
        media=media,
        skills=kw.pop("skills", []),
        language="zh_CN",
        state=kw.pop("state", "done"),
        waiting_since=since,
        updated_at=since,
        **kw,
    )


@pytest.fixture
async def day(ctx: AppContext, city: dict[str, int]) -> dict[str, Any]:
    t0 = local(9)
    async with ctx.db.transaction() as session:
        cases = [
            a_case(local(0, 30), "web"),
            a_case(local(9, 10), "phone"),
            a_case(local(9, 50), "phone"),
            a_case(local(23, 59, 59), "sms"),
            a_case(local(23, 59, 59, DAY - timedelta(days=1)), "web"),  # the day before
            a_case(local(10, 5, 0, DAY - timedelta(days=7)), "web"),  # last week, 10 o'clock
        ]
        session.add_all(cases)
        call_case = cases[1]
        agents = []
        for i, (state, reason, active) in enumerate(
            [
                ("available", None, True),
                ("available", None, True),  # with an e-mail in hand
                ("wrap_up", None, True),
                ("away", "meal", True),
                ("signed_out", None, True),
                ("available", None, False),  # an account switched off
            ]
        ):
            user = User(
                username=f"fig{i}",
                display_name=f"F{i}",
                role="agent",
                password_hash="x",
                active=active,
            )
            session.add(user)
            await session.flush()
            session.add(AgentPresence(user_id=user.id, state=state, away_reason=reason, since=t0))
            agents.append(user.id)
        q = [
            # 1, 2: web forms answered after 10 s and 30 s, handled 300 s and 100 s
            item(
                call_case,
                "web_form",
                t0,
                skills=["roads"],
                assigned_at=s(t0, 10),
                done_at=s(t0, 310),
            ),
            item(
                call_case,
                "web_form",
                s(t0, 60),
                skills=["roads"],
                assigned_at=s(t0, 90),
                done_at=s(t0, 190),
            ),
            # 3: a call answered after 15 s; its record says 200 s of talk
            item(
                call_case,
                "voice",
                s(t0, 100),
                skills=["general"],
                assigned_at=s(t0, 115),
                done_at=s(t0, 115),
                outcome="answered",
            ),
            # 4, 5: calls abandoned after 3 s (short) and 40 s; 6: left for a voicemail at 50 s
            item(
                call_case,
                "voice",
                s(t0, 200),
                skills=["general"],
                done_at=s(t0, 203),
                outcome="abandoned",
            ),
            item(
                call_case,
                "voice",
                s(t0, 300),
                skills=["general"],
                done_at=s(t0, 340),
                outcome="abandoned",
            ),
            item(
                call_case,
                "voice",
                s(t0, 400),
                skills=["general"],
                done_at=s(t0, 450),
                outcome="voicemail",
            ),
            # 7: the call-back item made for the agent who answered call 3: not a new contact
            item(
                call_case,
                "callback",
                s(t0, 115),
                skills=["general"],
                state="assigned",
                agent_id=agents[2],
                assigned_at=s(t0, 115),
            ),
            # 8: a chat still waiting; 9: a web form of the day before
            item(call_case, "chat", s(t0, 500), state="waiting"),
            item(
                call_case,
                "web_form",
                local(23, 0, 0, DAY - timedelta(days=1)),
                assigned_at=local(23, 0, 5, DAY - timedelta(days=1)),
            ),
            # 10: an e-mail taken after 5 s, still in the agent's hands
            item(
                call_case,
                "email",
                s(t0, 600),
                skills=["roads"],
                state="assigned",
                agent_id=agents[1],
                assigned_at=s(t0, 605),
            ),
        ]
        session.add_all(q)
        await session.flush()

        def record(call: str, arrived: datetime, **kw: Any) -> CallRecord:
            return CallRecord(call_id=call, arrived_at=arrived, hung_up_by="caller", **kw)

        session.add_all(
            [
                record(
                    "c3",
                    s(t0, 90),
                    queue="general",
                    queued_at=s(t0, 100),
                    wait_seconds=15,
                    left_reason="answered",
                    ended_at=s(t0, 315),
                    queue_item_id=q[2].id,
                ),
                record(
                    "c4",
                    s(t0, 190),
                    queue="general",
                    queued_at=s(t0, 200),
                    wait_seconds=3,
                    left_reason="abandoned",
                    ended_at=s(t0, 203),
                ),
                record(
                    "c5",
                    s(t0, 290),
                    queue="general",
                    queued_at=s(t0, 300),
                    wait_seconds=40,
                    left_reason="abandoned",
                    ended_at=s(t0, 340),
                ),
                record(
                    "c6",
                    s(t0, 390),
                    queue="general",
                    queued_at=s(t0, 400),
                    wait_seconds=50,
                    left_reason="voicemail",
                    ended_at=s(t0, 480),
                ),
                record("c7", s(t0, 700), ended_at=s(t0, 760)),  # a status question in the menu
                # c3's caller, transferred by the agent to the queue and answered there: the
                # same citizen's call (and the same item's handling), not one more
                record(
                    "c3-transferred",
                    s(t0, 320),
                    queue="general",
                    queued_at=s(t0, 320),
                    wait_seconds=30,
                    left_reason="answered",
                    ended_at=s(t0, 500),
                    queue_item_id=q[2].id,
                    leg="transferred",
                ),
                # an agent called a citizen back: not a call that arrived at the line
                record("dial-9-1", s(t0, 800), ended_at=s(t0, 900), leg="outbound"),
            ]
        )
        roads, env = city["roads"], city["env"]

        def assignment(department: int, state: str, dispatched: datetime, **kw: Any) -> Assignment:
            return Assignment(
                case=call_case,
                department_id=department,
                state=state,
                dispatched_at=dispatched,
                overdue=kw.pop("overdue", False),
                **kw,
            )

        session.add_all(
            [
                # signed in time, reply due this evening
                assignment(
                    roads,
                    "accepted",
                    t0,
                    sign_deadline=local(12),
                    signed_at=local(10),
                    reply_deadline=local(18),
                ),
                # signed late, reply overdue
                assignment(
                    roads,
                    "accepted",
                    t0,
                    sign_deadline=local(10),
                    signed_at=local(11),
                    reply_deadline=local(11, 30),
                    overdue=True,
                ),
                # returned to the hotline
                assignment(env, "returned", t0, sign_deadline=local(12)),
                # never signed, overdue; the reply's deadline is days away
                assignment(
                    env,
                    "dispatched",
                    local(8),
                    sign_deadline=local(9),
                    reply_deadline=local(9, 0, 0, DAY + timedelta(days=5)),
                    overdue=True,
                ),
                # signed and replied in time
                assignment(
                    roads,
                    "replied",
                    t0,
                    sign_deadline=local(12),
                    signed_at=local(9, 30),
                    reply_deadline=local(18),
                    replied_at=local(15),
                ),
                # dispatched the day before, due tonight
                assignment(
                    roads,
                    "accepted",
                    local(9, 0, 0, DAY - timedelta(days=1)),
                    reply_deadline=local(20),
                ),
            ]
        )
        for action, rating, when in [
            ("evaluated", "satisfied", local(10)),
            ("rated", "basically_satisfied", local(11)),
            ("evaluated", "not_satisfied", local(12)),
            ("rated", "satisfied", local(13)),
            ("rated", "not_satisfied", local(13, 0, 0, DAY - timedelta(days=1))),
        ]:
            session.add(
                CaseEvent(case=call_case, action=action, at=when, detail={"satisfaction": rating})
            )
    return {"t0": t0}


async def test_contact_centre_figures(ctx: AppContext, day: dict[str, Any]) -> None:
    async with ctx.db.session() as session:
        found = await figures.contacts(
            session, Period.day(DAY, TZ), service_seconds=20, short_seconds=5
        )
        by_queue = await figures.contacts(
            session, Period.day(DAY, TZ), by="queue", service_seconds=20, short_seconds=5
        )
    t = found.total
    assert (t.offered, t.answered, t.abandoned, t.short_abandoned, t.diverted) == (8, 4, 2, 1, 1)
    assert t.answered_within == 3  # 10 s, 15 s and 5 s; not the 30 s one
    assert t.asa == pytest.approx((10 + 30 + 15 + 5) / 4)
    assert (t.handled, t.aht) == (3, pytest.approx((300 + 100 + 200) / 3))
    assert t.service_level == pytest.approx(3 / (4 + 2 - 1))
    assert t.abandon_rate == pytest.approx(1 / 7)
    assert set(found.parts) == {"web_form", "voice", "chat", "email"}
    web, voice = found.parts["web_form"], found.parts["voice"]
    assert (web.offered, web.answered, web.answered_within, web.handled) == (2, 2, 1, 2)
    assert web.aht == pytest.approx(200)
    assert (voice.offered, voice.answered, voice.abandoned, voice.diverted) == (4, 1, 2, 1)
    assert (voice.asa, voice.aht) == (pytest.approx(15), pytest.approx(200))
    assert (found.parts["chat"].offered, found.parts["chat"].answered) == (1, 0)
    assert {k: v.offered for k, v in by_queue.parts.items()} == {"roads": 3, "general": 4, "": 1}
    assert by_queue.parts["general"].aht == pytest.approx(200)
    assert by_queue.total == found.total


async def test_call_figures_from_the_line_records(ctx: AppContext, day: dict[str, Any]) -> None:
    async with ctx.db.session() as session:
        found = await figures.calls(session, Period.day(DAY, TZ), short_seconds=5)
    assert found == figures.CallFigures(
        arrived=5,
        queued=4,
        answered=1,
        abandoned=2,
        short_abandoned=1,
        voicemail=1,
        callback=0,
        self_served=1,
    )


async def test_case_work_figures(ctx: AppContext, day: dict[str, Any]) -> None:
    period = Period.day(DAY, TZ)
    async with ctx.db.session() as session:
        by_channel = await figures.intake_by(session, period, "channel")
        per_hour = await figures.intake_per_hour(session, period)
        last_week = await figures.intake_per_hour(session, period.shifted(-7))
        load = await figures.department_load(session, period)
        rated = await figures.evaluations(session, period)
        kept = await figures.timeliness(session, period, local(9, 0, 0, DAY + timedelta(days=1)))
    assert by_channel == {"web": 1, "phone": 2, "sms": 1}
    assert len(per_hour) == 24 and sum(per_hour) == 4
    assert (per_hour[0], per_hour[9], per_hour[23]) == (1, 2, 1)
    assert last_week[10] == 1 and sum(last_week) == 1
    assert [(d.code, d.due, d.overdue) for d in load] == [("roads", 2, 1), ("env", 0, 1)]
    assert (rated.satisfied, rated.basically_satisfied, rated.not_satisfied) == (2, 1, 1)
    assert rated.rate == pytest.approx(3 / 4)
    assert (kept.dispatched, kept.returned) == (5, 1)
    assert (kept.sign_settled, kept.signed_in_time) == (4, 2)
    assert (kept.reply_settled, kept.replied_in_time) == (3, 1)
    assert kept.acceptance_rate == pytest.approx(0.5)
    assert kept.completion_rate == pytest.approx(1 / 3)
    assert kept.return_rate == pytest.approx(1 / 5)


async def test_the_floor_now(ctx: AppContext, day: dict[str, Any]) -> None:
    now = s(day["t0"], 560)
    async with ctx.db.session() as session:
        agents = await figures.agents_now(session)
        waiting = await figures.waiting_now(session, now)
    # the call-back item is in the wrap-up agent's hands: still counted as wrapping up
    assert agents == figures.AgentsNow(
        signed_in=4, available=1, handling={"email": 1}, wrap_up=1, away={"meal": 1}, busy=0
    )
    assert waiting == [figures.Waiting("chat", "", 1, 60)]


async def test_a_call_put_through_to_a_desk_phone_is_handled_until_the_agent_finishes(
    ctx: AppContext,
) -> None:
    """The line leaves a call at the transfer to the agent's desk phone: its handling time is
    the agent's (taken to finished), and it counts once finished, not while the agent talks."""
    t0 = local(10)
    async with ctx.db.transaction() as session:
        agent = User(username="desk", display_name="Desk", role="agent", password_hash="x")
        call_case = a_case(t0, "phone")
        session.add_all([agent, call_case])
        await session.flush()
        finished = item(
            call_case,
            "voice",
            t0,
            skills=["general"],
            agent_id=agent.id,
            assigned_at=s(t0, 12),
            done_at=s(t0, 12 + 240),
            outcome="answered",
        )
        talking = item(
            call_case,
            "voice",
            s(t0, 60),
            skills=["general"],
            state="assigned",
            agent_id=agent.id,
            assigned_at=s(t0, 70),
            outcome="answered",
        )
        session.add_all([finished, talking])
        await session.flush()
        for name, it, queued in (("p1", finished, t0), ("p2", talking, s(t0, 60))):
            session.add(
                CallRecord(
                    call_id=name,
                    arrived_at=queued - timedelta(seconds=8),
                    queue="general",
                    queued_at=queued,
                    wait_seconds=(it.assigned_at - queued).total_seconds(),
                    left_reason="answered",
                    ended_at=it.assigned_at + timedelta(seconds=0.4),  # the transfer
                    hung_up_by="transfer",
                    put_through_to="sip:1001@10.0.0.21",
                    queue_item_id=it.id,
                    agent_id=agent.id,
                )
            )
    async with ctx.db.session() as session:
        found = await figures.contacts(
            session, Period.day(DAY, TZ), service_seconds=20, short_seconds=5
        )
    voice = found.parts["voice"]
    assert (voice.offered, voice.answered, voice.handled) == (2, 2, 1)
    assert voice.aht == pytest.approx(240, abs=0.01)  # not the 0.4 s the line held it
    assert voice.asa == pytest.approx((12 + 10) / 2, abs=0.01)


async def test_each_agents_time_offers_and_contacts(ctx: AppContext) -> None:
    """From the state spans, the offer log and the items taken: signed-in time clipped to the
    day, away per reason, wrap-up, offers by how they ended with the accepted ones' ring time,
    contacts handled per medium, and occupancy."""
    from hotline.core.storage.models.axd import AgentStateSpan, QueueOffer

    t0 = local(9)
    async with ctx.db.transaction() as session:
        ann = User(username="ann", display_name="Ann", role="agent", password_hash="x")
        call_case = a_case(t0, "phone")
        session.add_all([ann, call_case])
        await session.flush()

        def span(state: str, start: float, end: float | None, reason: str | None = None) -> Any:
            return AgentStateSpan(
                agent_id=ann.id,
                state=state,
                reason=reason,
                started_at=s(t0, start),
                ended_at=s(t0, end) if end is not None else None,
            )

        session.add_all(
            [
                span("available", -3600, 600),  # signed in at 8:00
                span("wrap_up", 600, 630),
                span("available", 630, 1800),
                span("away", 1800, 2700, "meal"),
                span("available", 2700, 3600),
                span("signed_out", 3600, None),
            ]
        )
        taken = item(
            call_case,
            "email",
            s(t0, 100),
            agent_id=ann.id,
            assigned_at=s(t0, 120),
            done_at=s(t0, 600),
        )
        chat = item(
            call_case, "chat", s(t0, 900), agent_id=ann.id, assigned_at=s(t0, 905), state="assigned"
        )
        session.add_all([taken, chat])
        await session.flush()
        session.add_all(
            [
                QueueOffer(
                    item_id=taken.id,
                    agent_id=ann.id,
                    offered_at=s(t0, 100),
                    ended_at=s(t0, 110),
                    outcome="declined",
                ),
                QueueOffer(
                    item_id=taken.id,
                    agent_id=ann.id,
                    offered_at=s(t0, 112),
                    ended_at=s(t0, 120),
                    outcome="accepted",
                ),
                QueueOffer(
                    item_id=chat.id,
                    agent_id=ann.id,
                    offered_at=s(t0, 880),
                    ended_at=s(t0, 900),
                    outcome="missed",
                ),
                QueueOffer(
                    item_id=chat.id,
                    agent_id=ann.id,
                    offered_at=s(t0, 901),
                    ended_at=s(t0, 905),
                    outcome="accepted",
                ),
            ]
        )
    day = Period(local(8), local(10))  # 8:00 to 10:00: the first span began at 8:00
    async with ctx.db.session() as session:
        found = await figures.agent_figures(session, day, now=local(12))
    a = found[ann.id]
    assert a.signed_in_seconds == pytest.approx(2 * 3600)  # 8:00 to 10:00, signed out after
    assert a.state_seconds == {
        "available": pytest.approx(4200 + 1170 + 900),
        "wrap_up": pytest.approx(30),
        "away": pytest.approx(900),
    }
    assert a.away_seconds == {"meal": pytest.approx(900)}
    assert dict(a.offers) == {"declined": 1, "accepted": 2, "missed": 1}
    assert a.average_ring == pytest.approx((8 + 4) / 2)
    assert dict(a.handled) == {"email": 1, "chat": 1}
    assert a.handle_seconds == pytest.approx(480)  # the chat is still in hand
    assert a.occupancy == pytest.approx((480 + 30) / (7200 - 900))
    async with ctx.db.session() as session:  # a period that cuts the first span
        later = await figures.agent_figures(session, Period(local(8, 30), local(10)))
    assert later[ann.id].signed_in_seconds == pytest.approx(7200 - 1800)
