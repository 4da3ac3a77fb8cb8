"""``hotline report``: a report as a file, for cron jobs and migrations.

    hotline report --list
    hotline report NAME --from 2026-11-01 --to 2026-11-30 [--by department] --format xlsx --out F

NAME is a saved report (its breakdown and contacts' grouping are used) or ``standard`` (the
report page as it opens). CSV holds the headline figures; Excel adds a sheet per table, the
chosen breakdown with its period before (环比) among them; PDF is the printed report. Every file
written is audited as an export by the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Any

STANDARD = "standard"
FORMATS = ("csv", "xlsx", "pdf")


def add_command(subparsers: Any) -> None:
    from .report import BREAKDOWNS

    run = subparsers.add_parser(
        "report",
        help="write a report (a saved one, or 'standard') as CSV, Excel or PDF; --list lists them",
        description="Write a report for a period as a file (for cron jobs and migrations).",
    )
    run.add_argument("name", nargs="?", help="a saved report's name, or 'standard'")
    run.add_argument("--list", action="store_true", help="print the reports, one a line")
    run.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD")
    run.add_argument("--to", dest="last", metavar="DATE", help="last day (default: --from)")
    run.add_argument(
        "--by", choices=BREAKDOWNS, help="what cases opened are broken down by (default: saved)"
    )
    run.add_argument("--format", choices=FORMATS, default="csv", help="the file's format")
    run.add_argument("--out", metavar="FILE", help="where to write it ('-': standard output)")
    run.add_argument(
        "--lang", choices=("zh_CN", "en"), help="the words' language (default: the site's)"
    )
    run.set_defaults(func=_run)


def _refuse(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _run(args: argparse.Namespace) -> int:
    from hotline.core.foundation import settings as settings_mod

    settings = settings_mod.load_settings()
    if args.list:
        for line in asyncio.run(_listing(settings)):
            print(line)
        return 0
    if not args.name:
        return _refuse("name a report (hotline report --list shows them)")
    if not args.first or not args.out:
        return _refuse("--from DATE and --out FILE are needed")
    first, last = _day(args.first), _day(args.last or args.first)
    if first is None or last is None:
        return _refuse(f"--from and --to are dates as YYYY-MM-DD, not {args.first} {args.last}")
    if args.format != "csv" and args.out == "-":
        return _refuse("only CSV goes to standard output; give --out a file for Excel or PDF")
    made = asyncio.run(_make(settings, args, first, last))
    if isinstance(made, int):
        return made
    body, breakdown = made
    if args.out == "-":
        sys.stdout.buffer.write(body)
    else:
        Path(args.out).write_bytes(body)
        print(f"{args.out}: {args.name}, {first}..{last}, by {breakdown}, {args.format}")
    return 0


async def _listing(settings: Any) -> list[str]:
    from sqlalchemy import select

    from hotline.core.shell.context import open_context
    from hotline.core.storage.models.people import User
    from hotline.core.storage.models.reports import SavedReport

    lines = [f"{STANDARD}\tthe report page as it opens (breakdown by department)"]
    async with open_context(settings) as ctx, ctx.db.session() as session:
        found = await session.execute(
            select(SavedReport, User.username)
            .join(User, User.id == SavedReport.owner_id)
            .order_by(SavedReport.name, SavedReport.id)
        )
        for saved, owner in found.all():
            shared = f"shared with {saved.shared_with}" if saved.shared_with else "own"
            breakdown = saved.query.get("breakdown", "department")
            lines.append(f"{saved.name}\t{owner}, {shared}, by {breakdown}")
    return lines


async def _make(
    settings: Any, args: argparse.Namespace, first: date, last: date
) -> tuple[bytes, str] | int:
    """The file's bytes and the breakdown used, or the exit status of a refusal."""
    from sqlalchemy import select

    from hotline.core.people.audit import audit
    from hotline.core.shell.context import open_context
    from hotline.core.storage.actors import Actor
    from hotline.core.storage.enums import ActorKind
    from hotline.core.storage.models.reports import SavedReport

    from . import report_export
    from .report import BREAKDOWNS, PeriodError, build, periods
    from .report_page import as_file

    try:
        chosen = periods("custom", first, last)
    except PeriodError as wrong:
        return _refuse(f"no report for {first}..{last}: {wrong}")
    async with open_context(settings) as ctx:
        query: dict[str, Any] = {}
        if args.name != STANDARD:
            async with ctx.db.session() as session:
                saved = await session.scalar(
                    select(SavedReport)
                    .where(SavedReport.name == args.name)
                    .order_by(SavedReport.id)
                    .limit(1)
                )
            if saved is None:
                return _refuse(f"no report named {args.name!r} (hotline report --list shows them)")
            query = dict(saved.query)
        breakdown = args.by or query.get("breakdown") or BREAKDOWNS[0]
        lang = args.lang or settings.default_language
        say = ctx.catalogs.get(lang).gettext
        label = report_export.labeller(say)
        async with ctx.db.transaction() as session:
            report = await build(
                session,
                chosen,
                ctx.tz,
                by="queue" if query.get("by") == "queue" else "media",
                lang=lang,
                breakdown=breakdown if breakdown in BREAKDOWNS else BREAKDOWNS[0],
            )
            audit(
                session,
                Actor(ActorKind.SYSTEM, label="hotline report"),
                "export",
                None,
                list="report",
                filters={"name": args.name, "from": str(first), "to": str(last), "by": breakdown},
                format=args.format,
                rows=len(report.headlines) + len(report.agents),
                personal=False,
            )
    body = as_file(report, args.format, say, label)
    if body is None:
        print("no PDF: no Chinese font is installed (fonts-noto-cjk)", file=sys.stderr)
        return 1
    return body, breakdown
