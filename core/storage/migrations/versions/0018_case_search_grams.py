"""Case search for words of 1 or 2 characters (路灯, 坑): case_texts.grams (every character and
pair of neighbouring characters of the body: a text[] with a GIN index on PostgreSQL, a
space-separated text with an FTS5 table on SQLite); backfilled from the bodies already there.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from hotline.core.storage.case_text import grams_of
from hotline.core.storage.models.search import SQLITE_FTS, SQLITE_GRAMS, SQLITE_GRAMS_DROP


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BATCH = 5000
TRIGRAM_UPDATE_TRIGGER = SQLITE_FTS[3]  # case_texts_au: re-indexes the body on every UPDATE


def _backfill(bind: sa.engine.Connection) -> None:
    grams = "string_to_array(:grams, ' ')" if bind.dialect.name == 'postgresql' else ':grams'
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
            sa.text(f'UPDATE case_texts SET grams = {grams} WHERE case_id = :id'),
            [{'id': case_id, 'grams': grams_of(body or '')} for case_id, body in rows],
        )
        last = rows[-1][0]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    if sqlite:
        column = sa.Column('grams', sa.Text(), nullable=False, server_default='')
    else:
        column = sa.Column(
            'grams', postgresql.ARRAY(sa.Text()), nullable=False, server_default='{}'
        )
    op.add_column('case_texts', column)
    if sqlite:  # the body does not change: its trigram index is left alone meanwhile
        op.execute('DROP TRIGGER IF EXISTS case_texts_au')
    _backfill(bind)
    if sqlite:
        op.execute(TRIGRAM_UPDATE_TRIGGER)
        for statement in SQLITE_GRAMS:
            op.execute(statement)
        op.execute("INSERT INTO case_grams_fts(case_grams_fts) VALUES ('rebuild')")
    else:
        op.create_index('ix_case_texts_grams', 'case_texts', ['grams'], postgresql_using='gin')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_GRAMS_DROP:
            op.execute(statement)
    else:
        op.drop_index('ix_case_texts_grams', table_name='case_texts')
    op.drop_column('case_texts', 'grams')
