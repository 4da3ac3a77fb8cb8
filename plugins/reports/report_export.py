"""A report as a file: CSV (the headline figures, with their change over the period before and
a year earlier, then the report's breakdown with its period before) or Excel (.xlsx: the same
on a sheet "Figures", then the contacts per medium or queue, the cases opened by channel and
kind, the breakdown, and the agents, a sheet each; a department's report has no contact or
agent sheet). Values are numbers
where a spreadsheet can sum them, in the reader's language for the words."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import xlsxwriter

from hotline.core.reference import labels
from hotline.core.reference.labels import N_

from .report import Headline, Report
from .report_chart import TITLES, caption, change, rows
from .writers import safe_cell

Say = Callable[[str], str]
LABELS = {"media": labels.MEDIA, "kind": labels.KIND}


def labeller(say: Say) -> Callable[[str, str], str]:
    """``label(field, key)``: a medium's or kind's name in the reader's language (the key
    itself when it has none, a queue's code)."""

    def label(field: str, key: str) -> str:
        found = LABELS[field].get(key)
        return say(found) if found else key

    return label


def _value(h: Headline, v: float | None) -> float | str:
    if v is None:
        return ""
    return round(v * 100, 1) if h.rate else round(v, 1)


def _change(h: Headline, then: float | None) -> float | str:
    c = h.change_over(then)
    return "" if c is None else round(c * 100, 1)


def headline_rows(report: Report, names: dict[str, str], say: Say) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [
            say(N_("Figure")),
            say(N_("This period")),
            say(N_("Period before")),
            say(N_("Change (环比)")),
            say(N_("A year earlier")),
            say(N_("Change (同比)")),
            say(N_("Unit")),
        ]
    ]
    for h in report.headlines:
        unit = "%" if h.rate else say(N_("s")) if h.seconds else ""
        rows.append(
            [
                say(names[h.key]),
                _value(h, h.now),
                _value(h, h.before),
                _change(h, h.before),
                _value(h, h.year_ago),
                _change(h, h.year_ago),
                unit,
            ]
        )
    return rows


def breakdown_rows(report: Report, say: Say, label: Callable[[str, str], str]) -> list[list[Any]]:
    """The report's breakdown: each key this period, the period before and the change (%)."""
    by = report.breakdown
    table: list[list[Any]] = [
        [
            say(TITLES[by]),
            say(N_("This period")),
            say(N_("Period before")),
            say(N_("Change (环比)")),
        ]
    ]
    for key, now, before in rows(report, by):
        moved = change(now, before)
        name = caption(report, by, key, say, label)
        table.append([safe_cell(name), now, before, "" if moved is None else round(moved * 100, 1)])
    return table


def ranking_rows(report: Report, say: Say) -> list[list[Any]]:
    """The departments ranked: rank, name, dispatched, the rates (%), urged."""
    table: list[list[Any]] = [
        [
            say(N_("Rank")),
            say(N_("Department")),
            say(N_("Dispatched")),
            say(N_("On-time completion rate")) + " (%)",
            say(N_("On-time acceptance rate")) + " (%)",
            say(N_("Return rate")) + " (%)",
            say(N_("Satisfaction rate")) + " (%)",
            say(N_("Urged")),
        ]
    ]

    def pct(rate: float | None) -> float | str:
        return "" if rate is None else round(rate * 100, 1)

    for rank, d in report.ranking:
        t = d.timeliness
        table.append(
            [
                rank,
                safe_cell(report.names.get("department", {}).get(str(d.department_id), "")),
                t.dispatched,
                pct(t.completion_rate),
                pct(t.acceptance_rate),
                pct(t.return_rate),
                pct(d.evaluations.rate),
                d.urged,
            ]
        )
    return table


def as_csv(
    report: Report, names: dict[str, str], say: Say, label: Callable[[str, str], str]
) -> bytes:
    """The figures, a blank line, then the breakdown."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in [*headline_rows(report, names, say), [], *breakdown_rows(report, say, label)]:
        writer.writerow([safe_cell(c) if isinstance(c, str) else c for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(
    report: Report, names: dict[str, str], say: Say, label: Callable[[str, str], str]
) -> bytes:
    """``label(field, key)``: a medium's, channel's or kind's name in the reader's language."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = book.add_format({"bold": True})

    def sheet(title: str, rows: list[list[Any]]) -> None:
        ws = book.add_worksheet(title[:31])
        ws.freeze_panes(1, 0)
        ws.set_column(0, 0, 28)
        ws.set_column(1, 12, 14)
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row, bold if r == 0 else None)

    sheet(say(N_("Figures")), headline_rows(report, names, say))
    if report.scope.contacts:
        sheet(say(N_("Contacts")), _contact_rows(report, say, label))
    intake: list[list[Any]] = [[say(N_("Cases opened by channel")), say(N_("Cases"))]]
    intake += [[label("media", k), n] for k, n in sorted(report.intake_channel.items())]
    intake += [[], [say(N_("Cases opened by kind")), say(N_("Cases"))]]
    intake += [[label("kind", k), n] for k, n in sorted(report.intake_kind.items())]
    sheet(say(N_("Cases opened")), intake)
    sheet(say(TITLES[report.breakdown]), breakdown_rows(report, say, label))
    if report.scope.departments:
        sheet(say(N_("Departments ranked")), ranking_rows(report, say))
    if report.scope.contacts:
        sheet(say(N_("Agents")), _agent_rows(report, say))
    book.close()
    return out.getvalue()


def _contact_rows(report: Report, say: Say, label: Callable[[str, str], str]) -> list[list[Any]]:
    contacts: list[list[Any]] = [
        [
            say(N_("Medium or queue")),
            say(N_("Offered")),
            say(N_("Answered by an agent")),
            say(N_("Abandoned")),
            say(N_("Average speed of answer")) + " (s)",
            say(N_("Average handling time")) + " (s)",
            say(N_("Service level")) + " (%)",
        ]
    ]
    for key, c in report.contacts.parts.items():
        contacts.append(
            [
                label("media", key),
                c.offered,
                c.answered,
                c.abandoned,
                "" if c.asa is None else round(c.asa, 1),
                "" if c.aht is None else round(c.aht, 1),
                "" if c.service_level is None else round(c.service_level * 100, 1),
            ]
        )
    return contacts


def _agent_rows(report: Report, say: Say) -> list[list[Any]]:
    agents: list[list[Any]] = [
        [
            say(N_("Agent")),
            say(N_("Signed in (hours)")),
            say(N_("Away (hours)")),
            say(N_("Wrap-up (hours)")),
            say(N_("Offers accepted")),
            say(N_("Missed offers")),
            say(N_("Declined")),
            say(N_("Contacts handled")),
            say(N_("Occupancy")) + " (%)",
        ]
    ]
    for name, a in report.agents:
        agents.append(
            [
                safe_cell(name),
                round(a.signed_in_seconds / 3600, 2),
                round(sum(a.away_seconds.values()) / 3600, 2),
                round(a.state_seconds.get("wrap_up", 0.0) / 3600, 2),
                a.offers.get("accepted", 0),
                a.offers.get("missed", 0),
                a.offers.get("declined", 0),
                sum(a.handled.values()),
                "" if a.occupancy is None else round(a.occupancy * 100, 1),
            ]
        )
    return agents
