"""The wallboard: its settings (service level, short abandons, thresholds) and its read-only
screen links (the token's keyed digest only).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa

from hotline.core.storage.models.base import UTCDateTime


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'wallboard_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_level_seconds', sa.Integer(), nullable=False),
        sa.Column('short_abandon_seconds', sa.Integer(), nullable=False),
        sa.Column('thresholds', sa.JSON(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'wallboard_links',
        sa.Column('id', ID, nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_by', ID, nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('prefix'),
    )


def downgrade() -> None:
    op.drop_table('wallboard_links')
    op.drop_table('wallboard_settings')
