"""Search the hotline's cases by what was said: every word of the query must appear in a
message of the case (a typed text, an e-mail, an OCR'd fax, a voicemail's transcript) or in its
subject. Sealed letters to the director are never found here. The search is audited (who, how
many found; not the words, which may be personal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select

from hotline.core.people.audit import audit
from hotline.core.storage.actors import Actor
from hotline.core.storage.models.cases import Case, Interaction

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

MAX_TERMS = 5
MAX_RESULTS = 50
SNIPPET = 60  # characters either side of the first word found


@dataclass(frozen=True)
class CaseHit:
    tracking_number: str
    subject: str
    channel: str
    status: str
    at: datetime
    snippet: str


def terms_of(query: str) -> list[str]:
    return [t for t in query.split() if t][:MAX_TERMS]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def snippet(text: str, term: str) -> str:
    at = text.lower().find(term.lower())
    if at < 0:
        return text[: 2 * SNIPPET]
    start, end = max(0, at - SNIPPET), at + len(term) + SNIPPET
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


async def search_cases(ctx: AppContext, query: str, actor: Actor) -> list[CaseHit]:
    terms = terms_of(query)
    if not terms:
        return []
    matches = [
        or_(
            Interaction.text.ilike(_like(t), escape="\\"),
            Case.subject.ilike(_like(t), escape="\\"),
        )
        for t in terms
    ]
    statement = (
        select(Case, Interaction.text)
        .join(Interaction, Interaction.case_id == Case.id)
        .where(Case.sealed.is_(False), and_(*matches))
        .order_by(Interaction.id.desc())
        .limit(MAX_RESULTS * 4)
    )
    hits: dict[str, CaseHit] = {}
    async with ctx.db.transaction() as session:
        for case, text in (await session.execute(statement)).all():
            if case.tracking_number in hits or len(hits) >= MAX_RESULTS:
                continue
            hits[case.tracking_number] = CaseHit(
                case.tracking_number,
                case.subject,
                case.first_channel,
                case.status,
                case.created_at,
                snippet(text or "", terms[0]),
            )
        audit(session, actor, "case_search", None, terms=len(terms), found=len(hits))
    return list(hits.values())
