"""Search and list the hotline's cases: every word of the query must appear in what was said in
the case (its subject, a typed text, an e-mail, an OCR'd fax, a voicemail's transcript), combined
with filters (status, date range, department, channel, category, kind), paged by keyset with the
total. Works for Chinese without a segmenter, with the same results on both databases:

- PostgreSQL: ``ILIKE '%word%'`` on ``case_texts.body`` (``LIKE`` when the word has no cased
  letter, as Chinese has not: the same result, without lower-casing every row), served by its
  ``pg_trgm`` GIN index;
- SQLite: the FTS5 trigram table (``MATCH``) for words of 3 characters or more;
- a word of 1 or 2 letters or digits (路灯, 坑: no trigram) on both: the ``grams`` index (every
  character and pair of characters of the text, storage/models/search.py), by ``@>`` on
  PostgreSQL and ``MATCH`` on SQLite; other short words (``%_``) by ``LIKE`` over the text.

The total is counted up to ``COUNT_CAP``: past it the list says "more than 1000" (a word such as 路
is in most cases, and counting a million rows for every page would cost seconds; even 10,000 cost
a few hundred milliseconds on PostgreSQL); the pages still go on to the last case found.

At a million cases (benchmarks/bench_search.py) the slowest search left is PostgreSQL's count of
a common word with a filter on the case (路灯 and the status closed, ~200 ms): the planner walks
``cases`` and ``case_texts`` side by side in id order (a merge join), ~60,000 rows for 1,001
found, where starting from the grams index would read ~6,000. Lower ``random_page_cost`` (1.1,
for a database held in memory) makes it choose the index there, and a worse plan for two words.

Sealed letters to the director are never found here. The search is audited (who, how many
found; not the words, which may be personal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    TableClause,
    Text,
    cast,
    column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY, array

from hotline.core.cases.attribution import in_district, opened_by
from hotline.core.people.audit import audit
from hotline.core.storage.actors import Actor
from hotline.core.storage.case_text import is_gram
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.search import FTS_TABLE, GRAMS_TABLE, CaseText
from hotline.core.storage.paging import PAGE_SIZE, Page, Sort, keyset_page

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

MAX_TERMS = 5
SNIPPET = 60  # characters either side of the first word found
TRIGRAM = 3  # the shortest word the FTS5 trigram index can find by itself
COUNT_CAP = 1_000  # the total is exact up to here, "more than" past it

# SQLite's FTS5 table (made by DDL, see storage/models/search.py): its rowid is the case's id
FTS = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE))
GRAMS = table(GRAMS_TABLE, column("rowid", Integer), column(GRAMS_TABLE))

SORTS = {
    "newest": Sort(Case.id, Case.id),
    "oldest": Sort(Case.id, Case.id, ascending=True),
}


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    since: date | None = None  # received on or after this day
    until: date | None = None  # received on or before this day
    department_id: int | None = None
    channel: str | None = None
    category_id: int | None = None
    kind: str | None = None
    district: str | None = None  # see ``attribution``: the first district rule in its place
    agent_id: int | None = None  # who took the contact that opened the case

    def conditions(self, zone: tzinfo = UTC) -> list[ColumnElement[bool]]:
        """The days are the hotline's own (``zone``), from midnight to midnight."""
        found: list[ColumnElement[bool]] = []
        if self.status:
            found.append(Case.status == self.status)
        if self.since:
            found.append(Case.created_at >= datetime.combine(self.since, time.min, zone))
        if self.until:
            found.append(
                Case.created_at < datetime.combine(self.until + timedelta(1), time.min, zone)
            )
        if self.department_id:
            found.append(Case.department_id == self.department_id)
        if self.channel:
            found.append(Case.first_channel == self.channel)
        if self.category_id:
            found.append(Case.category_id == self.category_id)
        if self.kind:
            found.append(Case.kind == self.kind)
        if self.district:
            found.append(in_district(self.district))
        if self.agent_id:
            found.append(opened_by(self.agent_id))
        return found


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


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def snippet(text: str, term: str) -> str:
    at = text.lower().find(term.lower())
    if at < 0:
        return text[: 2 * SNIPPET]
    start, end = max(0, at - SNIPPET), at + len(term) + SNIPPET
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _sqlite_index(term: str) -> tuple[TableClause, str] | None:
    """The FTS5 table that finds ``term`` on SQLite and its MATCH phrase (None: LIKE)."""
    word = term.lower()
    if is_gram(word):
        return GRAMS, _fts_phrase(word)
    if len(term) >= TRIGRAM:
        return FTS, _fts_phrase(term)
    return None


