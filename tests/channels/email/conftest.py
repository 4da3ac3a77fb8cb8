"""The e-mail tests' mailbox on a real Dovecot, and answers through a real SMTP sink."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aioimaplib
import pytest

from hotline.channels.email.listener import Mailbox
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import AppContext, Kernel, open_context
from tests.admin.conftest import client  # noqa: F401  (the console on SQLite, one account per role)
from tests.mailservers import Dovecot, SmtpSink

OUR_ADDRESS = "12345@hotline.example.cn"


@pytest.fixture
def account(dovecot: Dovecot) -> tuple[str, str]:
    return dovecot.add_user()


@pytest.fixture
async def mail_ctx(
    settings: Settings,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp_sink: SmtpSink,
) -> AsyncIterator[AppContext]:
    configured = settings.model_copy(
        update={
            "imap_public_url": dovecot.url(*account),
            "smtp_url": smtp_sink.url,
            "mail_address": OUR_ADDRESS,
        }
    )
    async with open_context(configured, Kernel(configured)) as context:
        yield context


def public(ctx: AppContext) -> Mailbox:
    return Mailbox.from_url("public", ctx.settings.imap_public_url)


async def append(ctx: AppContext, *raws: bytes) -> None:
    box = public(ctx)
    imap = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=10)
    await imap.wait_hello_from_server()
    assert (await imap.login(box.username, box.password)).result == "OK"
    for raw in raws:
        assert (await imap.append(raw, mailbox=box.folder)).result == "OK"
    await imap.logout()
