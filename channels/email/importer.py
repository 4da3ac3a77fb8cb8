"""``hotline mail import PATH...``: .eml files, mbox files and Maildir folders through the same
path as the IMAP reader (moving from an old system, replaying a mailbox). A message taken
before is recognised as a duplicate (and traced), never a second case; the summary says how
many became cases, additions, held items, duplicates, bounces and ignored mail (with reasons).
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PURPOSES = ("public", "director", "fax")


class ImportRefused(ValueError):
    """A path that holds no mail the importer can read; the message says why."""


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(5) == b"From "


def messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, raw message) for every message under ``path``, in a stable order."""
    if _is_maildir(path):
        box = mailbox.Maildir(str(path), factory=None, create=False)
        for key in sorted(box.keys()):
            yield f"{path}/{key}", box.get_bytes(key)
    elif path.is_dir():
        entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        for entry in entries:
            if entry.is_file() or _is_maildir(entry):
                yield from messages(entry)
    elif path.is_file():
        if _is_mbox(path):
            box = mailbox.mbox(str(path), factory=None, create=False)
            try:
                for index, key in enumerate(box.keys()):
                    yield f"{path}#{index + 1}", box.get_bytes(key)
            finally:
                box.close()
        else:
            yield str(path), path.read_bytes()
    else:
        raise ImportRefused(f"{path}: no such file or folder")


async def import_paths(ctx: Any, paths: list[Path], purpose: str) -> Counter[str]:
    """Every message under ``paths`` read as the IMAP reader reads one; what became of each."""
    from .process import process_message

    counts: Counter[str] = Counter()
    for path in paths:
        for _where, raw in messages(path):
            outcome = await process_message(ctx, raw, purpose=purpose)
            counts[outcome.kind] += 1
            if outcome.kind in ("ignored", "bounce"):
                counts[f"ignored:{outcome.reason or outcome.kind}"] += 1
    return counts


def summary(counts: Counter[str]) -> str:
    reasons = ", ".join(
        f"{key.split(':', 1)[1]} {n}" for key, n in sorted(counts.items()) if ":" in key
    )
    ignored = counts["ignored"] + counts["bounce"]
    return (
        f"{counts['case']} new cases, {counts['added']} added to their cases,"
        f" {counts['held']} held for a person, {counts['duplicate']} duplicates,"
        f" {ignored} ignored" + (f" ({reasons})" if reasons else "")
    )


def _run(args: argparse.Namespace) -> int:
    from hotline.core.foundation import settings as settings_mod
    from hotline.core.shell.context import open_context

    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    settings = settings_mod.load_settings()

    async def run() -> Counter[str]:
        async with open_context(settings) as ctx:
            return await import_paths(ctx, paths, args.mailbox)

    try:
        counts = asyncio.run(run())
    except (ImportRefused, OSError, mailbox.Error) as exc:
        print(f"import stopped: {exc}", file=sys.stderr)
        return 1
    print(f"{sum(counts[k] for k in counts if ':' not in k)} messages: {summary(counts)}")
    return 0


def add_command(subparsers: Any) -> None:
    mail = subparsers.add_parser("mail", help="e-mail: import .eml, mbox and Maildir")
    sub = mail.add_subparsers(dest="mail_command", required=True)
    run = sub.add_parser("import", help="read mail files as if they came to a mailbox")
    run.add_argument("paths", nargs="+", metavar="PATH", help=".eml file, mbox file or Maildir")
    run.add_argument(
        "--mailbox",
        choices=PURPOSES,
        default="public",
        help="the mailbox they count as (director: sealed letters; default public)",
    )
    run.set_defaults(func=_run)
