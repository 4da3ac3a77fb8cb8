"""One test per raw message in channels/email/fixtures: what the parser reads from it and what
intake would receive. Every fixture must be listed here (a test fails for a new unlisted one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.channels.email.inbound import (
    Limits,
    MailParseError,
    ParsedMail,
    parse_mail,
    to_submission,
)
from hotline.core.cases import tracking

FIXTURES = Path(__file__).resolve().parents[3] / "channels" / "email" / "fixtures"
OURS = "<hotline.2612.42.abcdef@hotline.example.cn>"
LIMITS = Limits(max_bytes=64 * 1024, max_files=10)


def sub(mail: ParsedMail, name: str, purpose: str = "public"):  # type: ignore[no-untyped-def]
    return to_submission(mail, (FIXTURES / name).read_bytes(), purpose=purpose, limits=LIMITS)


def _plain_zh(m: ParsedMail) -> None:
    assert (m.from_name, m.from_address) == ("Zhang San", "zhangsan@example.cn")
    assert m.subject == "路灯不亮" and m.text == "人民路路灯坏了三天，晚上很黑。"
    s = sub(m, "01_plain_zh.eml")
    assert s.language == "zh_CN" and s.contacts[0].value == "zhangsan@example.cn"
    assert s.external_id == f"public:{m.digest} {m.message_id}" and s.raw is not None
    assert s.meta["message_id"] == m.message_id


def _plain_en(m: ParsedMail) -> None:
    assert m.text.startswith("The street light") and sub(m, "02_plain_en.eml").language == "en"


def _html_only(m: ParsedMail) -> None:
    assert m.from_html and "alert" not in m.text and "color" not in m.text
    assert m.text == "小区门口 垃圾堆积如山\n请尽快清理"
    assert "<" not in m.text and sub(m, "03_html_only.eml").meta["from_html"] is True


def _alternative(m: ParsedMail) -> None:
    assert m.text == "楼下工地夜间施工，噪音很大。" and not m.from_html  # the text part chosen


def _gbk(m: ParsedMail) -> None:
    assert m.subject == "投诉：下水道堵塞" and m.text == "解放路下水道堵塞，污水外溢。"


def _gb2312_with_gbk(m: ParsedMail) -> None:
    assert m.subject == "张喆反映情况" and "张喆" in m.text and "镕基路" in m.text


def _gb18030(m: ParsedMail) -> None:
    assert m.subject == "罕见字" and m.text == "地址：𠮷野家对面"


def _big5(m: ParsedMail) -> None:
    assert m.subject == "路燈故障" and m.text == "中山路的路燈壞了很久。"


def _encoded_name(m: ParsedMail) -> None:
    assert m.from_name == "李四" and sub(m, "09_encoded_sender_name.eml").citizen_name == "李四"


def _rfc2231(m: ParsedMail) -> None:
    s = sub(m, "10_rfc2231_filename.eml")
    assert [a.filename for a in s.attachments] == ["现场照片.png"]


def _encoded_word_name(m: ParsedMail) -> None:
    assert [f.filename for f in m.files] == ["情况说明.pdf"]


def _inline_image(m: ParsedMail) -> None:
    assert m.text == "井盖丢失，见图：" and m.files[0].inline
    assert sub(m, "12_inline_image.eml").attachments[0].filename == "part-1.png"


def _pdf(m: ParsedMail) -> None:
    assert [a.filename for a in sub(m, "13_pdf_attachment.eml").attachments] == ["letter.pdf"]


def _forwarded(m: ParsedMail) -> None:
    assert m.text.startswith("转发邻居的邮件") and "我们小区已经停水两天了" in m.text
    assert "小区停水" in m.text


def _auto(kind: str) -> Callable[[ParsedMail], None]:
    def check(m: ParsedMail) -> None:
        assert m.automatic == kind and m.bounced == []

    return check


def _bounce(m: ParsedMail) -> None:
    assert m.automatic == "bounce" and m.bounced == [OURS]
    assert "550 5.1.1" in m.bounce_reason and m.files == []


def _bounce_plain(m: ParsedMail) -> None:
    assert m.automatic == "bounce" and m.bounced == [OURS] and "5.1.1" in m.bounce_reason


def _reply(m: ParsedMail) -> None:
    assert m.in_reply_to == [OURS] and OURS in m.references
    assert m.tracking_numbers() == ["2612021234566"]


def _subject_number(m: ParsedMail) -> None:
    assert m.tracking_numbers() == ["2612021234566"]
    assert tracking.is_valid(m.tracking_numbers()[0])


def _huge(m: ParsedMail) -> None:
    s = sub(m, "24_huge_attachment.eml")
    assert s.attachments == [] and s.text == "Video attached."
    assert s.meta["refused_files"] == [{"filename": "flood.mp4", "reason": "too_large"}]


def _malformed(m: ParsedMail) -> None:
    assert m.from_address == "zhangsan@example.cn" and m.subject.startswith("受")
    assert "the body survives" in m.text and m.date is None
    assert "InvalidDate" in m.defects and sub(m, "25_malformed_headers.eml").meta["defects"]


def _no_body(m: ParsedMail) -> None:
    assert m.text == "" and sub(m, "26_no_body.eml").text == "公交站台顶棚破损"


def _executable(m: ParsedMail) -> None:
    s = sub(m, "27_executable_as_pdf.eml")
    assert s.attachments == [] and s.text == "报告见附件。"
    assert s.meta["refused_files"] == [{"filename": "report.pdf", "reason": "type_not_accepted"}]


def _latin1(m: ParsedMail) -> None:
    assert m.subject == "Rue fermée" and m.text == "La rue est fermée depuis lundi."


def _qp(m: ParsedMail) -> None:
    assert m.text == "小区乱停车严重。"


def _unknown_charset(m: ParsedMail) -> None:
    assert m.text == "路面积水"  # read as UTF-8 when the label means nothing


def _director(m: ParsedMail) -> None:
    s = sub(m, "33_director.eml", purpose="director")
    assert s.kind == "director_mailbox" and "局长您好" in s.text


def _fax(m: ParsedMail) -> None:
    assert m.subject.startswith("Facsimile received from +86 10 6512 3456")
    assert [(f.filename, f.content_type) for f in m.files] == [("fax000123.tif", "image/tiff")]


CHECKS: dict[str, Callable[[ParsedMail], None]] = {
    "01_plain_zh.eml": _plain_zh,
    "02_plain_en.eml": _plain_en,
    "03_html_only.eml": _html_only,
    "04_alternative.eml": _alternative,
    "05_gbk_subject.eml": _gbk,
    "06_gb2312_declared_gbk_text.eml": _gb2312_with_gbk,
    "07_gb18030.eml": _gb18030,
    "08_big5.eml": _big5,
    "09_encoded_sender_name.eml": _encoded_name,
    "10_rfc2231_filename.eml": _rfc2231,
    "11_encoded_word_filename.eml": _encoded_word_name,
    "12_inline_image.eml": _inline_image,
    "13_pdf_attachment.eml": _pdf,
    "14_forwarded.eml": _forwarded,
    "15_auto_submitted.eml": _auto("auto_reply"),
    "16_out_of_office_zh.eml": _auto("auto_reply"),
    "17_precedence_bulk.eml": _auto("bulk"),
    "18_bounce_dsn.eml": _bounce,
    "19_bounce_plain.eml": _bounce_plain,
    "20_dsn_delayed.eml": _auto("report"),  # a delay is not a failure
    "21_read_receipt.eml": _auto("report"),
    "22_reply_to_hotline.eml": _reply,
    "23_subject_tracking_number.eml": _subject_number,
    "24_huge_attachment.eml": _huge,
    "25_malformed_headers.eml": _malformed,
    "26_no_body.eml": _no_body,
    "27_executable_as_pdf.eml": _executable,
    "29_latin1.eml": _latin1,
    "30_quoted_printable.eml": _qp,
    "31_unknown_charset.eml": _unknown_charset,
    "32_loop_from_ourselves.eml": _auto("loop"),
    "33_director.eml": _director,
    "34_fax_gateway.eml": _fax,
}
UNREADABLE = {"28_no_sender.eml": "no sender"}


def test_every_fixture_is_checked() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.eml")}
    assert on_disk == set(CHECKS) | set(UNREADABLE) and len(on_disk) >= 30


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_fixture(name: str) -> None:
    CHECKS[name](parse_mail((FIXTURES / name).read_bytes()))


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_unreadable_fixture_says_why(name: str) -> None:
    with pytest.raises(MailParseError, match=UNREADABLE[name]):
        parse_mail((FIXTURES / name).read_bytes())


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(MailParseError, match="empty"):
        parse_mail(b"\r\n")
