"""Tables of the AXD queue: queue items, skill groups, agents' presence and away reasons."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.storage.enums import AgentState, QueueState
from hotline.core.storage.models.base import Base, Id, utcnow

if TYPE_CHECKING:
    from hotline.core.storage.models.cases import Case, Interaction


class QueueItem(Base):
    """A contact waiting for a person in the AXD queue (every medium in one queue)."""

    __tablename__ = "queue_items"
    # the queue's order, one direction per column as it is read (priority first, then longest
    # waiting), so that the head of a long queue is read off the index without a sort
    __table_args__ = (
        Index("ix_queue_items_waiting", "state", text("priority DESC"), "waiting_since"),
        # the work records' pages: everyone's by when taken, and one agent's
        Index("ix_queue_items_assigned_at", "assigned_at"),
        Index("ix_queue_items_agent_assigned", "agent_id", "assigned_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"))
    media: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=1)
    skills: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16), default=QueueState.WAITING)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    offered_at: Mapped[datetime | None] = mapped_column()
    offer_expires_at: Mapped[datetime | None] = mapped_column()
    declined_by: Mapped[list[str]] = mapped_column(default=list)
    waiting_since: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    # how the contact left the queue when no agent finished it: a caller who hung up while
    # waiting ("abandoned"), or chose a voicemail or a call back instead (see QueueOutcome)
    outcome: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    interaction: Mapped[Interaction | None] = relationship()


class QueueOffer(Base):
    """One offer of a queue item to an agent: when it rang, when and how it ended (see
    ``core/axd/offers.py``); ``ended_at`` is empty while it rings."""

    __tablename__ = "queue_offers"
    __table_args__ = (Index("ix_queue_offers_agent_offered", "agent_id", "offered_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    offered_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(16))


class AgentStateSpan(Base):
    """An agent in one state (and away reason) from ``started_at`` until ``ended_at`` (empty:
    still); see ``core/axd/presence_log.py``."""

    __tablename__ = "agent_state_spans"
    __table_args__ = (Index("ix_agent_state_spans_agent_started", "agent_id", "started_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None] = mapped_column()


class SkillGroup(Base):
    """A queue: the contacts needing one skill, and how they are distributed. An item belongs
    to the group of its first skill; items without a group follow the site's defaults."""

    __tablename__ = "skill_groups"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100), default="")
    name_en: Mapped[str] = mapped_column(String(100), default="")
    strategy: Mapped[str] = mapped_column(String(32), default="")  # empty: the site's default
    offer_seconds: Mapped[int] = mapped_column(Integer, default=20)
    wrap_up_seconds: Mapped[int] = mapped_column(Integer, default=30)
    # skill tiers: the best level first, one more level allowed after each such wait
    widen_after_seconds: Mapped[int] = mapped_column(Integer, default=60)
    # a regional group: callers whose number starts with one of these go to its agents first
    phone_prefixes: Mapped[list[str]] = mapped_column(default=list)


class AwayReason(Base):
    """Why an agent is away (break, meal, meeting, training...), defined by administrators."""

    __tablename__ = "away_reasons"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentPresence(Base):
    """An agent's state and what they can take, for the AXD queue."""

    __tablename__ = "agent_presence"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=AgentState.SIGNED_OUT)
    away_reason: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(default=utcnow)
    wrap_up_until: Mapped[datetime | None] = mapped_column()
    # contacts at once per medium, e.g. {"voice": 1, "chat": 3, "email": 5}
    capacity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # skill -> level (1 best), e.g. {"noise": 1, "road": 2}
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    languages: Mapped[list[str]] = mapped_column(default=list)
    last_assigned_at: Mapped[datetime | None] = mapped_column()
    missed_offers: Mapped[int] = mapped_column(Integer, default=0)
    # offers missed since the last answered one (or since becoming available)
    missed_in_row: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the agent's desk phone: a call the agent takes is put through to it. A SIP address, or
    # an extension (digits) with which the phone registers to the hotline's registrar, its
    # password kept as the SIP digest's HA1 only (``desk_ha1``, realm "hotline")
    desk_phone: Mapped[str | None] = mapped_column(String(200))
    desk_ha1: Mapped[str | None] = mapped_column(String(32))


