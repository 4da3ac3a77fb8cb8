"""The corpus (tests/channels/email/corpus, see build.py there): each message read by the
parser as a person must read it: the exact subject, sender's name and text, the files kept,
and why automatic mail makes no case. The same corpus goes through Dovecot in
test_corpus_mailbox.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hotline.channels.email.inbound import (
    Limits,
    MailParseError,
    content_digest,
    parse_mail,
    to_submission,
)

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED: dict[str, dict[str, object]] = json.loads((CORPUS / "expected.json").read_text())
LIMITS = Limits(max_bytes=1024 * 1024, max_files=10)


def test_every_message_has_an_expectation() -> None:
    assert {p.name for p in CORPUS.glob("*.eml")} == set(EXPECTED)
    assert len(EXPECTED) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_message(name: str) -> None:
    want = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    if want["outcome"] == "held":
        with pytest.raises(MailParseError, match=str(want["reason"])):
            parse_mail(raw)
        return
    mail = parse_mail(raw)
    if want["outcome"] in ("ignored", "bounce"):
        assert mail.automatic == want["reason"] and mail.automatic_why
        return
    assert mail.automatic is None
    if "subject" in want:
        assert mail.subject == want["subject"]
    if "from_name" in want:
        assert mail.from_name == want["from_name"]
    submission = to_submission(mail, raw, purpose="public", limits=LIMITS)
    for piece in want.get("text_has", []):  # type: ignore[attr-defined]
        assert piece in submission.text  # what intake takes: the text, or else the subject
    for piece in want.get("text_lacks", []):  # type: ignore[attr-defined]
        assert piece not in submission.text
    if "from_html" in want:
        assert mail.from_html is want["from_html"]
    assert "\x00" not in submission.text
    if "files" in want:
        assert [a.filename for a in submission.attachments] == want["files"]
    assert submission.raw == raw


def test_a_reused_message_id_is_two_messages_and_a_redelivery_is_one() -> None:
    def identity(name: str) -> str:
        raw = (CORPUS / name).read_bytes()
        return to_submission(parse_mail(raw), raw, purpose="public", limits=LIMITS).external_id

    first, second = identity("s14_reused_message_id_a.eml"), identity("s14_reused_message_id_b.eml")
    assert first != second
    assert identity("s16_redelivered_copy.eml") == first


RELAYS = [
    b"Received: from relay.example.net (relay [192.0.2.1]) by mx.example.cn; Tue, 1 Dec 2026\r\n",
    b"Delivered-To: 12345@hotline.example.cn\r\n",
    b"Return-Path: <citizen@example.cn>\r\n",
    b"X-Spam-Score: 0.1\r\n",
    b"DKIM-Signature: v=1; a=rsa-sha256; d=example.cn;\r\n\tb=abc\r\n",
]
MESSAGES = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]


@settings(max_examples=200)
@given(st.sampled_from(MESSAGES), st.lists(st.sampled_from(RELAYS), max_size=4), st.booleans())
def test_a_copy_through_other_relays_is_the_same_message(
    raw: bytes, relays: list[bytes], bare_lf: bool
) -> None:
    copy = b"".join(relays) + raw
    if bare_lf:
        copy = copy.replace(b"\r\n", b"\n")
    assert content_digest(copy) == content_digest(raw)


@settings(max_examples=200)
@given(st.sampled_from(MESSAGES), st.data())
def test_other_words_under_the_same_message_id_are_another_message(
    raw: bytes, data: st.DataObject
) -> None:
    start = raw.find(b"\r\n\r\n") + 4
    words = [i for i in range(start, len(raw)) if raw[i : i + 1].isalnum()]
    assume(words)
    at = data.draw(st.sampled_from(words))
    other = data.draw(st.sampled_from([c for c in b"ABCxyz019" if c != raw[at]]))
    changed = raw[:at] + bytes([other]) + raw[at + 1 :]
    assert content_digest(changed) != content_digest(raw)


def test_a_message_without_the_blank_line_keeps_its_words_in_its_identity() -> None:
    head = b"From: a@example.cn\r\nSubject: x\r\nMessage-ID: <same@example.cn>\r\n"
    first, second = head + "东门路灯坏了".encode(), head + "西门井盖丢了".encode()
    assert content_digest(first) != content_digest(second)
    assert content_digest(b"From someone Tue Dec  1 09:30:00 2026\n" + first) == content_digest(
        first
    )
