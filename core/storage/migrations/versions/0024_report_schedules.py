"""Reports mailed each week or month to a list of addresses, and reports users keep.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

from hotline.core.storage.models.base import UTCDateTime


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'report_schedules',
        sa.Column('id', ID, nullable=False),
        sa.Column('every', sa.String(length=8), nullable=False),
        sa.Column('by', sa.String(length=8), nullable=False),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('created_by', ID, nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_period', sa.String(length=16), nullable=True),
        sa.Column('last_sent_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'saved_reports',
        sa.Column('id', ID, nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('query', sa.JSON(), nullable=False),
        sa.Column('owner_id', ID, nullable=False),
        sa.Column('shared_with', sa.String(length=32), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_saved_reports_owner_id', 'saved_reports', ['owner_id'])


def downgrade() -> None:
    op.drop_index('ix_saved_reports_owner_id', table_name='saved_reports')
    op.drop_table('saved_reports')
    op.drop_table('report_schedules')
