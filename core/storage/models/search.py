"""What case search reads: one row per case with the words said in it (its subject, then every
interaction's text, transcripts included), kept in step by ``storage/case_text.py`` in the same
transaction as the change.

Indexed for substring search that works for Chinese (no word segmentation needed):
- PostgreSQL: a GIN ``pg_trgm`` index on ``body`` (``ILIKE '%…%'`` uses it);
- SQLite: an FTS5 table with the trigram tokenizer over ``case_texts`` (external content, kept by
  triggers), read with ``MATCH`` for terms of 3 characters or more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, ForeignKey, Index, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.storage.models.base import Base, Id

FTS_TABLE = "case_texts_fts"

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_texts_fts USING fts5("
    "body, content='case_texts', content_rowid='case_id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS case_texts_ai AFTER INSERT ON case_texts BEGIN "
    "INSERT INTO case_texts_fts(rowid, body) VALUES (new.case_id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS case_texts_ad AFTER DELETE ON case_texts BEGIN "
    "INSERT INTO case_texts_fts(case_texts_fts, rowid, body) "
    "VALUES ('delete', old.case_id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS case_texts_au AFTER UPDATE ON case_texts BEGIN "
    "INSERT INTO case_texts_fts(case_texts_fts, rowid, body) "
    "VALUES ('delete', old.case_id, old.body); "
    "INSERT INTO case_texts_fts(rowid, body) VALUES (new.case_id, new.body); END",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS case_texts_au",
    "DROP TRIGGER IF EXISTS case_texts_ad",
    "DROP TRIGGER IF EXISTS case_texts_ai",
    "DROP TABLE IF EXISTS case_texts_fts",
]
PG_TRGM = "CREATE EXTENSION IF NOT EXISTS pg_trgm"


class CaseText(Base):
    __tablename__ = "case_texts"
    __table_args__ = (
        Index(
            "ix_case_texts_trgm",
            "body",
            postgresql_using="gin",
            postgresql_ops={"body": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"), primary_key=True)
    body: Mapped[str] = mapped_column(Text, default="")


def _ddl(statement: str, dialect: str) -> Any:
    return DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


event.listen(CaseText.__table__, "before_create", _ddl(PG_TRGM, "postgresql"))
for _statement in SQLITE_FTS:
    event.listen(CaseText.__table__, "after_create", _ddl(_statement, "sqlite"))
for _statement in SQLITE_FTS_DROP:
    event.listen(CaseText.__table__, "before_drop", _ddl(_statement, "sqlite"))
