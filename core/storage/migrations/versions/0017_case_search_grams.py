"""Case search for words of 1 or 2 characters (路灯, 坑): case_texts.grams (every character and
pair of neighbouring characters of the body) with a GIN index on PostgreSQL and an FTS5 table on
SQLite; backfilled from the bodies already there.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

from hotline.core.storage.case_text import grams_of
from hotline.core.storage.models.search import (
    PG_GRAMS_EXPRESSION, SQLITE_FTS, SQLITE_GRAMS, SQLITE_GRAMS_DROP,
)


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BATCH = 5000
TRIGRAM_UPDATE_TRIGGER = SQLITE_FTS[3]  # case_texts_au: re-indexes the body on every UPDATE


def _backfill(bind: sa.engine.Connection) -> None:
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                'SELECT case_id, body FROM case_texts WHERE case_id > :last '
                'ORDER BY case_id LIMIT :n'
            ),
            {'last': last, 'n': BATCH},
        ).all()
        if not rows:
            break
        bind.execute(
            sa.text('UPDATE case_texts SET grams = :grams WHERE case_id = :id'),
            [{'id': case_id, 'grams': grams_of(body or '')} for case_id, body in rows],
        )
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    op.add_column(
        'case_texts', sa.Column('grams', sa.Text(), nullable=False, server_default='')
    )
    if sqlite:  # the body does not change: its trigram index is left alone meanwhile
        op.execute('DROP TRIGGER IF EXISTS case_texts_au')
    _backfill(bind)
    if sqlite:
        op.execute(TRIGRAM_UPDATE_TRIGGER)
        for statement in SQLITE_GRAMS:
            op.execute(statement)
        op.execute("INSERT INTO case_grams_fts(case_grams_fts) VALUES ('rebuild')")
    else:
        op.execute(
            f'CREATE INDEX ix_case_texts_grams ON case_texts USING gin ({PG_GRAMS_EXPRESSION})'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_GRAMS_DROP:
            op.execute(statement)
    else:
        op.drop_index('ix_case_texts_grams', table_name='case_texts')
    op.drop_column('case_texts', 'grams')
