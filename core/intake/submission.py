"""What a channel hands to intake: a typed ``Submission``, and the refusal that lists every problem."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hotline.core.foundation import text as edge_text
from hotline.core.storage.enums import CaseKind, ContactKind, Media, Priority, Satisfaction


class ContactIn(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ContactKind
    value: str = Field(max_length=320)

    @field_validator("value", mode="before")
    @classmethod
    def _typed_as_seen(cls, value: object) -> object:
        """Full-width digits and letters (a Chinese input method's) are the ASCII ones."""
        return edge_text.nfkc(value).strip() if isinstance(value, str) else value


class AttachmentIn(BaseModel):
    """Raw bytes as received. The type is sniffed from the content; ``filename`` is only a label."""

    filename: str = Field("", max_length=255)
    data: bytes = Field(repr=False)


class LocationIn(BaseModel):
    text: str | None = Field(None, max_length=500)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class RatingIn(BaseModel):
    """The citizen's evaluation of the answer (回访/评价)."""

    satisfaction: Satisfaction
    comment: str = Field("", max_length=2000)


class Submission(BaseModel):
    """One inbound contact, normalised by its channel. Intake is the only thing that stores it.

    ``(channel, external_id)`` makes intake idempotent: the same pair never makes a second case.
    ``tracking_number`` appends to that case when it is open; a channel sets it only after it
    has verified the sender (a second factor, a reply on the same thread). ``rating`` evaluates
    the named case's answer, even once it is closed. ``raw`` keeps the input as received
    (an e-mail's source, a webhook's body) so nothing is lost if parsing was wrong.
    """

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_.-]*$")
    external_id: str | None = Field(None, min_length=1, max_length=255)
    kind: CaseKind = CaseKind.COMPLAINT
    subject: str = Field("", max_length=300)
    text: str = ""
    category: str | None = Field(None, max_length=32)
    language: Literal["zh_CN", "en"] | None = None
    citizen_name: str | None = Field(None, max_length=200)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=10)
    tracking_number: str | None = Field(None, max_length=32)
    location: LocationIn | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list)
    raw: bytes | None = Field(None, repr=False)
    priority: Priority = Priority.NORMAL
    contact_hidden: bool = Field(False, description="departments must not see who sent it")
    rating: RatingIn | None = Field(None, description="an evaluation of the named case's answer")
    media: Media | None = None
    skills: list[str] = Field(default_factory=list, max_length=20)
    address: str | None = Field(None, max_length=64, description="sender's network address")
    received_at: datetime | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tracking_number", mode="before")
    @classmethod
    def _number_as_typed(cls, value: object) -> object:
        return edge_text.code(value) if isinstance(value, str) else value

    @field_validator("category", mode="before")
    @classmethod
    def _code_as_typed(cls, value: object) -> object:
        return edge_text.nfkc(value).strip() if isinstance(value, str) else value


class Problem(BaseModel):
    """One reason a submission was refused: which field, a stable code, and a sentence."""

    field: str
    code: str
    message: str


class IntakeRefused(Exception):
    """Raised before anything is stored; ``problems`` names every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


def problems_from_validation(exc: ValidationError) -> list[Problem]:
    return [
        Problem(
            field=".".join(str(part) for part in err["loc"]) or "submission",
            code=str(err["type"]),
            message=str(err["msg"]),
        )
        for err in exc.errors(include_input=False)
    ]


# Fields of one line: a line break there is as wrong as any other control character.
ONE_LINE_FIELDS: tuple[str, ...] = ("channel", "external_id", "subject", "category")
ONE_LINE_FIELDS += ("citizen_name", "tracking_number", "address")


def text_problems(sub: Submission) -> list[Problem]:
    """Every field holding what is not text (NUL, other control characters, lone surrogates):
    the same refusal on SQLite and PostgreSQL, for every channel, before anything is stored."""
    problems: list[Problem] = []

    def check(field: str, value: str, one_line: bool = False) -> None:
        problem = edge_text.bad_text(value, one_line=one_line)
        if problem:
            problems.append(Problem(field=field, code=problem, message=f"{field}: {problem}"))

    for name in ONE_LINE_FIELDS:
        value = getattr(sub, name)
        if isinstance(value, str):
            check(name, value, one_line=True)
    check("text", sub.text)
    for index, contact in enumerate(sub.contacts):
        check(f"contacts.{index}", contact.value, one_line=True)
    for index, attachment in enumerate(sub.attachments):
        check(f"attachments.{index}", attachment.filename, one_line=True)
    if sub.location is not None and sub.location.text:
        check("location", sub.location.text)
    if sub.rating is not None:
        check("rating.comment", sub.rating.comment)
    for index, skill in enumerate(sub.skills):
        check(f"skills.{index}", skill, one_line=True)
    for where, value in edge_text.walk(sub.meta, "meta"):
        check(where, value)
    return problems


def parse_submission(data: dict[str, Any]) -> Submission:
    """Build a Submission from untrusted data, or raise IntakeRefused listing every problem."""
    try:
        return Submission.model_validate(data)
    except ValidationError as exc:
        raise IntakeRefused(problems_from_validation(exc)) from None
