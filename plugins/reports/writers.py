"""The files an export writes, row by row with constant memory:

- CSV with the csv module, UTF-8 with a byte-order mark so that Excel opens Chinese correctly;
  a cell that a spreadsheet would take for a formula (=, +, -, @ first) is written with an
  apostrophe first (phone numbers in E.164 excepted), so what a citizen typed never runs;
- Excel (.xlsx) with XlsxWriter in ``constant_memory`` mode: each row goes to disk as it is
  written, strings are never turned into formulas, links or numbers; past Excel's 1,048,576 rows
  a sheet, the rows go on in a second sheet under the same headers.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import IO, Any, Protocol

import xlsxwriter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}
SHEET_ROWS = 1_048_576  # Excel's rows per sheet, the header included
RISKY = ("=", "+", "-", "@", "\t", "\r")
PHONE = re.compile(r"\+\d{6,15}")


class Writer(Protocol):
    def write_rows(self, rows: list[list[str]]) -> None: ...

    def close(self) -> None: ...


def safe_cell(value: str) -> str:
    if value.startswith(RISKY) and not PHONE.fullmatch(value):
        return "'" + value
    return value


class CsvWriter:
    def __init__(self, path: Path, headers: list[str]) -> None:
        self._file: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(headers)

    def write_rows(self, rows: list[list[str]]) -> None:
        self._csv.writerows([safe_cell(c) for c in row] for row in rows)

    def close(self) -> None:
        self._file.close()


class ExcelWriter:
    def __init__(self, path: Path, headers: list[str], sheet: str = "") -> None:
        self._book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "tmpdir": str(path.parent),
            },
        )
        self._headers = headers
        self._bold = self._book.add_format({"bold": True})
        self._name = sheet[:25] or "Sheet"
        self._sheets = 0
        self._row = SHEET_ROWS
        self._sheet: Any = None

    def _new_sheet(self) -> None:
        self._sheets += 1
        name = self._name if self._sheets == 1 else f"{self._name} {self._sheets}"
        self._sheet = self._book.add_worksheet(name)
        self._sheet.freeze_panes(1, 0)
        self._sheet.set_column(0, 0, 20)
        self._sheet.set_column(1, len(self._headers) - 1, 16)
        self._sheet.write_row(0, 0, self._headers, self._bold)
        self._row = 1

    def write_rows(self, rows: list[list[str]]) -> None:
        for row in rows:
            if self._row >= SHEET_ROWS:
                self._new_sheet()
            self._sheet.write_row(self._row, 0, row)
            self._row += 1

    def close(self) -> None:
        if self._sheet is None:  # no rows: the headers all the same
            self._new_sheet()
        self._book.close()


def open_writer(kind: str, path: Path, headers: list[str], sheet: str = "") -> Writer:
    if kind == "xlsx":
        return ExcelWriter(path, headers, sheet)
    return CsvWriter(path, headers)
