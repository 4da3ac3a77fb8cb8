"""The Telegram bot by webhook, against a stand-in Bot API server: what a citizen in the chat
sees (the receipt, the menu, the status, the answer with its rating buttons) and what the
hotline keeps (one case per message, photo, voice note and location on it); forged calls,
junk and floods refused without a case or a crash."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.channels.chat.telegram.api import SECRET_HEADER, WEBHOOK_PATH, set_up
from hotline.channels.chat.telegram.inbound import read_button
from hotline.channels.chat.telegram.outbound import split_text
from hotline.channels.chat.telegram.texts import language_of
from hotline.core.cases import tracking
from hotline.core.cases.actions import do_answer, do_classify
from hotline.core.cases.lookup import lookup_code
from hotline.core.intake.receive import receive
from hotline.core.shell.app import create_app
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import (
    ActorKind,
    CaseStatus,
    DeliveryStatus,
    Direction,
    Satisfaction,
)
from hotline.core.storage.models.cases import Attachment, Case, ContactPoint, Interaction
from hotline.core.storage.models.intake import HeldMessage
from hotline.core.workflow.dispatch import (
    do_department_reply,
    do_dispatch,
    do_review,
    do_sign_for,
)
from tests.conftest import count_rows, drain_jobs, seed_city, sqlite_app_settings
from tests.factories import PNG, submission
from tests.telegram_api import TelegramStandIn, button_press, message, running

TOKEN = "123456789:AAH-test-token-for-the-stand-in"
SECRET = "tg-webhook-secret-0123456789"
CHAT = 424242
STRANGER = 515151
OGG = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x1eOpusHead" + b"\x00" * 40
AGENT = Actor(ActorKind.STAFF, label="agent1")
OFFICER = Actor(ActorKind.STAFF, label="roads-officer")


@dataclass
class Stand:
    client: TestClient[Any]
    api: TelegramStandIn
    city: dict[str, int]

    @property
    def ctx(self) -> Any:
        return self.client.app.state.ctx

    def call(self, fn: Any, *args: Any) -> Any:
        return self.client.blocking_portal.call(fn, *args)

    def post(
        self, update: Any = None, *, secret: str | None = SECRET, raw: bytes | None = None
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        body = raw if raw is not None else json.dumps(update).encode()
        return self.client.post(WEBHOOK_PATH, content=body, headers=headers)

    def run_jobs(self) -> None:
        async def drain() -> None:
            while await asyncio.to_thread(drain_jobs, self.ctx.jobs):
                pass

        self.call(drain)

    def cases(self) -> list[Case]:
        async def read() -> list[Case]:
            async with self.ctx.db.session() as s:
                return list(await s.scalars(select(Case).order_by(Case.id)))

        result: list[Case] = self.call(read)
        return result

    def rows(self) -> dict[str, int]:
        result: dict[str, int] = self.call(count_rows, self.ctx)
        return result


@pytest.fixture
def telegram_api() -> Iterator[TelegramStandIn]:
    with running(TOKEN) as api:
        yield api


@pytest.fixture
def tg(tmp_path: Path, sqlite_template: Path, telegram_api: TelegramStandIn) -> Iterator[Stand]:
    settings = sqlite_app_settings(tmp_path, sqlite_template).model_copy(
        update={
            "telegram_token": TOKEN,
            "telegram_webhook_secret": SECRET,
            "telegram_api_url": telegram_api.url,
            "public_url": "https://hotline.example.gov.cn/",
        }
    )
    with TestClient(create_app(settings)) as client:
        city = client.blocking_portal.call(seed_city, client.app.state.ctx)
        yield Stand(client, telegram_api, city)


async def _attachments(ctx: Any, case_id: int) -> list[Attachment]:
    async with ctx.db.session() as s:
        return list(
            await s.scalars(
                select(Attachment)
                .join(Interaction, Interaction.id == Attachment.interaction_id)
                .where(Interaction.case_id == case_id)
            )
        )


async def _inbound(ctx: Any, case_id: int) -> Interaction:
    async with ctx.db.session() as s:
        found = await s.scalar(
            select(Interaction).where(
                Interaction.case_id == case_id, Interaction.direction == Direction.IN
            )
        )
    assert found is not None
    return found


async def _outbound(ctx: Any) -> list[Interaction]:
    async with ctx.db.session() as s:
        return list(
            await s.scalars(
                select(Interaction)
                .where(Interaction.direction == Direction.OUT)
                .order_by(Interaction.id)
            )
        )


def buttons(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def test_a_text_becomes_a_case_and_the_receipt_comes_back_to_the_chat(tg: Stand) -> None:
    update = message(CHAT, text="人民路路灯坏了三天，晚上很黑。")
    for _ in range(2):  # Telegram delivering the same update again makes no second case
        assert tg.post(update).status_code == 200
    [case] = tg.cases()
    assert case.first_channel == "telegram" and case.description == "人民路路灯坏了三天，晚上很黑。"
    assert case.language == "zh_CN"

    async def contact() -> ContactPoint | None:
        async with tg.ctx.db.session() as s:
            return await s.scalar(
                select(ContactPoint).where(ContactPoint.citizen_id == case.citizen_id)
            )

    point = tg.call(contact)
    assert point is not None and (point.kind, point.value) == ("telegram", str(CHAT))
    tg.run_jobs()
    [receipt] = tg.api.texts_to(CHAT)
    assert tracking.display(case.tracking_number) in receipt
    assert lookup_code(tg.ctx.secret_key, case.tracking_number) in receipt
    assert "热线" in receipt  # in the citizen's language
    [out] = tg.call(_outbound, tg.ctx)
    assert out.delivery_status == DeliveryStatus.SENT and out.delivery_detail == (
        f"{CHAT}:{tg.api.last_message_id}"
    )


def test_a_photo_and_a_location_arrive_on_the_case(tg: Stand) -> None:
    small = tg.api.add_file(b"thumbnail", "photos/file_1.jpg")
    large = tg.api.add_file(PNG, "photos/file_2.jpg")
    photo = [
        {"file_id": small, "file_unique_id": "s1", "width": 90, "height": 67, "file_size": 9},
        {"file_id": large, "file_unique_id": "s2", "width": 1280, "height": 960},
    ]
    assert tg.post(message(CHAT, photo=photo, caption="解放路井盖丢了")).status_code == 200
    where = {"latitude": 39.9087, "longitude": 116.3975}
    assert tg.post(message(CHAT, location=where)).status_code == 200

    photo_case, place_case = tg.cases()
    assert photo_case.description == "解放路井盖丢了"
    [attachment] = tg.call(_attachments, tg.ctx, photo_case.id)
    assert attachment.content_type == "image/png" and attachment.size == len(PNG)
    assert [p["file_id"] for p in tg.api.called("getFile")] == [large]  # the largest size only
    assert (place_case.latitude, place_case.longitude) == (39.9087, 116.3975)
    assert place_case.citizen_id == photo_case.citizen_id  # one citizen: the history joins


def test_a_voice_note_is_kept_as_audio_with_its_language(tg: Stand) -> None:
    voice_id = tg.api.add_file(OGG, "voice/file_3.oga")
    voice = {"file_id": voice_id, "file_unique_id": "v1", "duration": 7, "mime_type": "audio/ogg"}
    assert tg.post(message(CHAT, language="en-GB", voice=voice)).status_code == 200
    [case] = tg.cases()
    assert case.language == "en"
    [attachment] = tg.call(_attachments, tg.ctx, case.id)
    assert attachment.content_type == "audio/ogg"
    inbound = tg.call(_inbound, tg.ctx, case.id)
    assert inbound.meta["voice"] == {"language": "en", "duration": 7}
    assert inbound.meta["speech_language"] == "en"  # the transcription job hears English


def test_the_status_lookup_answers_and_a_wrong_pair_only_says_no_match(tg: Stand) -> None:
    result = tg.call(receive, tg.ctx, submission())
    number = tracking.display(result.tracking_number)
    code = lookup_code(tg.ctx.secret_key, result.tracking_number)

    tg.post(message(CHAT, language="en", text=f"/status {number} {code}"))
    answer = tg.api.texts_to(CHAT)[-1]
    assert number in answer and "Received by the hotline" in answer

    tg.post(message(STRANGER, language="en", text=f"/status {number} 000000"))
    other = tracking.new_tracking_number(tg.cases()[0].created_at)
    tg.post(message(STRANGER, language="en", text=f"/status {other} {code}"))
    assert tg.api.texts_to(STRANGER) == ["No case matches that number and code."] * 2

    # the same through the menu: /start, "Look a case up", then the answer to the prompt
    tg.post(message(CHAT, language="zh-hans", text="/start"))
    menu = tg.api.called("sendMessage")[-1]
    assert buttons(menu) == ["menu:complaint", "menu:status", "menu:help"]
    tg.post(button_press(CHAT, "menu:status", message_id=77))
    assert tg.api.called("answerCallbackQuery")
    prompt = tg.api.called("sendMessage")[-1]
    assert prompt["reply_markup"].get("force_reply") is True
    prompt_message = {
        "message_id": 78,
        "from": {"id": 7000001, "is_bot": True, "first_name": "City Hotline"},
        "chat": {"id": CHAT, "type": "private"},
        "date": 1_800_000_000,
        "text": prompt["text"],
    }
    said = f"编号 {number}，查询码 {code}"
    tg.post(message(CHAT, text=said, reply_to_message=prompt_message))
    assert number in tg.api.texts_to(CHAT)[-1] and "热线已受理" in tg.api.texts_to(CHAT)[-1]
    tg.post(message(CHAT, text=said))  # the same words not in answer to the prompt: a case
    assert len(tg.cases()) == 2  # the questions made none


def test_the_answer_reaches_the_chat_with_rating_buttons_and_a_press_rates_it(tg: Stand) -> None:
    tg.post(message(CHAT, text="小区门口垃圾三天没人清运。"))
    tg.run_jobs()
    [case] = tg.cases()

    async def answer() -> None:
        await do_classify(tg.ctx, case.id, "pothole", AGENT)
        await do_dispatch(tg.ctx, case.id, "roads", AGENT)
        await do_sign_for(tg.ctx, case.id, tg.city["roads"], OFFICER)
        await do_department_reply(tg.ctx, case.id, tg.city["roads"], "已清运完毕。", OFFICER)
        await do_review(tg.ctx, case.id, True, AGENT)

    tg.call(answer)
    tg.run_jobs()
    sent = tg.api.called("sendMessage")[-1]
    assert sent["chat_id"] == CHAT and "已清运完毕。" in sent["text"]
    number = case.tracking_number
    assert buttons(sent) == [f"rate:{number}:s", f"rate:{number}:b", f"rate:{number}:n"]

    # a chat that is not this case's citizen cannot rate it
    tg.post(button_press(STRANGER, f"rate:{number}:n", language="en"))
    assert tg.api.called("answerCallbackQuery")[-1]["text"] == (
        "No case matches that number and code."
    )
    assert tg.cases()[0].satisfaction is None

    tg.post(button_press(CHAT, f"rate:{number}:s", message_id=901))
    [rated] = tg.cases()
    assert rated.satisfaction == Satisfaction.SATISFIED and rated.status == CaseStatus.CLOSED
    assert tg.api.called("editMessageReplyMarkup")[-1]["message_id"] == 901
    assert tg.api.called("answerCallbackQuery")[-1]["text"]  # thanked


def test_a_long_answer_is_split_at_telegrams_limit(tg: Stand) -> None:
    tg.post(message(CHAT, language="en", text="When is the library open on holidays?"))
    tg.run_jobs()
    [case] = tg.cases()
    long = ("The library opens at nine. " * 200).strip()  # 5399 characters
    tg.call(do_answer, tg.ctx, case.id, long, AGENT)
    tg.run_jobs()
    first, second = tg.api.called("sendMessage")[-2:]
    assert len(first["text"]) <= 4096 and first["text"].endswith("nine.")
    assert "The library opens at nine." in second["text"]
    assert not buttons(first) and len(buttons(second)) == 3  # rating buttons on the last part
    [_receipt, out] = tg.call(_outbound, tg.ctx)
    assert out.delivery_status == DeliveryStatus.SENT


def test_forged_webhook_calls_are_refused_and_nothing_is_stored(tg: Stand) -> None:
    before = tg.rows()
    update = message(CHAT, text="伪造的消息")
    assert tg.post(update, secret="not-the-secret").status_code == 403
    assert tg.post(update, secret=None).status_code == 403
    assert tg.post(update, secret="").status_code == 403
    assert tg.rows() == before and tg.api.calls == []


def test_malformed_bodies_answer_400_and_store_nothing(tg: Stand) -> None:
    before = tg.rows()
    for raw in (b'{"update_id": 1, "message": {', b"[1, 2]", b'{"message": {}}', b"\xff\xfe"):
        assert tg.post(raw=raw).status_code == 400
    assert tg.rows() == before and tg.api.called("sendMessage") == []


def test_junk_is_ignored_and_never_half_written(tg: Stand) -> None:
    before = tg.rows()
    junk: list[dict[str, Any]] = [
        {"update_id": 1, "edited_channel_post": {"message_id": 1, "text": "x"}},
        {"update_id": 2, "poll": {"id": "p1", "question": "?", "options": []}},
        {"update_id": 3, "my_chat_member": {"chat": {"id": CHAT, "type": "private"}}},
        {"update_id": 4},
        message(-100123, chat_type="supergroup", text="群里的消息"),
        message(
            CHAT,
            language="en",
            sticker={
                "file_id": "st",
                "file_unique_id": "st",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        ),
    ]
    for update in junk:
        assert tg.post(update).status_code == 200
    assert tg.rows() == before
    assert tg.api.texts_to(CHAT) == ["Please send text, photos, your location or a voice note."]

    # a message Telegram's library cannot read is kept for a person, not made a half case
    broken = {"update_id": 5, "message": {"message_id": "x", "chat": "nobody"}}
    assert tg.post(broken).status_code == 200
    after = tg.rows()
    assert after["held_messages"] == before["held_messages"] + 1
    assert after["cases"] == before["cases"] and after["interactions"] == before["interactions"]


def test_an_oversized_text_is_refused_with_a_reply(tg: Stand) -> None:
    tg.ctx.settings.max_text_chars = 100
    before = tg.rows()
    assert tg.post(message(CHAT, language="en", text="word " * 40)).status_code == 200
    assert tg.rows() == before
    [reply] = tg.api.texts_to(CHAT)
    assert reply.startswith("Your message is too long: at most 100 characters.")


def test_a_file_that_cannot_be_fetched_is_held_and_retried_later(tg: Stand) -> None:
    photo = [{"file_id": "GONE", "file_unique_id": "g", "width": 10, "height": 10}]
    assert tg.post(message(CHAT, photo=photo, caption="照片")).status_code == 200
    assert tg.cases() == []

    async def held() -> list[HeldMessage]:
        async with tg.ctx.db.session() as s:
            return list(await s.scalars(select(HeldMessage)))

    [kept] = tg.call(held)
    assert kept.channel == "telegram" and kept.reason.startswith("failed: BadRequest")
    raw = tg.ctx.files.get(kept.sha256)

    async def retry() -> Any:
        return await tg.ctx.pm.hook.process_held(
            ctx=tg.ctx, channel="telegram", raw=raw, source=kept.source
        )

    assert tg.call(retry) == "held"  # still not there
    tg.api.add_file(PNG, "photos/late.jpg", file_id="GONE")  # the file server is back
    assert tg.call(retry) == "case"
    [case] = tg.cases()
    assert case.description == "照片" and len(tg.call(_attachments, tg.ctx, case.id)) == 1


def test_flood_control_is_waited_once_then_left_to_the_outbox(tg: Stand) -> None:
    tg.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    tg.post(message(CHAT, text="第一条"))
    tg.run_jobs()
    assert len(tg.api.called("sendMessage")) == 2  # refused once, sent after the wait
    [first] = tg.call(_outbound, tg.ctx)
    assert first.delivery_status == DeliveryStatus.SENT

    tg.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 3600", retry_after=3600)
    tg.post(message(CHAT, text="第二条"))
    tg.run_jobs()
    assert len(tg.api.called("sendMessage")) == 3  # no waiting an hour inside a job
    second = tg.call(_outbound, tg.ctx)[-1]
    assert second.delivery_status == DeliveryStatus.PENDING  # the outbox tries again later
    assert "Flood control" in (second.delivery_detail or "")


def test_setting_up_points_telegram_at_the_webhook(tg: Stand) -> None:
    said = tg.call(set_up, tg.ctx.settings)
    assert said == f"webhook set to https://hotline.example.gov.cn{WEBHOOK_PATH}"
    assert tg.api.webhook == {
        "url": f"https://hotline.example.gov.cn{WEBHOOK_PATH}",
        "secret_token": SECRET,
    }


def test_text_is_split_without_cutting_a_character_or_a_word() -> None:
    assert split_text("短消息") == ["短消息"]
    parts = split_text("路灯坏了。" * 1000)
    assert "".join(parts) == "路灯坏了。" * 1000
    assert all(len(p) <= 4096 and p.endswith("。") for p in parts)
    emoji = split_text("🚧" * 3000)  # two UTF-16 units each
    assert [len(p) for p in emoji] == [2048, 952] and "".join(emoji) == "🚧" * 3000


def test_buttons_and_languages_are_read_strictly() -> None:
    assert read_button("menu:status") is not None
    for data in (None, "", "menu:drop", "rate:123:s", "rate:2611234815926:x", "rate::s:x"):
        assert read_button(data) is None
    assert [language_of(c, "zh_CN") for c in ("zh-hans", "zh-TW", "en", "ru", None)] == [
        "zh_CN",
        "zh_CN",
        "en",
        "en",
        "zh_CN",
    ]


def test_a_refused_token_leaves_the_answer_to_the_outbox_retries(tg: Stand) -> None:
    tg.post(message(CHAT, text="路口红绿灯坏了。"))
    tg.ctx.settings.telegram_token = "0:revoked-by-botfather"
    tg.run_jobs()
    [out] = tg.call(_outbound, tg.ctx)
    assert out.delivery_status == DeliveryStatus.PENDING
    assert (out.delivery_detail or "").startswith("InvalidToken")
    assert tg.api.called("sendMessage") == []  # the stand-in answered 404 before recording