class CallRecord(Base):
    """A call detail record: one row per call the phone line answered, written when it ends.
    The statistics (abandonment, waiting times) are computed from these and the queue items."""

    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(32), default="")  # "" when withheld
    called: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(10), default="")
    arrived_at: Mapped[datetime] = mapped_column()
    menu_path: Mapped[list[str]] = mapped_column(default=list)
    queue: Mapped[str | None] = mapped_column(String(64))  # the skill group the caller chose
    queued_at: Mapped[datetime | None] = mapped_column()
    queue_item_id: Mapped[int | None] = mapped_column(ForeignKey("queue_items.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # answered, abandoned, voicemail, callback (a QueueOutcome), or None: never queued
    left_reason: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    ended_at: Mapped[datetime] = mapped_column()
    hung_up_by: Mapped[str] = mapped_column(String(16))  # caller, line, transfer or fault
    # the agent's desk phone the call was put through to (a SIP REFER), when it was
    put_through_to: Mapped[str | None] = mapped_column(String(200))
    # the talk with the agent as the softphones' media relay saw it (the agent's first audio to
    # the end), and the interaction holding its recording; none for a desk phone's call
    talk_started_at: Mapped[datetime | None] = mapped_column()
    talk_ended_at: Mapped[datetime | None] = mapped_column()
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id"))
    # the agent put the caller on hold (the caller hears music): how often, how long in all
    holds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    on_hold_since: Mapped[datetime | None] = mapped_column()  # on hold now, since then
    # the leg of the citizen's call: "" as it arrived at the line, "transferred" (the new call an
    # agent's transfer made), "outbound" (an agent called the citizen); the line's figures
    # count a citizen's call once, by its arrival
    leg: Mapped[str] = mapped_column(String(16), default="", server_default="")


class CallTransfer(Base):
    """An agent's transfer of their call: to a queue, another agent or an outside number
    (``kind``, ``target``); ``attended`` when they talked to the target agent first. The
    agent's softphone refers the caller to the line's transfer number; the line takes it
    (``taken_at``) when the caller arrives, and only then does the queue item move. The call's
    transfers, in its detail record's terms."""

    __tablename__ = "call_transfers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id"), index=True)
    from_agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))  # queue, agent, number
    target: Mapped[str] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column()
    taken_at: Mapped[datetime | None] = mapped_column()
    attended: Mapped[bool] = mapped_column(default=False, server_default=false())


class CallListening(Base):
    """A team leader's or supervisor's listening in to a call an agent takes on a desk phone,
    which the media relay copies to their browser (a call on a softphone is listened to
    through the softphone instead: ``state`` "softphone"). The console asks (``asked``); the
    phone line, which runs the relay, finds the call and gives the relay's ``offer``
    (``offered``) or refuses (``refused``, ``error``); the browser's ``answer`` (``answered``)
    starts the listening (``listening``, ``started_at``) until the supervisor stops it
    (``stopping``) or the call ends (``ended``, ``ended_at``). ``to_tag``: the relay's
    copies are this with ``-0`` (the caller), ``-1`` (the agent)."""

    __tablename__ = "call_listenings"
    __table_args__ = (Index("ix_call_listenings_state", "state"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("queue_items.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    mode: Mapped[str] = mapped_column(String(8))  # listen, whisper, barge
    state: Mapped[str] = mapped_column(String(12), default="asked")
    error: Mapped[str | None] = mapped_column(String(200))  # why refused (a catalog message)
    call_id: Mapped[str | None] = mapped_column(String(200))  # the relay's call and our part
    to_tag: Mapped[str | None] = mapped_column(String(64))
    offer: Mapped[str | None] = mapped_column(Text)  # JSON: the relay's offers, one per party
    answer: Mapped[str | None] = mapped_column(Text)  # JSON: the browser's answers
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