def term_condition(dialect: str, term: str) -> ColumnElement[bool]:
    """One word's condition where no FTS5 table serves it (SQLite's are in ``_sqlite_matches``)."""
    word = term.lower()
    if is_gram(word) and dialect != "sqlite":
        return CaseText.grams.op("@>")(cast(array([word]), ARRAY(Text)))
    if term.lower() == term.upper():  # no letter with a case (路灯, 12345): LIKE, cheaper per row
        return CaseText.body.like(_like(term), escape="\\")
    return CaseText.body.ilike(_like(term), escape="\\")


def _sqlite_matches(terms: list[str]) -> list[tuple[TableClause, str]]:
    """SQLite's FTS5 tables for these words, each with one MATCH for all its words ("a" AND "b":
    FTS5 intersects them in rowid order); the table with the longest word first."""
    found: dict[str, tuple[TableClause, list[str]]] = {}
    for term in sorted(terms, key=len, reverse=True):
        index = _sqlite_index(term)
        if index is not None:
            found.setdefault(index[0].name, (index[0], []))[1].append(index[1])
    return [(index, " AND ".join(phrases)) for index, phrases in found.values()]


def search_statement(
    dialect: str, terms: list[str], filters: CaseFilters, zone: tzinfo = UTC, sort: str = "newest"
) -> tuple[Select[Case, str], Sort]:
    """The search without order or limit (cases with their text, sealed letters left out) and
    the sort to page it by.

    On SQLite the FTS5 table of the longest word drives the search: it is joined, and the pages
    follow its rowid (the case's id), which FTS5 reads in order, so a page stops after its 50
    rows and the capped count after 1,001 instead of reading every match first; the other FTS5
    table (if words of both kinds were given) is a condition, as LIKE is for other words."""
    chosen = SORTS.get(sort, SORTS["newest"])
    statement = (
        select(Case, CaseText.body)
        .join(CaseText, CaseText.case_id == Case.id)
        .where(Case.sealed.is_(False), *filters.conditions(zone))
    )
    if dialect != "sqlite":
        return statement.where(*(term_condition(dialect, t) for t in terms)), chosen
    statement = statement.where(
        *(term_condition(dialect, t) for t in terms if _sqlite_index(t) is None)
    )
    matches = _sqlite_matches(terms)
    if not matches:
        return statement, chosen
    for index, query in matches[1:]:
        found = select(index.c.rowid).where(index.c[index.name].op("MATCH")(query))
        statement = statement.where(Case.id.in_(found))
    index, query = matches[0]
    hits = index.alias("hits")
    statement = statement.join(hits, hits.c.rowid == Case.id).where(
        hits.c[index.name].op("MATCH")(query)
    )
    return statement, Sort(hits.c.rowid, hits.c.rowid, ascending=chosen.ascending)


def statement_for(
    dialect: str, terms: list[str], filters: CaseFilters, zone: tzinfo = UTC
) -> Select[Case, str]:
    """The search without order or limit (see ``search_statement``)."""
    return search_statement(dialect, terms, filters, zone)[0]


async def search_cases(
    ctx: AppContext,
    query: str,
    actor: Actor,
    filters: CaseFilters | None = None,
    *,
    after: str | None = None,
    sort: str = "newest",
    size: int = PAGE_SIZE,
) -> Page[CaseHit]:
    """One page of the cases matching every word and every filter (no words: all of them)."""
    terms = terms_of(query)
    zone = ZoneInfo(ctx.settings.timezone)
    statement, order = search_statement(ctx.db.dialect, terms, filters or CaseFilters(), zone, sort)
    async with ctx.db.transaction() as session:
        page = await keyset_page(
            session,
            statement,
            order,
            after=after,
            size=size,
            cap=COUNT_CAP,
        )
        hits = [
            CaseHit(
                case.tracking_number,
                case.subject,
                case.first_channel,
                case.status,
                case.created_at,
                snippet(body or "", terms[0]) if terms else (body or "")[: 2 * SNIPPET],
            )
            for case, body in page.rows
        ]
        if terms:
            more = {"more": True} if page.capped else {}
            audit(session, actor, "case_search", None, terms=len(terms), found=page.total, **more)
    return Page(hits, page.total, page.after, page.first, page.size, capped=page.capped)
