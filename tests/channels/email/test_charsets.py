"""The one decoding function, property-based (hypothesis): any text in any of the charsets
Chinese and other mail uses comes back exactly from its bytes under its label and its usual
wrong labels (gb2312 for GBK text, big5 for HKSCS, latin1 for Windows-1252), from RFC 2047
words split anywhere (even inside a character) and folded, and from raw 8-bit headers read
with the message's own charset; a UTF-8 text with one bad byte keeps every other character;
no bytes and no label ever make it fail."""

from __future__ import annotations

import base64
import quopri
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hotline.channels.email.charsets import decode_bytes, decode_text, header_text
from hotline.channels.email.inbound import Limits, MailParseError, parse_mail, to_submission

POOL = (
    [chr(c) for c in range(0x20, 0x7F)]
    + [chr(c) for c in range(0xA0, 0x180)]
    + [chr(c) for c in range(0x4E00, 0x9FA6, 7)]  # CJK, simplified and traditional
    + list("镕喆珺堃昇犇淼鑫𠮷")  # beyond GB2312: GBK and GB18030's four-byte plane
    + list("，。！？：；“”（）《》、")
    + [chr(c) for c in range(0x3041, 0x3097)]  # hiragana
    + [chr(c) for c in range(0x30A1, 0x30FB)]  # katakana
    + [chr(c) for c in range(0xAC00, 0xAD00, 3)]  # hangul
    + list("€‘’…—")
)
# (label as mail gives it, the codec the sender really used)
LABELS = [
    ("gb2312", "gbk"),
    ("GB2312", "gb18030"),
    ("gbk", "gbk"),
    ("x-gbk", "gbk"),
    ("gb18030", "gb18030"),
    ("big5", "big5hkscs"),
    ("iso-2022-jp", "iso2022_jp"),
    ("shift_jis", "cp932"),
    ("euc-kr", "cp949"),
    ("iso-8859-1", "cp1252"),
    ("windows-1252", "cp1252"),
    ("utf-8", "utf-8"),
]


def _encodable(codec: str) -> list[str]:
    """The characters the codec writes and reads back as themselves (cp932 reads its own
    "¢" back as the full-width "￠": the codec's doing, not the reader's)."""
    found = []
    for c in POOL:
        try:
            if c.encode(codec).decode(codec) == c:
                found.append(c)
        except UnicodeEncodeError:
            continue
    return found


ALPHABETS = {codec: _encodable(codec) for _, codec in LABELS}


@st.composite
def labelled_text(draw: st.DrawFn, min_size: int = 1) -> tuple[str, str, str]:
    label, codec = draw(st.sampled_from(LABELS))
    text = draw(st.text(alphabet=st.sampled_from(ALPHABETS[codec]), min_size=min_size))
    return label, codec, text


@settings(max_examples=300)
@given(labelled_text())
def test_a_labelled_body_comes_back_exactly(case: tuple[str, str, str]) -> None:
    label, codec, text = case
    # under a Latin-1 label, bytes that are valid UTF-8 are read as the UTF-8 they nearly
    # always are ("Ã©" in Latin-1 is the bytes of "é" in UTF-8)
    assume(codec != "cp1252" or text.isascii() or not _is_utf8(text.encode(codec)))
    decoded = decode_bytes(text.encode(codec), label)
    assert decoded.text == text and decoded.exact


@settings(max_examples=300)
@given(labelled_text(), st.data())
def test_encoded_words_split_anywhere_and_folded(
    case: tuple[str, str, str], data: st.DataObject
) -> None:
    label, codec, text = case
    assume(codec != "cp1252" or text.isascii() or not _is_utf8(text.encode(codec)))
    raw = text.encode(codec)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=4)))
    chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    words = []
    for chunk in chunks:
        if data.draw(st.booleans()):
            words.append(b"=?" + label.encode() + b"?B?" + base64.b64encode(chunk) + b"?=")
        else:
            q = quopri.encodestring(chunk, header=True).replace(b"=\n", b"").replace(b"?", b"=3F")
            words.append(b"=?" + label.encode() + b"?Q?" + q + b"?=")
    folding = data.draw(st.sampled_from([b" ", b"\r\n ", b"\r\n\t", b"\n  "]))
    assert header_text(folding.join(words)) == text


