"""``hotline report``: a report as a file from the command line (cron jobs, migrations): the
saved reports listed, one a line, name first; a saved report's breakdown written as Excel with
the period before beside it, counts equal to the cases of the period; CSV to standard output;
every file audited; a wrong name or date refused with the reason."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from hotline.core.commands.cli import main


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(data))
    monkeypatch.setenv("HOTLINE_DEFAULT_LANGUAGE", "en")
    assert main(["demo-data", "--days", "3", "--per-day", "8"]) == 0
    with closing(sqlite3.connect(data / "hotline.db")) as db, db:
        owner = db.execute("SELECT id FROM users WHERE username = 'demo-supervisor'").fetchone()
        db.execute(
            "INSERT INTO saved_reports (name, query, owner_id, shared_with, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                "Weekly by channel",
                json.dumps({"kind": "week", "breakdown": "channel"}),
                owner[0],
                "supervisor",
                datetime.now().isoformat(" "),
            ),
        )
    return data


def test_reports_are_listed_name_first(city: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["standard", "Weekly by channel"]
    assert "demo-supervisor" in lines[1] and "by channel" in lines[1]


def test_a_saved_report_is_written_as_excel_with_its_breakdown(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    first = today - timedelta(days=3)
    out = tmp_path / "week.xlsx"
    args = ["report", "Weekly by channel", "--from", str(first), "--to", str(today)]
    assert main([*args, "--format", "xlsx", "--out", str(out)]) == 0
    assert f"{out}: Weekly by channel" in capsys.readouterr().out
    book = openpyxl.load_workbook(out)
    assert "Cases opened by channel" in book.sheetnames
    sheet = book["Cases opened by channel"]
    header, *rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert header == ["Cases opened by channel", "This period", "Period before", "Change (环比)"]
    with closing(sqlite3.connect(city / "hotline.db")) as db:
        opened = db.execute(
            "SELECT first_channel, count(*) FROM cases WHERE sealed = 0 GROUP BY first_channel"
        ).fetchall()
    # every demo case is in these days: the breakdown's counts are the cases per channel
    assert sorted(r[1] for r in rows if r[1]) == sorted(n for _, n in opened)
    figures = [[c.value for c in r] for r in book[book.sheetnames[0]].iter_rows()]
    cases = next(r for r in figures if r[0] == "Cases opened")
    assert cases[1] == sum(n for _, n in opened) + _sealed(city)
    with closing(sqlite3.connect(city / "hotline.db")) as db:
        audited = db.execute(
            "SELECT detail FROM audit_entries WHERE action = 'export' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert audited and '"Weekly by channel"' in audited[0] and '"xlsx"' in audited[0]


def _sealed(data: Path) -> int:
    with closing(sqlite3.connect(data / "hotline.db")) as db:
        return int(db.execute("SELECT count(*) FROM cases WHERE sealed = 1").fetchone()[0])


def test_csv_goes_to_standard_output(
    city: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    capsysbinary.readouterr()
    day = str(date.today())
    assert main(["report", "standard", "--from", day, "--format", "csv", "--out", "-"]) == 0
    text = capsysbinary.readouterr().out.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Figure,This period,Period before")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["report", "nosuch", "--from", "2026-11-01", "--out", "x.csv"], "no report named"),
        (["report", "standard", "--from", "2026-13-01", "--out", "x.csv"], "YYYY-MM-DD"),
        (["report", "standard", "--from", "2026-11-02", "--to", "2026-11-01", "--out", "x"], ""),
        (["report", "standard", "--from", "2026-11-01", "--format", "pdf", "--out", "-"], "CSV"),
        (["report", "standard"], "--from DATE and --out FILE"),
    ],
)
def test_wrong_requests_are_refused_with_the_reason(
    city: Path, args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(args) == 2
    assert said in capsys.readouterr().err
