"""What case search reads: one row per case with the words said in it (its subject, then every
interaction's text, transcripts included), kept in step by ``storage/case_text.py`` in the same
transaction as the change.

Indexed for substring search that works for Chinese (no word segmentation needed):
- PostgreSQL: a GIN ``pg_trgm`` index on ``body`` (``ILIKE '%…%'`` uses it);
- SQLite: an FTS5 table with the trigram tokenizer over ``case_texts`` (external content, kept by
  triggers), read with ``MATCH`` for terms of 3 characters or more.

Terms of 1 or 2 characters (路灯, 坑) have no trigram: ``grams`` lists every distinct character and
pair of neighbouring characters of the lower-cased body (letters and digits only; in Python a
space-separated string, ``storage/case_text.py`` writes it), indexed as words:
- PostgreSQL: stored as a ``text[]`` with a GIN index (read with ``grams @> ARRAY[term]``, checked
  per row without parsing anything);
- SQLite: a second FTS5 table over ``grams`` with the ``ascii`` tokenizer (every gram is one
  token: ASCII letters and digits and every non-ASCII character are token characters).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Dialect, ForeignKey, Index, Text, TypeDecorator, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeEngine

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

GRAMS_TABLE = "case_grams_fts"
SQLITE_GRAMS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_grams_fts USING fts5("
    "grams, content='case_texts', content_rowid='case_id', tokenize='ascii', detail='none')",
    "CREATE TRIGGER IF NOT EXISTS case_grams_ai AFTER INSERT ON case_texts BEGIN "
    "INSERT INTO case_grams_fts(rowid, grams) VALUES (new.case_id, new.grams); END",
    "CREATE TRIGGER IF NOT EXISTS case_grams_ad AFTER DELETE ON case_texts BEGIN "
    "INSERT INTO case_grams_fts(case_grams_fts, rowid, grams) "
    "VALUES ('delete', old.case_id, old.grams); END",
    "CREATE TRIGGER IF NOT EXISTS case_grams_au AFTER UPDATE ON case_texts BEGIN "
    "INSERT INTO case_grams_fts(case_grams_fts, rowid, grams) "
    "VALUES ('delete', old.case_id, old.grams); "
    "INSERT INTO case_grams_fts(rowid, grams) VALUES (new.case_id, new.grams); END",
]
SQLITE_GRAMS_DROP = [
    "DROP TRIGGER IF EXISTS case_grams_au",
    "DROP TRIGGER IF EXISTS case_grams_ad",
    "DROP TRIGGER IF EXISTS case_grams_ai",
    "DROP TABLE IF EXISTS case_grams_fts",
]


class Grams(TypeDecorator[str]):
    """The grams: a space-separated string in Python and on SQLite, a ``text[]`` on PostgreSQL."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Text))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is not None and dialect.name == "postgresql":
            return value.split()
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if isinstance(value, list):
            return " ".join(value)
        return value  # type: ignore[no-any-return]


class CaseText(Base):
    __tablename__ = "case_texts"
    __table_args__ = (
        Index(
            "ix_case_texts_trgm",
            "body",
            postgresql_using="gin",
            postgresql_ops={"body": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        Index("ix_case_texts_grams", "grams", postgresql_using="gin").ddl_if(dialect="postgresql"),
    )

    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"), primary_key=True)
    body: Mapped[str] = mapped_column(Text, default="")
    grams: Mapped[str] = mapped_column(Grams)  # always written by storage/case_text.py


def _ddl(statement: str, dialect: str) -> Any:
    return DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


event.listen(CaseText.__table__, "before_create", _ddl(PG_TRGM, "postgresql"))
for _statement in SQLITE_FTS + SQLITE_GRAMS:
    event.listen(CaseText.__table__, "after_create", _ddl(_statement, "sqlite"))
for _statement in SQLITE_FTS_DROP + SQLITE_GRAMS_DROP:
    event.listen(CaseText.__table__, "before_drop", _ddl(_statement, "sqlite"))
