"""Answers by e-mail: build the message, send it with aiosmtplib. I/O only.

Our Message-ID names the case and the outbox row and carries a signature, so a citizen's reply
(In-Reply-To / References) or a bounce that quotes it leads back to the case without a lookup
table and without trusting what anyone could type: ``<hotline.<number>.<row>.<sig>@domain>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from hotline.core.cases import tracking
from hotline.core.cases.replies import OutboundMessage
from hotline.core.storage.models.base import utcnow

SMTP_TIMEOUT = 30.0
OUR_ID = re.compile(r"^<hotline\.(\d{13})\.(\d+)\.([0-9a-f]{16})@[^<>\s]+>$")


class MailNotConfigured(RuntimeError):
    """No SMTP server or From address is set."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool  # implicit TLS (smtps)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailNotConfigured("HOTLINE_SMTP_URL must be smtp://host:port or smtps://...")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


def _signature(secret: str, number: str, row: int) -> str:
    return hmac.new(secret.encode(), f"{number}.{row}".encode(), hashlib.sha256).hexdigest()[:16]


def message_id(secret: str, number: str, row: int, domain: str) -> str:
    return f"<hotline.{number}.{row}.{_signature(secret, number, row)}@{domain}>"


def read_message_id(secret: str, value: str) -> tuple[str, int] | None:
    """(tracking number, outbox row) of one of our own Message-IDs, when its signature holds."""
    found = OUR_ID.match(value.strip())
    if found is None:
        return None
    number, row, signature = found.group(1), int(found.group(2)), found.group(3)
    if not hmac.compare_digest(signature, _signature(secret, number, row)):
        return None
    return number, row


def our_mail(sender: str, name: str, to: str, subject: str, marker: str) -> EmailMessage:
    """A message from the hotline's address, with ``X-Hotline-Case`` (``marker``): the header
    by which our own mail coming back is known and ignored."""
    local, _, host = sender.partition("@")
    mail = EmailMessage()
    mail["From"] = Address(display_name=name, username=local, domain=host)
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    mail["X-Hotline-Case"] = marker
    return mail


def build(message: OutboundMessage, *, sender: str, name: str, secret: str) -> EmailMessage:
    """The answer as an e-mail: the tracking number in the subject, our own Message-ID, and
    In-Reply-To / References to the citizen's message so it lands in their thread."""
    domain = sender.rpartition("@")[2]
    number = tracking.display(message.tracking_number)
    subject = message.subject or number
    if message.tracking_number not in tracking.clean(subject):
        subject = f"{subject} [{number}]"
    mail = our_mail(sender, name, message.contact_value, subject, message.tracking_number)
    mail["Message-ID"] = message_id(secret, message.tracking_number, message.interaction_id, domain)
    # the citizen's Message-ID, from the id intake keeps for their message
    replied = re.findall(r"<[^<>\s]+>", message.in_reply_to or "")
    if replied:
        mail["In-Reply-To"] = replied[-1]
        mail["References"] = replied[-1]
    mail["Content-Language"] = "zh-CN" if message.language.startswith("zh") else "en"
    mail.set_content(message.text)
    return mail


async def send(mail: EmailMessage, server: SmtpServer) -> str:
    """Hand the message to the SMTP server; returns its Message-ID. Raises when the server does
    not take it (the outbox job then retries with backoff)."""
    await aiosmtplib.send(
        mail,
        hostname=server.host,
        port=server.port,
        username=server.username,
        password=server.password,
        use_tls=server.tls,
        start_tls=None if not server.tls else False,
        timeout=SMTP_TIMEOUT,
    )
    return str(mail["Message-ID"])


def staff_mail(
    sender: str,
    name: str,
    to: Sequence[str],
    subject: str,
    text: str,
    attachments: Sequence[tuple[str, str, bytes]],
) -> EmailMessage:
    """A mail to staff (a scheduled report) with its files; marked auto-generated (RFC 3834)."""
    mail = our_mail(sender, name, ", ".join(to), subject, "report")
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text)
    for filename, media_type, data in attachments:
        main, _, sub = media_type.partition(";")[0].partition("/")
        mail.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return mail
