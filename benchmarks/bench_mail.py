"""Mail into cases, and fax OCR.

* ``mail_ingest``: ``--messages`` e-mails (default 10,000, made from the parser's fixtures with
  senders and Message-IDs of their own) delivered into a real Dovecot's maildir, then read into cases by
  the e-mail channel (``read_mailbox``: fetch, parse, intake, flag ``\\Seen``, move the cursor),
  messages/s. The raw baseline in the same run: the same messages fetched one by one with
  aioimaplib, the same way, with no parsing and no intake. ``mail_ingest_ratio`` is app/raw.
* ``mail_parse``: messages/s the e-mail channel reads (``parse_mail``: every header and part
  through the one decoding function, forwards and winmail.dat opened, the content digest),
  over the test corpus and the fixtures; the raw baseline is the standard library reading the
  same messages (``email.message_from_bytes`` with its default policy, the body's content).
  ``mail_parse_detect`` is the same over the messages with unlabelled bytes only (the
  charset detector runs), against the same baseline on them.
* ``fax_ocr``: seconds per page for a G3 fax page (made from text by Ghostscript) read by the
  fax channel's ``read_text``, against tesseract run directly on the same page.

SQLite, and PostgreSQL when ``HOTLINE_BENCH_PG_URL`` (default the local ``test`` server) is
reachable. Needs Dovecot, tesseract and Ghostscript (Debian packages; see deploy/test.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aioimaplib  # noqa: E402

from benchmarks.common import ratio, scratch_postgres  # noqa: E402
from hotline.core.delivery.jobs import prepare_job_tables  # noqa: E402
from hotline.core.foundation.settings import Settings  # noqa: E402
from hotline.core.shell.context import Kernel, open_context  # noqa: E402
from hotline.core.storage import migrate  # noqa: E402

FIXTURES = ROOT / "channels" / "email" / "fixtures"
TEMPLATES = (
    "01_plain_zh.eml",
    "02_plain_en.eml",
    "04_alternative.eml",
    "05_gbk_subject.eml",
    "10_rfc2231_filename.eml",
    "13_pdf_attachment.eml",
)


async def login(box):  # type: ignore[no-untyped-def]
    imap = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=60)
    await imap.wait_hello_from_server()
    assert (await imap.login(box.username, box.password)).result == "OK"
    return imap


def deliver(server, user: str, count: int) -> None:  # type: ignore[no-untyped-def]
    """Straight into the user's maildir ``new/``, as a local delivery agent does."""
    maildir = Path(server.root) / "mail" / user
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    templates = [(FIXTURES / name).read_bytes() for name in TEMPLATES]
    for number in range(count):
        raw = templates[number % len(templates)]
        # a sender of its own, as a city's mail is: one person does not write thousands
        sender = f"<citizen{number}@example.cn>".encode()
        raw = re.sub(rb"<[a-z]+@example\.(cn|org)>", sender, raw, count=1)
        head, _, rest = raw.partition(b"Message-ID: ")
        rest = rest.split(b"\r\n", 1)[1]
        unique = f"Message-ID: <bench-{number}-{uuid.uuid4().hex[:8]}@example.cn>\r\n".encode()
        (maildir / "new" / f"{1_700_000_000 + number}.M{number}.bench").write_bytes(
            head + unique + rest
        )
    if os.geteuid() == 0:
        for path in [maildir, *maildir.rglob("*")]:
            os.chown(path, server.uid, server.gid)


async def raw_fetch(box) -> int:  # type: ignore[no-untyped-def]
    imap = await login(box)
    await imap.select(box.folder)
    found = await imap.uid_search("ALL", charset=None)
    uids = [int(x) for x in bytes(found.lines[0]).split()]
    for uid in uids:
        fetched = await imap.uid("fetch", str(uid), "(RFC822)")
        assert fetched.result == "OK"
    await imap.logout()
    return len(uids)


async def app_ingest(settings: Settings, box) -> int:  # type: ignore[no-untyped-def]
    from hotline.channels.email.listener import read_mailbox

    total = 0
    async with open_context(settings, Kernel(settings)) as ctx:
        while True:
            result = await read_mailbox(ctx, box, limit=1000)
            if not result.fetched:
                return total
            total += result.fetched


