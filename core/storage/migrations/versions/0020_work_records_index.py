"""Indexes for the work records' keyset pages: queue items by when they were taken, for
everyone and for one agent.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_queue_items_assigned_at', 'queue_items', ['assigned_at'])
    op.create_index('ix_queue_items_agent_assigned', 'queue_items', ['agent_id', 'assigned_at'])


def downgrade() -> None:
    op.drop_index('ix_queue_items_agent_assigned', table_name='queue_items')
    op.drop_index('ix_queue_items_assigned_at', table_name='queue_items')
