"""Mail kept exactly once, ignored mail traced: message_traces

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('message_traces',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('times', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_message_traces_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_traces'))
    )
    with op.batch_alter_table('message_traces', schema=None) as batch_op:
        batch_op.create_index('ix_message_traces_source', ['source', 'created_at'], unique=False)
        batch_op.create_index('ix_message_traces_sha256', ['sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message_traces', schema=None) as batch_op:
        batch_op.drop_index('ix_message_traces_sha256')
        batch_op.drop_index('ix_message_traces_source')

    op.drop_table('message_traces')
