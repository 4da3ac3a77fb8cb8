"""Agents' blind transfers of their calls (to a queue, an agent, an outside number).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from hotline.core.storage.models.base import UTCDateTime

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_transfers',
    sa.Column('id', ID, nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('from_agent_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('asked_at', UTCDateTime(), nullable=False),
    sa.Column('taken_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['from_agent_id'], ['users.id']),
    sa.ForeignKeyConstraint(['item_id'], ['queue_items.id']),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_transfers'))
    )
    op.create_index('ix_call_transfers_item_id', 'call_transfers', ['item_id'])


def downgrade() -> None:
    op.drop_index('ix_call_transfers_item_id', table_name='call_transfers')
    op.drop_table('call_transfers')
