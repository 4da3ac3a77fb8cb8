"""Limits and checks at the public edge: what strangers did, counted (edge_counts)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'edge_counts',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_edge_counts')),
    )
    with op.batch_alter_table('edge_counts', schema=None) as batch_op:
        batch_op.create_index('ix_edge_counts_key_at', ['key', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('edge_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_edge_counts_key_at')

    op.drop_table('edge_counts')
