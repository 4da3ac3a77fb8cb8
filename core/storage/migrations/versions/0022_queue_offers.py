"""The offer log (every offer of a queue item to an agent, when it rang, how it ended) and the
agents' states over time (one span per state and away reason).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from hotline.core.storage.models.base import UTCDateTime

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('queue_offers',
    sa.Column('id', ID, nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('offered_at', UTCDateTime(), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id']),
    sa.ForeignKeyConstraint(['item_id'], ['queue_items.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_queue_offers_agent_offered', 'queue_offers', ['agent_id', 'offered_at'])
    op.create_index('ix_queue_offers_item_id', 'queue_offers', ['item_id'])
    op.create_table('agent_state_spans',
    sa.Column('id', ID, nullable=False),
    sa.Column('agent_id', ID, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(
        'ix_agent_state_spans_agent_started', 'agent_state_spans', ['agent_id', 'started_at']
    )
    op.create_index('ix_agent_state_spans_started_at', 'agent_state_spans', ['started_at'])


def downgrade() -> None:
    op.drop_index('ix_agent_state_spans_started_at', table_name='agent_state_spans')
    op.drop_index('ix_agent_state_spans_agent_started', table_name='agent_state_spans')
    op.drop_table('agent_state_spans')
    op.drop_index('ix_queue_offers_item_id', table_name='queue_offers')
    op.drop_index('ix_queue_offers_agent_offered', table_name='queue_offers')
    op.drop_table('queue_offers')