def measure_mail(label: str, server, url: str | None, data: Path, count: int) -> None:  # type: ignore[no-untyped-def]
    from hotline.channels.email.listener import Mailbox

    user, password = server.add_user()
    box = Mailbox.from_url("public", server.url(user, password))
    asyncio.run(raw_fetch(box))  # the first login makes the mailbox
    deliver(server, user, count)
    start = time.perf_counter()
    fetched = asyncio.run(raw_fetch(box))
    raw_rate = fetched / (time.perf_counter() - start)
    settings = Settings(
        data_dir=data,
        database_url=url or "",
        jobs_in_process=False,
        secret_key="bench-secret-key-0123456789abcdef",
        imap_public_url=server.url(user, password),
        log_level="WARNING",
    )
    if url is None:
        migrate.upgrade(settings.db_url)
    start = time.perf_counter()
    ingested = asyncio.run(app_ingest(settings, box))
    app_rate = ingested / (time.perf_counter() - start)
    assert ingested == count, (ingested, count)
    print(f"mail_ingest_{label} {app_rate:.0f} messages/s", flush=True)
    print(f"mail_ingest_{label}_raw {raw_rate:.0f} messages/s", flush=True)
    print(f"mail_ingest_{label}_ratio {ratio(app_rate / raw_rate)}", flush=True)


CORPUS = ROOT / "tests" / "channels" / "email" / "corpus"
UNLABELLED = (
    "c07_raw_gbk_headers.eml",
    "c08_raw_latin1_subject.eml",
    "c15_unlabelled_gbk_body.eml",
)


def _stdlib_read(raw: bytes) -> str:
    import email
    import email.policy

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        body = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        return str(body.get_content()) if body is not None else ""
    except (LookupError, ValueError, TypeError, AttributeError, KeyError):
        return ""


def measure_parse(rounds: int) -> None:
    from hotline.channels.email.inbound import MailParseError, parse_mail

    def ours(raw: bytes) -> None:
        try:
            parse_mail(raw)
        except MailParseError:
            pass

    every = [p.read_bytes() for p in sorted([*CORPUS.glob("*.eml"), *FIXTURES.glob("*.eml")])]
    unlabelled = [(CORPUS / name).read_bytes() for name in UNLABELLED]
    for label, messages in (("mail_parse", every), ("mail_parse_detect", unlabelled)):
        rates = []
        for read in (ours, _stdlib_read):
            for raw in messages:  # warm up: imports, codec lookups
                read(raw)
            started = time.perf_counter()
            for _ in range(rounds):
                for raw in messages:
                    read(raw)
            rates.append(rounds * len(messages) / (time.perf_counter() - started))
        print(f"{label} {rates[0]:.0f} messages/s", flush=True)
        print(f"{label}_raw {rates[1]:.0f} messages/s", flush=True)
        print(f"{label}_ratio {ratio(rates[0] / rates[1])}", flush=True)


def measure_ocr(tmp: Path, runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    from hotline.channels.fax.convert import read_text
    from tests.channels.test_fax import FONT, g3_fax

    if not FONT.exists() or shutil.which("tesseract") is None:
        print("# fax_ocr skipped: tesseract or the Chinese font is missing", flush=True)
        return
    data = g3_fax(tmp, pages=1)
    page = tmp / "page.tif"
    page.write_bytes(data)
    app, raw = [], []
    for _ in range(runs):
        start = time.perf_counter()
        reading = read_text(data, "image/tiff")
        app.append((time.perf_counter() - start) / max(reading.pages, 1))
        start = time.perf_counter()
        subprocess.run(
            ["tesseract", str(page), "stdout", "-l", "chi_sim+eng", "--psm", "3"],
            check=True,
            capture_output=True,
        )
        raw.append(time.perf_counter() - start)
    app_s, raw_s = sorted(app)[len(app) // 2], sorted(raw)[len(raw) // 2]
    print(f"fax_ocr {app_s:.2f} s per page", flush=True)
    print(f"fax_ocr_raw {raw_s:.2f} s per page", flush=True)
    print(f"fax_ocr_ratio {ratio(raw_s / app_s)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--ocr-runs", type=int, default=3)
    parser.add_argument("--parse-rounds", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    measure_parse(args.parse_rounds)
    if not Path("/usr/sbin/dovecot").exists():
        print("# mail_ingest skipped: Dovecot is not installed", flush=True)
    else:
        from tests.mailservers import start_dovecot, stop_dovecot

        server = start_dovecot()  # as the test suite starts it
        try:
            with tempfile.TemporaryDirectory(prefix="bench-mail-") as tmp:
                measure_mail("sqlite", server, None, Path(tmp), args.messages)
            if not args.skip_postgres:
                with scratch_postgres() as database, tempfile.TemporaryDirectory() as tmp:
                    if database is not None:
                        migrate.upgrade(database[0])
                        prepare_job_tables(Settings(database_url=database[0]))
                        measure_mail("postgresql", server, database[0], Path(tmp), args.messages)
        finally:
            stop_dovecot(server)
    with tempfile.TemporaryDirectory(prefix="bench-fax-") as tmp:
        measure_ocr(Path(tmp), args.ocr_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
