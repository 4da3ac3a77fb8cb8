"""Tables of intake's edges: mailbox cursors, held messages and traces of messages that made no case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.storage.models.base import Base, Id, utcnow


class MailCursor(Base):
    """Where reading a mailbox stopped: its UIDVALIDITY and the last UID taken, so a restart
    fetches each new message once and skips none."""

    __tablename__ = "mail_cursors"

    mailbox: Mapped[str] = mapped_column(String(64), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HeldMessage(Base):
    """A message a channel could not turn into a case (unreadable, refused by intake): kept
    whole in the file store, listed for a person to retry or to make a case of by hand."""

    __tablename__ = "held_messages"
    __table_args__ = (Index("ix_held_messages_state", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64), default="")  # e.g. the mailbox
    external_id: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting|case|dismissed
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str] = mapped_column(String(100), default="")


class MessageTrace(Base):
    """A message that made no case of its own, kept visible for a set time: mail no person
    wrote to the hotline (auto-replies, bulk and list mail, reports, bounces, our own mail
    coming back) and second copies of a message already taken (duplicates). Its bytes are in
    the file store; a person may make a case of one wrongly ignored."""

    __tablename__ = "message_traces"
    __table_args__ = (
        Index("ix_message_traces_source", "source", "created_at"),
        Index("ix_message_traces_sha256", "sha256"),
        Index("ix_message_traces_last_seen", "last_seen_at"),  # the traces' pages
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64), default="")  # e.g. the mailbox
    reason: Mapped[str] = mapped_column(
        String(32)
    )  # auto_reply|bulk|list|report|bounce|loop|duplicate
    detail: Mapped[str] = mapped_column(String(500), default="")  # the header that shows it
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    times: Mapped[int] = mapped_column(Integer, default=1)  # the same bytes seen again
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))  # the original, or made
    state: Mapped[str] = mapped_column(String(16), default="kept")  # kept|case
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str] = mapped_column(String(100), default="")
