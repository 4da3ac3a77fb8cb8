"""The kernel's closed vocabularies. Stored as strings, so adding a value needs no migration."""

from __future__ import annotations

from enum import StrEnum


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    TELEGRAM = "telegram"
    WEBCHAT = "webchat"
    FAX = "fax"
    POSTAL = "postal"
    VISIT = "visit"


class CaseKind(StrEnum):
    COMPLAINT = "complaint"
    REPORT = "report"
    REQUEST = "request"
    CONSULTATION = "consultation"
    SUGGESTION = "suggestion"
    PRAISE = "praise"
    DIRECTOR_MAILBOX = "director_mailbox"


class CaseStatus(StrEnum):
    RECEIVED = "received"  # 受理: in the hotline, not yet dispatched
    DISPATCHED = "dispatched"  # 派单: with a department
    ACCEPTED = "accepted"  # 签收: the department signed for it
    REPLIED = "replied"  # 回复: the department answered, awaiting review
    ANSWERED = "answered"  # the answer went to the citizen
    CLOSED = "closed"  # 办结

    @property
    def is_open(self) -> bool:
        return self is not CaseStatus.CLOSED


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return {"low": 0, "normal": 1, "high": 2, "urgent": 3}[self.value]


class Channel(StrEnum):
    """Where an interaction came from or went to. Plugins may use other names too."""

    WEB = "web"
    PHONE = "phone"
    VOICEMAIL = "voicemail"
    SMS = "sms"
    EMAIL = "email"
    FAX = "fax"
    TELEGRAM = "telegram"
    WEBCHAT = "webchat"
    API = "api"
    VISIT = "visit"
    STAFF = "staff"


class Media(StrEnum):
    """What kind of contact waits in the AXD queue; decides agent capacity."""

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    SMS = "sms"
    TELEGRAM = "telegram"
    WEB_FORM = "web_form"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    FAX = "fax"


MEDIA_BY_CHANNEL: dict[str, Media] = {
    Channel.WEB: Media.WEB_FORM,
    Channel.PHONE: Media.VOICE,
    Channel.VOICEMAIL: Media.VOICEMAIL,
    Channel.SMS: Media.SMS,
    Channel.EMAIL: Media.EMAIL,
    Channel.FAX: Media.FAX,
    Channel.TELEGRAM: Media.TELEGRAM,
    Channel.WEBCHAT: Media.CHAT,
    Channel.API: Media.WEB_FORM,
}


class Direction(StrEnum):
    IN = "in"  # from the citizen
    OUT = "out"  # to the citizen
    INTERNAL = "int"  # between the hotline and departments (a department's reply and its files)


class DeliveryStatus(StrEnum):
    """Outbound interactions only."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    NO_CHANNEL = "no_channel"


class QueueState(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    DONE = "done"


class QueueOutcome(StrEnum):
    """How a contact left the queue, besides an agent finishing it (queue_items.outcome)."""

    ANSWERED = "answered"  # an agent took the call
    ABANDONED = "abandoned"  # the caller hung up while waiting
    VOICEMAIL = "voicemail"  # the caller left the queue to leave a message
    CALLBACK = "callback"  # the caller left the queue asking to be called back
    LINE_LOST = "line_lost"  # the phone line's SIP stack failed under the waiting call


class AgentState(StrEnum):
    SIGNED_OUT = "signed_out"
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"  # after-contact work, timed
    AWAY = "away"  # with a reason the administrator defines: break, meal, meeting, training


class ActorKind(StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    SYSTEM = "system"
    PLUGIN = "plugin"


class Role(StrEnum):
    AGENT = "agent"
    TEAM_LEADER = "team_leader"
    DEPARTMENT_OFFICER = "department_officer"
    DEPARTMENT_HEAD = "department_head"
    DIRECTOR_OFFICE = "director_office"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    NOT_SATISFIED = "not_satisfied"


class LimitUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
