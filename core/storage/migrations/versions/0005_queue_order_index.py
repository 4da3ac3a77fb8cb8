"""The waiting queue's index in the order the queue is read (priority descending, then waiting
since), so that the head of a long queue needs no sort.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_items', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_items_waiting')
        batch_op.create_index(
            'ix_queue_items_waiting', ['state', sa.text('priority DESC'), 'waiting_since'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('queue_items', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_items_waiting')
        batch_op.create_index(
            'ix_queue_items_waiting', ['state', 'priority', 'waiting_since'], unique=False
        )
