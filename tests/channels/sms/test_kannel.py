"""SMS end to end through the real Kannel (bearerbox + smsbox, fake SMSC): a phone's text
becomes a case and the acknowledgement comes back to the phone; a long Chinese answer arrives
as parts the phone joins; Kannel's delivery reports settle each answer on its case; STOP and
status questions are answered by the reply smsbox sends back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.core.cases.lookup import lookup_code
from hotline.core.cases.replies import enqueue_delivery, queue_reply
from hotline.core.storage.enums import ContactKind, DeliveryStatus, Direction
from hotline.core.storage.models.cases import Case, CaseEvent, ContactPoint, Interaction
from tests.conftest import sqlite_app_settings
from tests.kannel import Carrier, Kannel
from tests.liveapp import LiveApp
from tests.processes import free_port, wait_for

SECRET = "kannel-secret-0123456789"
PHONE = "+8613800138000"


class Line:
    def __init__(self, app: LiveApp, kannel: Kannel) -> None:
        self.app, self.kannel = app, kannel
        self.carrier: Carrier = kannel.carrier()

    def rows(self, model: Any, *where: Any) -> list[Any]:
        async def read(ctx: Any) -> list[Any]:
            async with ctx.db.session() as s:
                return list(await s.scalars(select(model).where(*where).order_by(model.id)))

        return self.app.call(read)


@pytest.fixture
def line(tmp_path: Path, sqlite_template: Path, kannel_factory: Any) -> Iterator[Line]:
    port = free_port()
    kannel: Kannel = kannel_factory(
        f"http://127.0.0.1:{port}/channels/sms/kannel/mo?secret={SECRET}"
    )
    settings = sqlite_app_settings(tmp_path, sqlite_template).model_copy(
        update={
            "jobs_in_process": True,
            "public_url": f"http://127.0.0.1:{port}/",
            "sms_shared_secret": SECRET,
            "sms_sendsms_url": kannel.sendsms_url,
        }
    )
    app = LiveApp(settings, port=port)
    the_line = Line(app, kannel)
    yield the_line
    the_line.carrier.close()
    app.stop()


def test_a_chinese_text_becomes_a_case_and_the_phone_gets_its_number(line: Line) -> None:
    line.carrier.send(PHONE, "人民路路灯坏了三天，晚上很黑")
    assert wait_for(lambda: line.rows(Case), timeout=20), line.kannel.logs()
    [case] = line.rows(Case)
    assert case.first_channel == "sms"
    assert case.description == "人民路路灯坏了三天，晚上很黑"  # UCS-2 from the phone, recoded
    [contact] = line.rows(ContactPoint)
    assert (contact.kind, contact.value) == (ContactKind.PHONE, PHONE)
    parts, sent = line.carrier.message()
    assert parts[0].receiver == PHONE and parts[0].sender == "12345"
    assert case.tracking_number in sent.replace(" ", "") and "工单编号" in sent

    def settled() -> list[Interaction]:
        return line.rows(
            Interaction,
            Interaction.direction == Direction.OUT,
            Interaction.delivery_status == DeliveryStatus.DELIVERED,
        )

    assert wait_for(settled, timeout=20), [  # Kannel's reports came back
        (r.delivery_status, r.meta) for r in line.rows(Interaction)
    ]
    actions = [e.action for e in line.rows(CaseEvent, CaseEvent.case_id == case.id)]
    assert "reply_delivered" in actions


def test_a_long_chinese_answer_arrives_in_parts_the_phone_joins(line: Line) -> None:
    line.carrier.send(PHONE, "report a broken street light on Renmin Road")
    assert wait_for(lambda: line.rows(Case), timeout=20), line.kannel.logs()
    _, acknowledgement = line.carrier.message("text")  # in English: GSM 7-bit
    [case] = line.rows(Case)
    assert case.tracking_number in acknowledgement.replace(" ", "")
    answer = (
        "您好，您反映的人民路路灯不亮的问题，区城管局已派员现场核查，确认为线路老化导致。"
        "维修人员已于今日下午更换线路并恢复照明，后续将加强巡查。如仍有问题，请再次来电或回复本短信。"
        "感谢您对城市管理工作的支持！本次维修共更换电缆一百二十米、灯具三套，"
        "并对周边五条道路的路灯进行了全面检查，发现的两处隐患已同步处理完毕。"
    )

    async def answer_case(ctx: Any) -> int:
        async with ctx.db.transaction() as s:
            row = await s.get(Case, case.id)
            [contact] = list(await s.scalars(select(ContactPoint)))
            reply = await queue_reply(s, row, contact, answer, purpose="answer")
            reply_id = int(reply.id)
        await enqueue_delivery(ctx, reply_id)
        return reply_id

    reply_id = line.app.call(answer_case)
    parts, _ = line.carrier.message()
    total = len(parts)
    assert total >= 3 and [p.part[1:] for p in parts] == [(total, n) for n in range(1, total + 1)]
    assert len({p.part[0] for p in parts}) == 1  # one reference: the phone joins them
    assert all(len(p.data) <= 134 for p in parts)  # 67 UCS-2 characters each, at most
    joined = "".join(p.text() for p in parts)
    # the answer, then the invitation to rate it by a digit (回访), in the case's language
    assert joined == answer + (
        "\nTo rate this answer, reply 1 (satisfied), 2 (basically satisfied) or 3 (not satisfied)."
    )

    def delivered() -> bool:
        [row] = line.rows(Interaction, Interaction.id == reply_id)
        return row.delivery_status == DeliveryStatus.DELIVERED

    assert wait_for(delivered, timeout=20), line.kannel.logs()
    [row] = line.rows(Interaction, Interaction.id == reply_id)
    assert set(row.meta["sms_parts"].values()) == {"delivered"}


def test_stop_and_a_status_question_are_answered_through_kannel(line: Line) -> None:
    line.carrier.send(PHONE, "路灯坏了")
    assert wait_for(lambda: line.rows(Case), timeout=20), line.kannel.logs()
    line.carrier.message()  # the acknowledgement
    [case] = line.rows(Case)
    code = lookup_code(line.app.ctx.secret_key, case.tracking_number)
    line.carrier.send(PHONE, f"查询 {case.tracking_number} {code}")
    status = line.carrier.next()
    assert case.tracking_number in status.text().replace(" ", ""), line.kannel.logs()
    assert "受理" in status.text()
    line.carrier.send(PHONE, "STOP")
    stopped = line.carrier.next()
    assert stopped.receiver == PHONE and "no more messages" in stopped.text("text")
    [contact] = line.rows(ContactPoint)
    assert contact.opted_out
    assert len(line.rows(Case)) == 1  # neither made a case


def test_delivery_reports_that_fail_show_on_the_case_and_junk_is_refused(line: Line) -> None:
    line.carrier.send(PHONE, "report a pothole")
    assert wait_for(lambda: line.rows(Case), timeout=20), line.kannel.logs()
    line.carrier.message("text")
    [case] = line.rows(Case)
    [ack] = line.rows(Interaction, Interaction.direction == Direction.OUT)
    base = f"{line.app.url}/channels/sms/kannel/dlr"
    forged = httpx.get(f"{base}?secret=wrong&id={ack.id}&part=1&of=1&type=16")
    assert forged.status_code == 403
    assert httpx.get(f"{base}?secret={SECRET}&id=x&part=1&of=1&type=16").status_code == 400
    assert httpx.get(f"{base}?secret={SECRET}&id=999999&part=1&of=1&type=16").status_code == 404
    # a second answer the carrier refuses
    answer_id = line.app.call(lambda ctx: _answer(ctx, case.id, "The light was repaired."))
    refused = line.carrier.next()
    assert "repaired" in refused.text("text")
    wait_for(
        lambda: (
            line.rows(Interaction, Interaction.id == answer_id)[0].delivery_status
            != DeliveryStatus.SENDING
        )
    )
    nack = httpx.get(
        f"{base}?secret={SECRET}&id={answer_id}&part=1&of=1&type=16"
        "&answer=NACK/0x0000000b/Invalid%20Destination"
    )
    assert nack.status_code == 200
    [row] = line.rows(Interaction, Interaction.id == answer_id)
    # the fake SMSC may have reported delivery first; a refusal afterwards does not undo it
    if row.delivery_status != DeliveryStatus.DELIVERED:
        assert row.delivery_status == DeliveryStatus.FAILED
        assert "Invalid Destination" in (row.delivery_detail or "")
        events = line.rows(CaseEvent, CaseEvent.case_id == case.id)
        assert "reply_failed" in [e.action for e in events]


async def _answer(ctx: Any, case_id: int, text: str) -> int:
    async with ctx.db.transaction() as s:
        row = await s.get(Case, case_id)
        [contact] = list(await s.scalars(select(ContactPoint)))
        reply = await queue_reply(s, row, contact, text, purpose="answer")
        reply_id = int(reply.id)
    await enqueue_delivery(ctx, reply_id)
    return reply_id
