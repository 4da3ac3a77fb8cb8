"""Reading the hotline's mailboxes over IMAP (aioimaplib), each message once.

A pass: select the mailbox; when its UIDVALIDITY changed, start from the first UID again (a
message's Message-ID and content digest make a second intake of it a duplicate, traced, never
a second case); fetch
the UIDs after the stored cursor in order, a chunk at a time; turn each into a case (or hold it
for a person, or note a bounce); only then flag the chunk \\Seen on the server and move the
cursor past it. A crash before the flag fetches those messages again next time, and intake
answers "duplicate". Messages already handled by another process are therefore harmless too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import aioimaplib
from sqlalchemy import select

from hotline.core.shell.context import AppContext
from hotline.core.storage.models.intake import MailCursor

from .process import Outcome, process_message

log = logging.getLogger("hotline.channels.email")
READ_JOB = "email.read_mailboxes"
IMAP_TIMEOUT = 30.0
CHUNK = 50  # messages per FETCH; a crash re-reads at most a chunk (recognised as duplicates)
UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
FETCHED_UID = re.compile(rb"UID (\d+)")


class MailboxError(RuntimeError):
    """The mailbox could not be read; the message says why (never the password)."""


@dataclass(frozen=True)
class Mailbox:
    purpose: str  # public | director | fax
    host: str
    port: int
    username: str
    password: str
    folder: str
    tls: bool

    @classmethod
    def from_url(cls, purpose: str, url: str) -> Mailbox:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise MailboxError(f"the {purpose} mailbox URL must be imaps://user:password@host/")
        tls = parts.scheme == "imaps"
        return cls(
            purpose=purpose,
            host=parts.hostname,
            port=parts.port or (993 if tls else 143),
            username=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.strip("/")) or "INBOX",
            tls=tls,
        )


@dataclass
class PassResult:
    fetched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.fetched += 1
        self.outcomes[outcome.kind] = self.outcomes.get(outcome.kind, 0) + 1


def mailboxes(ctx: AppContext) -> list[Mailbox]:
    settings = ctx.settings
    urls = {
        "public": settings.imap_public_url,
        "director": settings.imap_director_url,
        "fax": settings.imap_fax_url,
    }
    return [Mailbox.from_url(purpose, url) for purpose, url in urls.items() if url]


async def _cursor(ctx: AppContext, mailbox: Mailbox) -> tuple[int, int]:
    async with ctx.db.session() as session:
        row = await session.get(MailCursor, mailbox.purpose)
    return (row.uidvalidity, row.last_uid) if row else (0, 0)


async def _advance(ctx: AppContext, mailbox: Mailbox, uidvalidity: int, uid: int) -> None:
    async with ctx.db.transaction() as session:
        row = await session.scalar(
            select(MailCursor).where(MailCursor.mailbox == mailbox.purpose).with_for_update()
        )
        if row is None:
            session.add(MailCursor(mailbox=mailbox.purpose, uidvalidity=uidvalidity, last_uid=uid))
        elif row.uidvalidity != uidvalidity or uid > row.last_uid:
            row.uidvalidity, row.last_uid = uidvalidity, uid


def _ok(response: aioimaplib.Response, what: str) -> None:
    if response.result != "OK":
        raise MailboxError(f"{what} refused: {response.result}")


async def connect(mailbox: Mailbox) -> aioimaplib.IMAP4:
    imap_class = aioimaplib.IMAP4_SSL if mailbox.tls else aioimaplib.IMAP4
    imap = imap_class(host=mailbox.host, port=mailbox.port, timeout=IMAP_TIMEOUT)
    try:
        await imap.wait_hello_from_server()
        _ok(await imap.login(mailbox.username, mailbox.password), "login")
    except (OSError, TimeoutError) as exc:
        raise MailboxError(f"cannot reach {mailbox.host}:{mailbox.port}: {exc}") from exc
    return imap


async def read_mailbox(ctx: AppContext, mailbox: Mailbox, *, limit: int = 500) -> PassResult:
    """One pass over one mailbox: every message after the cursor, at most ``limit``."""
    result = PassResult()
    imap = await connect(mailbox)
    try:
        selected = await imap.select(mailbox.folder)
        _ok(selected, f"select {mailbox.folder}")
        found = UIDVALIDITY.search(b"\n".join(_bytes(line) for line in selected.lines))
        uidvalidity = int(found.group(1)) if found else 0
        known_validity, last_uid = await _cursor(ctx, mailbox)
        if known_validity != uidvalidity:
            last_uid = 0  # the server renumbered: read all again, duplicates are recognised
        searched = await imap.uid_search(f"UID {last_uid + 1}:*", charset=None)
        _ok(searched, "search")
        uids = sorted(
            uid
            for line in searched.lines[:-1]
            for uid in (int(x) for x in _bytes(line).split() if x.isdigit())
            if uid > last_uid
        )[:limit]
        # a chunk at a time: one FETCH, then one STORE and one cursor move for the chunk
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start : start + CHUNK]
            fetched = await imap.uid("fetch", ",".join(map(str, chunk)), "(UID RFC822)")
            _ok(fetched, "fetch")
            messages = _messages(fetched.lines)
            for _uid, raw in messages:
                result.add(await process_message(ctx, raw, purpose=mailbox.purpose))
            _ok(await imap.uid("store", ",".join(map(str, chunk)), "+FLAGS", "(\\Seen)"), "store")
            returned = {uid for uid, _ in messages}
            missing = [uid for uid in chunk if uid not in returned]
            if missing:
                # listed by SEARCH, not given by FETCH (expunged meanwhile, or a server fault):
                # the cursor stays before it, so the next pass asks again; an operator is told
                log.warning(
                    "messages not returned by the server",
                    extra={"mailbox": mailbox.purpose, "count": len(missing)},
                )
                result.outcomes["not_returned"] = len(missing)
                await _advance(ctx, mailbox, uidvalidity, missing[0] - 1)
                break
            await _advance(ctx, mailbox, uidvalidity, chunk[-1])
    finally:
        try:
            await imap.logout()
        except (OSError, TimeoutError, aioimaplib.Abort):
            pass
    if result.fetched:
        log.info("mailbox read", extra={"mailbox": mailbox.purpose, **result.outcomes})
    return result


def _bytes(line: bytes | bytearray | str) -> bytes:
    return line.encode() if isinstance(line, str) else bytes(line)


def _messages(lines: list[bytes | bytearray | str]) -> list[tuple[int, bytes]]:
    """(UID, message) pairs of a FETCH response: each ``n FETCH (UID u RFC822 {size}`` line is
    followed by the message as a literal (aioimaplib gives literals as bytearrays)."""
    found = []
    uid = None
    for line in lines:
        if isinstance(line, bytearray):
            if uid is not None:
                found.append((uid, bytes(line)))
            uid = None
        else:
            match = FETCHED_UID.search(_bytes(line))
            uid = int(match.group(1)) if match else uid
    return found


async def read_all(ctx: AppContext) -> dict[str, PassResult]:
    """Job: one pass over every configured mailbox; one mailbox failing does not stop the
    others (it is read again on the next pass)."""
    results = {}
    for mailbox in mailboxes(ctx):
        try:
            results[mailbox.purpose] = await read_mailbox(ctx, mailbox)
        except (MailboxError, aioimaplib.Abort, OSError, TimeoutError) as exc:
            log.warning("mailbox not read", extra={"mailbox": mailbox.purpose, "why": str(exc)})
    return results


IDLE_SECONDS = 25 * 60  # under the 29 minutes RFC 2177 allows before the server may cut it


async def watch(
    mailbox: Mailbox,
    on_new: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
    *,
    idle_seconds: float = IDLE_SECONDS,
) -> None:
    """IMAP IDLE on one mailbox: call ``on_new`` whenever the server says mail arrived, until
    ``stop`` is set. Reading stays with ``read_mailbox`` (the minute's job is the fallback when
    the server has no IDLE or the connection drops)."""
    imap = await connect(mailbox)
    try:
        _ok(await imap.select(mailbox.folder), f"select {mailbox.folder}")
        while not stop.is_set():
            idle = await imap.idle_start(timeout=idle_seconds)
            arrived = False
            while imap.has_pending_idle() and not stop.is_set():
                try:
                    pushed = await imap.wait_server_push(timeout=1.0)
                except TimeoutError:
                    continue
                if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                lines = pushed if isinstance(pushed, list) else [pushed]
                if any(b"EXISTS" in _bytes(line) for line in lines):
                    arrived = True
                    break
            imap.idle_done()
            await asyncio.wait_for(idle, IMAP_TIMEOUT)
            if arrived:
                await on_new()
    finally:
        try:
            await imap.logout()
        except (OSError, TimeoutError, aioimaplib.Abort):
            pass


async def watch_all(ctx: AppContext, stop: asyncio.Event) -> None:
    """Listener: IDLE on every configured mailbox; new mail starts the reading job at once.
    A dropped connection is opened again after a pause."""

    async def one(mailbox: Mailbox) -> None:
        async def read_now() -> object:
            return await ctx.jobs.aenqueue(READ_JOB)

        while not stop.is_set():
            try:
                await watch(mailbox, read_now, stop)
            except (MailboxError, aioimaplib.Abort, OSError, TimeoutError) as exc:
                log.warning("IDLE lost", extra={"mailbox": mailbox.purpose, "why": str(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 30)

    await asyncio.gather(*(one(m) for m in mailboxes(ctx)))
