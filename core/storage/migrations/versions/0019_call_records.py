"""Calls in the AXD queue: how a contact left the queue (queue_items.outcome) and a call
detail record per call the phone line answered.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

from hotline.core.storage.models.base import UTCDateTime


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # plain ALTERs (SQLite has both): a batch copy of the table would lose its expression index
    op.add_column('queue_items', sa.Column('outcome', sa.String(length=16), nullable=True))
    op.create_table(
        'call_records',
        sa.Column('id', ID, nullable=False),
        sa.Column('call_id', sa.String(length=64), nullable=False),
        sa.Column('caller', sa.String(length=32), nullable=False),
        sa.Column('called', sa.String(length=32), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('arrived_at', UTCDateTime(), nullable=False),
        sa.Column('menu_path', sa.JSON(), nullable=False),
        sa.Column('queue', sa.String(length=64), nullable=True),
        sa.Column('queued_at', UTCDateTime(), nullable=True),
        sa.Column('queue_item_id', ID, nullable=True),
        sa.Column('case_id', ID, nullable=True),
        sa.Column('left_reason', sa.String(length=16), nullable=True),
        sa.Column('agent_id', ID, nullable=True),
        sa.Column('wait_seconds', sa.Float(), nullable=True),
        sa.Column('ended_at', UTCDateTime(), nullable=False),
        sa.Column('hung_up_by', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['queue_item_id'], ['queue_items.id']),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['agent_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('call_id'),
    )
    op.create_index('ix_call_records_queue_item_id', 'call_records', ['queue_item_id'])
    op.create_index('ix_call_records_case_id', 'call_records', ['case_id'])


def downgrade() -> None:
    op.drop_index('ix_call_records_case_id', table_name='call_records')
    op.drop_index('ix_call_records_queue_item_id', table_name='call_records')
    op.drop_table('call_records')
    op.drop_column('queue_items', 'outcome')