@settings(max_examples=200)
@given(
    st.text(alphabet=st.sampled_from(ALPHABETS["utf-8"][95:]), min_size=4),
    st.data(),
)
def test_utf8_with_one_bad_byte_keeps_every_other_character(text: str, data: st.DataObject) -> None:
    cjk = [c for c in text if ord(c) > 0x2E80]
    if len(cjk) < 4:
        text += "路灯坏了"
    where = data.draw(st.integers(0, len(text)))
    bad = data.draw(st.sampled_from([b"\xff", b"\xfe", b"\xc0", b"\x80"]))
    raw = text[:where].encode() + bad + text[where:].encode()
    for label in ("utf-8", None):
        assert decode_text(raw, label) == text[:where] + "\ufffd" + text[where:]


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=200)
@given(st.sampled_from(["gbk", "gb2312", "big5", "iso-8859-1"]), st.data())
def test_raw_8bit_headers_are_read_with_the_messages_charset(
    label: str, data: st.DataObject
) -> None:
    codec = dict(LABELS)[label]
    alphabet = [c for c in ALPHABETS[codec] if ord(c) > 0x7F]
    text = data.draw(st.text(alphabet=st.sampled_from(alphabet), min_size=1))
    # bytes that are valid UTF-8 too are read as UTF-8 first (as mail readers do): a short GBK
    # text can be, e.g. 危 is CE A3, which is UTF-8 for Σ
    assume(not _is_utf8(text.encode(codec)))
    raw = text.encode(codec).decode("ascii", "surrogateescape")  # as the parser keeps it
    assert header_text(raw, prefer=[label]) == text


@settings(max_examples=300)
@given(
    st.binary(max_size=300),
    st.one_of(st.none(), st.sampled_from([label for label, _ in LABELS]), st.text(max_size=20)),
)
def test_no_bytes_and_no_label_make_it_fail(raw: bytes, label: str | None) -> None:
    decoded = decode_bytes(raw, label)
    assert isinstance(decoded.text, str)
    if not decoded.exact:
        assert decoded.charset  # says which codec it used
    header_text(raw)


def test_utf8_under_a_latin1_label_is_utf8() -> None:
    assert header_text(b"=?iso-8859-1?Q?M=C3=BCller_=C3=B8?=") == "Müller ø"
    assert decode_text("Müller".encode(), "us-ascii") == "Müller"
    assert decode_text("Müller".encode("latin-1"), "iso-8859-1") == "Müller"


def test_an_encoded_word_that_lost_its_end_is_still_read() -> None:
    assert header_text(b"Re: =?utf-8?B?5pys5paH") == "Re: 本文"
    assert header_text(b"=?utf-8*zh?B?5pys5paH?= x") == "本文 x"  # RFC 2231 language


def test_unlabelled_chinese_and_latin1_are_detected() -> None:
    gbk = "我们小区门口的垃圾已经一个星期没有人清理了，请尽快处理。"
    assert decode_text(gbk.encode("gbk")) == gbk
    big5 = "中山路的路燈壞了很久，晚上很黑，請盡快修理。"
    assert decode_text(big5.encode("big5")) == big5
    assert decode_text("Rue fermée".encode("latin-1")) == "Rue fermée"
    assert decode_text("投诉：下水道堵塞".encode("gbk")) == "投诉：下水道堵塞"


CORPUS = [p.read_bytes() for p in sorted((Path(__file__).parent / "corpus").glob("*.eml"))]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(CORPUS),
    st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from(["flip", "cut", "insert", "drop"]),
            st.binary(min_size=1, max_size=8),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_a_damaged_message_is_read_or_refused_with_a_reason(
    raw: bytes, damage: list[tuple[float, str, bytes]]
) -> None:
    """Bytes flipped, cut, inserted or dropped anywhere: the parser reads what it can or says
    why it cannot (MailParseError); it never fails otherwise (a message must never stop a
    mailbox)."""
    data = bytearray(raw)
    for where, how, junk in damage:
        at = int(where * len(data))
        if how == "flip" and data:
            data[min(at, len(data) - 1)] ^= junk[0] or 1
        elif how == "cut":
            del data[at:]
        elif how == "insert":
            data[at:at] = junk
        else:
            del data[at : at + len(junk)]
    try:
        mail = parse_mail(bytes(data))
    except MailParseError:
        return
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)
    to_submission(mail, bytes(data), purpose="public", limits=Limits(1 << 20, 10))
