"""One test per captured Kannel call in channels/sms/fixtures: what the hotline reads from it
(a message, STOP, a status question) or why it refuses it; and how answers are split into SMS
parts in Chinese and English."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.channels.sms.inbound import (
    IncomingSms,
    SmsRefused,
    is_stop,
    parse_mo,
    status_question,
    to_submission,
)
from hotline.channels.sms.outbound import GSM, UCS2, split

FIXTURES = Path(__file__).resolve().parents[3] / "channels" / "sms" / "fixtures"


def call(name: str) -> IncomingSms:
    data = json.loads((FIXTURES / name).read_text())
    if data["method"] == "GET":
        return parse_mo(data["query"], {}, None)
    return parse_mo("", data["headers"], bytes.fromhex(data["body_hex"]))


def _message(text: str, sender: str, language: str) -> Callable[[IncomingSms], None]:
    def check(sms: IncomingSms) -> None:
        assert (sms.text, sms.sender) == (text, sender)
        assert not is_stop(sms) and status_question(sms) is None
        sub = to_submission(sms)
        assert sub.channel == "sms" and sub.language == language
        assert sub.contacts[0].value == sender and sub.text == text

    return check


def _long(sms: IncomingSms) -> None:
    assert sms.text.startswith("我要反映一个问题") and len(sms.text) > 200  # joined by smsbox
    assert to_submission(sms).external_id == "5b0e-06"


def _stop(sms: IncomingSms) -> None:
    assert is_stop(sms) and status_question(sms) is None


def _status(sms: IncomingSms) -> None:
    question = status_question(sms)
    assert question is not None
    assert (question.tracking_number, question.factor) == ("2612021234566", "123456")


def _not_status(sms: IncomingSms) -> None:
    assert status_question(sms) is None  # a mistyped number is a message, not a question


READ: dict[str, Callable[[IncomingSms], None]] = {
    "01_get_zh_recoded.json": _message("人民路路灯坏了三天", "+8613800138000", "zh_CN"),
    "02_get_en.json": _message("Street light out at Main St", "13800138000", "en"),
    "03_get_ucs2_not_recoded.json": _message("解放路积水", "+8613900139000", "zh_CN"),
    "04_post_headers_utf8.json": _message("小区垃圾无人清运", "+8613700137000", "zh_CN"),
    "05_post_ucs2.json": _message("噪音扰民请处理", "+8613700137001", "zh_CN"),
    "06_get_long_joined.json": _long,
    "07_stop_en.json": _stop,
    "08_stop_zh.json": _stop,
    "09_status_query.json": _status,
    "10_status_bad_check_digit.json": _not_status,
}
REFUSED = {
    "11_binary_8bit.json": "binary",
    "12_empty.json": "empty",
    "13_no_sender.json": "no sender",
    "14_oversized.json": "oversized",
    "15_control_chars.json": "control characters",
    "16_bad_utf8.json": "charset",
}


def test_every_fixture_is_checked() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == set(READ) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(READ))
def test_fixture_is_read(name: str) -> None:
    READ[name](call(name))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_fixture_is_refused_with_a_reason_safe_to_log(name: str) -> None:
    with pytest.raises(SmsRefused, match=REFUSED[name]) as refused:
        call(name)
    assert "138" not in str(refused.value)  # never the number in the reason


def test_short_answers_are_one_sms() -> None:
    assert split("Your case 2612 0212 3456 6 was received.") == (
        GSM,
        ["Your case 2612 0212 3456 6 was received."],
    )
    assert split("您的诉求已受理。")[0] is UCS2


def test_long_english_splits_at_spaces_in_153_character_parts() -> None:
    text = " ".join(["pothole"] * 60)  # 479 characters
    encoding, parts = split(text)
    assert encoding is GSM and len(parts) == 4
    assert all(len(p) <= 153 for p in parts) and "".join(parts) == text
    assert all(not p.startswith("ole") for p in parts)  # no word cut in two


def test_long_chinese_splits_in_67_unit_parts_after_punctuation() -> None:
    text = "您反映的解放路积水问题，已由市政部门处理完毕。" * 8  # 184 characters
    encoding, parts = split(text)
    # three parts at the least; cutting at punctuation may take one more, never more than that
    assert encoding is UCS2 and len(parts) in (3, 4) and "".join(parts) == text
    assert all(len(p) <= 67 for p in parts)
    assert all(p.endswith(("，", "。")) for p in parts[:-1])


def test_a_character_outside_the_basic_plane_is_never_cut() -> None:
    text = "𠮷" * 40  # each is two UTF-16 units: 80 units, more than one SMS
    encoding, parts = split(text)
    assert encoding is UCS2 and "".join(parts) == text
    assert all(len(p.encode("utf-16-be")) // 2 <= 67 for p in parts)


def test_extended_gsm_characters_count_twice() -> None:
    encoding, parts = split("€" * 100)
    assert encoding is GSM and len(parts) == 2  # 200 septets: two parts
