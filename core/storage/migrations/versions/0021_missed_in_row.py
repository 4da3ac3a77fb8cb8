"""Offers an agent missed in a row (after the set number the agent is set away, "missed
offers", as call centres' queues do); the agent's desk phone, which a call the agent takes is
put through to, and the call detail record's note of it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTERs (SQLite has them), as in 0019
    op.add_column(
        'agent_presence',
        sa.Column('missed_in_row', sa.Integer(), server_default='0', nullable=False),
    )
    op.add_column('agent_presence', sa.Column('desk_phone', sa.String(length=200), nullable=True))
    op.add_column(
        'call_records', sa.Column('put_through_to', sa.String(length=200), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.drop_column('put_through_to')
    with op.batch_alter_table('agent_presence') as batch:
        batch.drop_column('desk_phone')
        batch.drop_column('missed_in_row')
