"""Small pieces a citizen meets indirectly: tracking numbers, phone numbers, files, deadlines,
languages, settings."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.core.cases import tracking
from hotline.core.cases.contacts import InvalidContact, normalise
from hotline.core.foundation.settings import Settings, ensure_secret_key
from hotline.core.reference.deadlines import deadline
from hotline.core.shell.i18n import choose_language, load_catalogs
from hotline.core.storage.files import FileStore, sniff
from tests.factories import ELF, PDF, PNG

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_tracking_numbers_catch_every_single_slip_on_a_keypad() -> None:
    now = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    for _ in range(200):
        number = tracking.new_tracking_number(now)
        assert len(number) == tracking.LENGTH and number.startswith("261123")
        assert tracking.is_valid(number) and tracking.is_valid(tracking.display(number))
        for i in range(len(number)):
            for d in "0123456789":
                if d != number[i]:
                    assert not tracking.is_valid(number[:i] + d + number[i + 1 :])
            if i + 1 < len(number) and number[i] != number[i + 1]:
                swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
                assert not tracking.is_valid(swapped)


@pytest.mark.parametrize(
    ("kind", "given", "stored"),
    [
        ("phone", "138 0013 8000", "+8613800138000"),
        ("phone", "+86-138-0013-8000", "+8613800138000"),
        ("phone", "010 6552 9988", "+861065529988"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("email", "Li.Lei@Example.COM", "Li.Lei@example.com"),
        ("telegram", " 123456789 ", "123456789"),
    ],
)
def test_contacts_are_stored_in_one_form(kind: str, given: str, stored: str) -> None:
    assert normalise(kind, given, "CN") == stored


@pytest.mark.parametrize(
    ("kind", "given"),
    [("phone", "12"), ("phone", "hello"), ("email", "a@"), ("fax", ""), ("pager", "1")],
)
def test_bad_contacts_are_refused(kind: str, given: str) -> None:
    with pytest.raises(InvalidContact):
        normalise(kind, given, "CN")


def test_file_type_comes_from_content_not_name(tmp_path: Path) -> None:
    assert sniff(PNG) == "image/png"
    assert sniff(PDF) == "application/pdf"
    assert sniff("纯文本".encode()) == "text/plain"
    assert sniff(ELF) != "image/jpeg"
    store = FileStore(tmp_path)
    digest = store.put(PNG)
    assert store.put(PNG) == digest and store.get(digest) == PNG
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [digest]


def test_working_day_deadline_skips_the_weekend() -> None:
    friday_afternoon = datetime(2026, 11, 27, 15, 0, tzinfo=SHANGHAI)
    due = deadline(friday_afternoon, 2, "working_days", SHANGHAI)
    assert due == datetime(2026, 12, 1, 17, 30, tzinfo=SHANGHAI)  # Mon, Tue


def test_working_hour_deadline_carries_over_night_and_weekend() -> None:
    friday_late = datetime(2026, 11, 27, 16, 30, tzinfo=SHANGHAI)
    due = deadline(friday_late, 3, "working_hours", SHANGHAI)
    assert due == datetime(2026, 11, 30, 11, 0, tzinfo=SHANGHAI)  # 1h Fri, 2h Mon
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
    assert deadline(saturday, 1, "working_hours", SHANGHAI) == datetime(
        2026, 11, 30, 10, 0, tzinfo=SHANGHAI
    )


@pytest.mark.parametrize(
    ("chosen", "header", "expected"),
    [
        (None, "zh-CN,zh;q=0.9", "zh_CN"),
        (None, "zh-Hans", "zh_CN"),
        (None, "en-US,en;q=0.8,zh;q=0.5", "en"),
        (None, "fr-FR,en;q=0.3", "en"),
        (None, "fr-FR", "zh_CN"),
        ("en", "zh-CN", "en"),
        ("xx", "en", "en"),
        ("zh-CN", "en", "zh_CN"),
        ("zh", "en", "zh_CN"),
        ("en-US", "zh-CN", "en"),
    ],
)
def test_language_choice(chosen: str | None, header: str, expected: str) -> None:
    assert choose_language(chosen, header, "zh_CN") == expected


def test_catalogs_translate_every_string_into_chinese() -> None:
    from babel.messages.pofile import read_po

    root = Path(__file__).parents[2] / "core" / "locale"
    for language in ("zh_CN", "en"):
        with (root / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh)
        missing = [
            m.id
            for m in catalog
            if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
        ]
        assert missing == [], f"{language} lacks {missing}"
    assert load_catalogs().gettext("zh_CN", "How can we help?") == "我们能帮您什么？"


def test_every_string_in_the_code_is_in_the_catalogs() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).parents[2]
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    used = set()
    for folder in ("core", "plugins", "portal", "admin", "channels", "speech"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(root / folder), method_map
        ):
            used.add(message if isinstance(message, str) else message[0])
    assert "How can we help?" in used
    with (root / "core/locale/zh_CN/LC_MESSAGES/messages.po").open("rb") as fh:
        # a plural message's id is (singular, plural); the code names it by its singular
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert used - known == set(), "run `make catalogs` and translate the new strings"


def test_secret_key_is_made_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    key = ensure_secret_key(settings)
    assert len(key) > 40 and ensure_secret_key(settings) == key
    assert stat.S_IMODE((tmp_path / "d" / "secret_key").stat().st_mode) == 0o600
    assert key not in repr(Settings(data_dir=tmp_path / "d", secret_key=key))
