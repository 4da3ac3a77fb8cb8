"""A report as PDF (fpdf2), for the mailed reports: the period, the headline figures with their
change over the period before and a year earlier, a bar chart of the cases opened by channel,
the contacts per medium or queue and the agents. Chinese needs a CJK font: Noto Sans CJK
(Debian's fonts-noto-cjk) or ``HOTLINE_REPORT_FONT``; without one there is no PDF (``None``)
and the mail says so."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotline.core.reference.labels import N_

from .report import Report
from .report_export import headline_rows, ranking_rows

Say = Callable[[str], str]
FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
)
SIMPLIFIED = 2  # Noto Sans CJK SC in the collection (JP, KR, SC, TC, HK)
BAR = (31, 78, 121)


def font() -> Path | None:
    chosen = os.environ.get("HOTLINE_REPORT_FONT")
    if chosen:
        return Path(chosen) if Path(chosen).exists() else None
    return next((path for path in FONTS if path.exists()), None)


def as_pdf(
    report: Report, names: dict[str, str], say: Say, label: Callable[[str, str], str]
) -> bytes | None:
    from fpdf import FPDF

    found = font()
    if found is None:
        return None
    pdf = FPDF(orientation="landscape")
    number = SIMPLIFIED if found.suffix == ".ttc" else 0
    pdf.add_font("cjk", "", str(found), collection_font_number=number)
    bold = found.with_name(found.name.replace("Regular", "Bold"))
    pdf.add_font("cjk", "B", str(bold if bold.exists() else found), collection_font_number=number)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    current = report.periods.current
    last = current.after.fromordinal(current.after.toordinal() - 1)
    pdf.cell(
        text=f"{say(N_('Civic Hotline'))} · {say(N_('Reports'))}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("cjk", size=10)
    pdf.cell(
        text=f"{current.first.isoformat()} – {last.isoformat()}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(3)
    _table(pdf, [[_text(c) for c in row] for row in headline_rows(report, names, say)])
    pdf.ln(4)
    _bars(
        pdf, say(N_("Cases opened by channel")), report.intake_channel, lambda k: label("media", k)
    )
    rows = [
        [
            say(N_("Medium or queue")),
            say(N_("Offered")),
            say(N_("Answered by an agent")),
            say(N_("Abandoned")),
            say(N_("Service level")) + " (%)",
        ]
    ]
    for key, c in report.contacts.parts.items():
        level = "" if c.service_level is None else f"{c.service_level * 100:.1f}"
        rows.append([label("media", key), str(c.offered), str(c.answered), str(c.abandoned), level])
    if len(rows) > 1:
        pdf.ln(4)
        _table(pdf, rows)
    agents = [
        [
            say(N_("Agent")),
            say(N_("Signed in (hours)")),
            say(N_("Offers accepted")),
            say(N_("Missed offers")),
            say(N_("Contacts handled")),
        ]
    ]
    for name, a in report.agents:
        agents.append(
            [
                name,
                f"{a.signed_in_seconds / 3600:.1f}",
                str(a.offers.get("accepted", 0)),
                str(a.offers.get("missed", 0)),
                str(sum(a.handled.values())),
            ]
        )
    if len(agents) > 1:
        pdf.ln(4)
        _table(pdf, agents)
    ranked = ranking_rows(report, say)
    if len(ranked) > 1:
        pdf.ln(4)
        pdf.cell(text=say(N_("Departments ranked")), new_x="LMARGIN", new_y="NEXT")
        _table(pdf, [[_text(c) for c in row] for row in ranked])
    return bytes(pdf.output())


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _table(pdf: Any, rows: list[list[str]]) -> None:
    with pdf.table(first_row_as_headings=True, text_align="LEFT", line_height=6) as table:
        for row in rows:
            line = table.row()
            for cell in row:
                line.cell(cell)


def _bars(pdf: Any, title: str, counts: dict[str, int], label: Callable[[str], str]) -> None:
    """A horizontal bar per key, the longest the page's half width, with its number."""
    if not counts:
        return
    doc = pdf
    doc.cell(text=title, new_x="LMARGIN", new_y="NEXT")
    top = max(counts.values())
    width = (doc.w - doc.l_margin - doc.r_margin) / 2
    doc.set_fill_color(*BAR)
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        y = doc.get_y()
        doc.cell(w=45, h=6, text=label(key))
        doc.rect(doc.l_margin + 47, y + 1, max(0.5, width * n / top), 4, style="F")
        doc.set_xy(doc.l_margin + 49 + width, y)
        doc.cell(w=20, h=6, text=str(n), new_x="LMARGIN", new_y="NEXT")
    doc.set_fill_color(255, 255, 255)  # the tables after it are not filled
