"""The export's writers on their own: Excel goes on in a second sheet past a sheet's rows, under
the same headers; what a spreadsheet would run is written as text."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from hotline.plugins.reports import writers


def test_excel_goes_on_in_another_sheet_past_a_sheets_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writers, "SHEET_ROWS", 5)  # Excel's is 1,048,576, the header included
    path = tmp_path / "out.xlsx"
    writer = writers.open_writer("xlsx", path, ["案件", "主题"], "查找工单")
    writer.write_rows([[f"n{i}", f"路灯 {i}"] for i in range(6)])
    writer.write_rows([[f"n{i}", "=1+1"] for i in range(6, 10)])
    writer.close()
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["查找工单", "查找工单 2", "查找工单 3"]
    sheets = [list(s.iter_rows(values_only=True)) for s in book.worksheets]
    assert [len(s) for s in sheets] == [5, 5, 3]
    assert all(s[0] == ("案件", "主题") for s in sheets)
    assert [r[0] for s in sheets for r in s[1:]] == [f"n{i}" for i in range(10)]
    assert sheets[2][2] == ("n9", "=1+1")
    assert book.worksheets[2]["B3"].data_type == "s"  # a string, never a formula


def test_csv_never_hands_a_formula_to_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    writer = writers.open_writer("csv", path, ["a"])
    cells = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "+8613800138000", "路灯, 坏了"]
    writer.write_rows([[c] for c in cells])
    writer.close()
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    read = [r[0] for r in csv.reader(path.open(encoding="utf-8-sig", newline=""))]
    assert read == [
        "a",
        "'=cmd|' /C calc'!A0",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "+8613800138000",
        "路灯, 坏了",
    ]
