"""What the report page's chart draws, as data: the page writes it into a JSON ``<script
type="application/json">`` (the console's CSP runs no inline script) and ``report-charts.js``
draws it with the vendored ECharts. The tables under the chart hold the same numbers, so the
page reads the same without JavaScript (and prints its server-drawn bars).

- ``line``: cases opened step by step through the period, beside the period before;
- ``bar``: the report's breakdown, this period beside the period before (环比);
- ``pie``: the report's breakdown, this period's share of each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hotline.core.reference.labels import N_

from .report import Report

Say = Callable[[str], str]
SHOWN = 12  # the biggest parts drawn; the rest summed as "Others"
NONE = {
    "department": N_("Not yet routed"),
    "category": N_("Not classified"),
    "district": N_("No district named"),
    "agent": N_("No agent took it"),
    "channel": N_("Not known"),
    "kind": N_("Not known"),
}
TITLES = {
    "department": N_("Cases opened by department"),
    "category": N_("Cases opened by service"),
    "channel": N_("Cases opened by channel"),
    "kind": N_("Cases opened by kind"),
    "district": N_("Cases opened by district"),
    "agent": N_("Cases opened by agent"),
}
# the case list filters by these (district and agent as ``core.cases.attribution`` says)
DRILLS = ("channel", "kind", "department", "category", "district", "agent")


def caption(report: Report, by: str, key: str, say: Say, label: Callable[[str, str], str]) -> str:
    """A breakdown key's name in the reader's language."""
    if not key:
        return say(NONE[by])
    if by == "channel":
        return label("media", key)
    if by == "kind":
        return label("kind", key)
    if by == "district":
        return key
    return report.names.get(by, {}).get(key, key)


def rows(report: Report, by: str) -> list[tuple[str, int, int]]:
    """(key, this period, the period before) for every key of either, most cases first."""
    now, before = report.intake(by), report.intake_before.get(by, {})
    keys = set(now) | set(before)
    found = [(k, now.get(k, 0), before.get(k, 0)) for k in keys]
    return sorted(found, key=lambda r: (-r[1], -r[2], r[0]))


def change(now: int, before: int) -> float | None:
    """环比: the change over the period before, a fraction (None when it had none)."""
    return (now - before) / before if before else None


def chart_data(
    report: Report, chart: str, say: Say, label: Callable[[str, str], str]
) -> dict[str, Any]:
    now_name, before_name = say(N_("This period")), say(N_("Period before"))
    if chart == "line" and report.series is not None:
        s = report.series
        return {
            "chart": "line",
            "title": say(N_("Cases opened over the period")),
            "labels": s.labels,
            "series": [
                {"name": now_name, "values": s.now},
                {"name": before_name, "values": s.before},
            ],
        }
    by = report.breakdown
    found = rows(report, by)
    shown, rest = found[:SHOWN], found[SHOWN:]
    labels = [caption(report, by, k, say, label) for k, _n, _b in shown]
    now = [n for _k, n, _b in shown]
    before = [b for _k, _n, b in shown]
    if rest:
        labels.append(say(N_("Others")))
        now.append(sum(n for _k, n, _b in rest))
        before.append(sum(b for _k, _n, b in rest))
    series = [{"name": now_name, "values": now}]
    if chart == "bar":
        series.append({"name": before_name, "values": before})
    return {
        "chart": "pie" if chart == "pie" else "bar",
        "title": say(TITLES[by]),
        "labels": labels,
        "series": series,
        # no case this period: a pie would be a grey disc (the table says the zeros)
        "empty": chart == "pie" and not sum(now),
    }
