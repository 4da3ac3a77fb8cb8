"""``hotline mail import``: .eml files, mbox files and Maildir folders through the same path as
the IMAP reader, with a summary of what became of them; a replay makes no second case; a path
that is not there is refused with its name, and nothing is read."""

from __future__ import annotations

import asyncio
import mailbox
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.core.commands.cli import main
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import open_context
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.intake import MessageTrace

CORPUS = Path(__file__).resolve().parent / "corpus"


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("HOTLINE_SECRET_KEY", settings.secret_key)
    return settings


def counts(settings: Settings) -> tuple[int, int]:
    async def run() -> tuple[int, int]:
        async with open_context(settings) as ctx, ctx.db.session() as s:
            cases = await s.scalar(select(func.count()).select_from(Case))
            traces = await s.scalar(select(func.count()).select_from(MessageTrace))
            return int(cases or 0), int(traces or 0)

    return asyncio.run(run())


def test_eml_files_and_a_folder_of_them(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "old-system"
    folder.mkdir()
    for name in ("c07_raw_gbk_headers.eml", "a04_list_id.eml", "u01_no_from.eml"):
        shutil.copy(CORPUS / name, folder / name)
    single = CORPUS / "c04_big5_words.eml"
    assert main(["mail", "import", str(folder), str(single)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        "4 messages: 2 new cases, 0 added to their cases, 1 held for a person, 0 duplicates,"
        " 1 ignored (list 1)"
    )
    assert counts(cli_env) == (2, 1)
    assert main(["mail", "import", str(folder), str(single)]) == 0  # replayed
    again = capsys.readouterr().out
    assert "0 new cases" in again and "2 duplicates" in again and "1 held" in again
    assert counts(cli_env) == (2, 3)  # the list mail counted again, two duplicate traces


def test_an_mbox_file(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "archive.mbox"
    box = mailbox.mbox(str(path))
    names = ["c01_gb2312_label_gbk_text.eml", "s07_winmail_dat_only.eml", "a01_auto_submitted.eml"]
    for name in names:
        box.add((CORPUS / name).read_bytes())
    box.close()
    assert main(["mail", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 messages: 2 new cases,") and "1 ignored (auto_reply 1)" in out

    async def subjects() -> list[str]:
        async with open_context(cli_env) as ctx, ctx.db.session() as s:
            return sorted(await s.scalars(select(Case.subject)))

    assert asyncio.run(subjects()) == ["关于镕基路的投诉", "涵洞积水"]


def test_a_maildir_into_the_directors_mailbox(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    box = mailbox.Maildir(str(tmp_path / "Maildir"))
    for name in ("c03_gb18030_four_byte.eml", "s14_reused_message_id_a.eml"):
        box.add((CORPUS / name).read_bytes())
    assert main(["mail", "import", "--mailbox", "director", str(tmp_path / "Maildir")]) == 0
    assert "2 new cases" in capsys.readouterr().out

    async def letters() -> list[tuple[str, bool]]:
        async with open_context(cli_env) as ctx, ctx.db.session() as s:
            return [(c.kind, c.sealed) for c in await s.scalars(select(Case))]

    assert asyncio.run(letters()) == [("director_mailbox", True)] * 2


def test_a_missing_path_is_refused_and_nothing_is_read(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = CORPUS / "c04_big5_words.eml"
    assert main(["mail", "import", str(good), str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert counts(cli_env) == (0, 0)
