"""Supervisors' listening in to calls agents take on desk phones, brokered by the phone line
(which runs the media relay) through this table.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from hotline.core.storage.models.base import UTCDateTime

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_listenings',
    sa.Column('id', ID, nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('supervisor_id', ID, nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('call_id', sa.String(length=200), nullable=True),
    sa.Column('to_tag', sa.String(length=64), nullable=True),
    sa.Column('offer', sa.Text(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('asked_at', UTCDateTime(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id']),
    sa.ForeignKeyConstraint(['item_id'], ['queue_items.id']),
    sa.ForeignKeyConstraint(['supervisor_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_listenings'))
    )
    op.create_index('ix_call_listenings_item_id', 'call_listenings', ['item_id'])
    op.create_index('ix_call_listenings_state', 'call_listenings', ['state'])


def downgrade() -> None:
    op.drop_index('ix_call_listenings_state', table_name='call_listenings')
    op.drop_index('ix_call_listenings_item_id', table_name='call_listenings')
    op.drop_table('call_listenings')
