"""Case search for Chinese and English (and indexes for the staff lists' keyset pages): case_texts (subject and every interaction's text per
case) with a pg_trgm GIN index on PostgreSQL and an FTS5 trigram table on SQLite; backfilled.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

from hotline.core.storage.case_text import rebuild
from hotline.core.storage.models.search import PG_TRGM, SQLITE_FTS, SQLITE_FTS_DROP


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(PG_TRGM)
    op.create_table(
        'case_texts',
        sa.Column(
            'case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False
        ),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    if dialect == 'postgresql':
        op.create_index(
            'ix_case_texts_trgm', 'case_texts', ['body'],
            postgresql_using='gin', postgresql_ops={'body': 'gin_trgm_ops'},
        )
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)
    # keyset paging of the staff lists
    op.create_index('ix_cases_status_updated', 'cases', ['status', 'updated_at'])
    op.create_index('ix_case_events_at', 'case_events', ['at'])
    op.create_index(
        'ix_assignments_department_dispatched', 'assignments', ['department_id', 'dispatched_at']
    )
    op.create_index('ix_message_traces_last_seen', 'message_traces', ['last_seen_at'])
    # the backfill: every case there is, in batches
    bind = op.get_bind()
    last = 0
    while True:
        ids = list(bind.execute(
            sa.text('SELECT id FROM cases WHERE id > :last ORDER BY id LIMIT :n'),
            {'last': last, 'n': BATCH},
        ).scalars())
        if not ids:
            break
        rebuild(bind, ids, with_grams=False)
        last = ids[-1]


def downgrade() -> None:
    op.drop_index('ix_message_traces_last_seen', table_name='message_traces')
    op.drop_index('ix_assignments_department_dispatched', table_name='assignments')
    op.drop_index('ix_case_events_at', table_name='case_events')
    op.drop_index('ix_cases_status_updated', table_name='cases')
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    else:
        op.drop_index('ix_case_texts_trgm', table_name='case_texts')
    op.drop_table('case_texts')
